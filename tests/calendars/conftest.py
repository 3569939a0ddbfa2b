"""Real servers for people's calendars: Radicale (CalDAV) and a published ICS file over HTTP."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from caldav.davclient import DAVClient
from icalendar import Calendar

from ..conftest import FIXTURES
from ..tools import radicale_server

CALENDARS = FIXTURES / "calendars"
# The secret part of a published address, as Google spells it: it must never show in a message.
TOKEN = "private-5f3a9c0e4b7d2a1f"
ADA_PATH = f"/calendar/ical/ada%40example.com/{TOKEN}/basic.ics"
TESS_PATH = f"/calendar/ical/tess%40example.com/{TOKEN}/basic.ics"
PASSWORDS = {"ada": "ada-Secret-Pass-1", "boss": "boss-Secret-Pass-2", "mara": "mara-Secret-Pass-3"}


@dataclass
class IcsServer:
    """A local HTTP server publishing calendars; `hits` counts the requests of each path."""

    base: str
    hits: Counter[str]

    def address(self, path: str) -> str:
        return f"{self.base}{path}"


class _Publisher(BaseHTTPRequestHandler):
    hits: Counter[str]
    # path -> (status, body, seconds to wait before answering)
    routes: dict[str, tuple[int, bytes, float]]

    def do_GET(self) -> None:
        self.hits[self.path] += 1
        status, body, wait = self.routes.get(
            self.path,
            # A 404 page that repeats the path asked, as many servers' do.
            (404, f"<html>Not Found: {self.path}</html>".encode(), 0.0),
        )
        time.sleep(wait)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/calendar; charset=utf-8" if status == 200 else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting, as it should

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def ics_server() -> Iterator[IcsServer]:
    """Published calendars on 127.0.0.1: Ada's, Tess's, a sign-in page instead of a calendar, a
    slow one; any other path answers 404."""
    ada = (CALENDARS / "ada.ics").read_bytes()
    routes = {
        ADA_PATH: (200, ada, 0.0),
        TESS_PATH: (200, (CALENDARS / "tess.ics").read_bytes(), 0.0),
        f"/garbage/{TOKEN}/basic.ics": (200, (CALENDARS / "garbage.ics").read_bytes(), 0.0),
        f"/slow/{TOKEN}/basic.ics": (200, ada, 3.0),
        f"/refused/{TOKEN}/basic.ics": (403, f"Forbidden: {TOKEN}".encode(), 0.0),
    }
    hits: Counter[str] = Counter()
    handler = type("Publisher", (_Publisher,), {"hits": hits, "routes": routes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield IcsServer(f"http://127.0.0.1:{server.server_address[1]}", hits)
    finally:
        server.shutdown()
        server.server_close()


RIGHTS = """\
# Each user reads and writes their own collections, and lists the root.
[owner]
user: .+
collection: {user}(/.*)?
permissions: RrWw

[root]
user: .+
collection:
permissions: R

# A delegate who may list Ada's calendars and see only when she is busy: the read-free-busy
# privilege, no events.
[boss-lists-ada-calendars]
user: boss
collection: ada
permissions: R

[boss-sees-ada-free-busy]
user: boss
collection: ada/[^/]+
permissions: f
"""


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real CalDAV server on 127.0.0.1 with two accounts (plain htpasswd) and a rights file."""
    folder = tmp_path_factory.mktemp("radicale")
    (folder / "users").write_text("".join(f"{user}:{password}\n" for user, password in PASSWORDS.items()))
    (folder / "rights").write_text(RIGHTS)
    access = ["--auth-type", "htpasswd", "--auth-htpasswd-filename", str(folder / "users")]
    access += [
        "--auth-htpasswd-encryption",
        "plain",
        "--rights-type",
        "from_file",
        "--rights-file",
        str(folder / "rights"),
    ]
    with radicale_server(folder, *access) as url:
        yield url


def _resources(calendar: Calendar) -> dict[str, str]:
    """One iCalendar text per UID (a series with its moved occurrences is one resource), each
    with the time zones it may use."""
    zones = calendar.walk("VTIMEZONE")
    by_uid: dict[str, Calendar] = {}
    for event in calendar.walk("VEVENT"):
        uid = str(event["UID"])
        if uid not in by_uid:
            by_uid[uid] = Calendar({"VERSION": "2.0", "PRODID": "-//strides tests//EN"})
            for zone in zones:
                by_uid[uid].add_component(zone)
        by_uid[uid].add_component(event)
    return {uid: cal.to_ical().decode() for uid, cal in by_uid.items()}


@pytest.fixture(scope="session")
def ada_calendars(radicale: str) -> dict[str, str]:
    """Ada's account in Radicale, filled through the caldav library with the events of
    tests/fixtures/calendars/ada.ics: the day off in "home", the rest in "work". Their URLs."""
    with DAVClient(url=radicale, username="ada", password=PASSWORDS["ada"], timeout=10) as client:
        principal = client.principal()
        work = principal.make_calendar(name="work", cal_id="work")
        home = principal.make_calendar(name="home", cal_id="home")
        for uid, text in _resources(Calendar.from_ical((CALENDARS / "ada.ics").read_bytes())).items():
            (home if uid.startswith("day-off") else work).save_event(text)
        return {"work": str(work.url), "home": str(home.url)}
