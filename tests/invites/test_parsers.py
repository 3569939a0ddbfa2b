"""Every invite, update and cancel the lifecycle produces is accepted by independent parsers:
icalendar, ical.js (the parser Thunderbird uses) and a real CalDAV server, Radicale."""

from __future__ import annotations

import email
import json
import subprocess
import urllib.error
import urllib.request
from base64 import b64encode
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP
from email.policy import default as default_policy

import pytest
from icalendar import Calendar

from strides.integrations.compose import compose
from strides.integrations.org_changes import load_changes
from strides.store import ledger
from strides.store.tables import MessageRow

from ..conftest import FIXTURES, ROOT, at
from ..tools import node_module, radicale_server, require
from .conftest import SENDER, Simulation


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory, sample_org, builtin_rules) -> list[tuple[MessageRow, EmailMessage]]:
    """The demo's span with its scripted changes, then every message about the changed
    meetings plus a sample of ordinary invites, built exactly as the tick builds them."""
    from strides.config import Settings
    from strides.store import Store, snapshot

    from .conftest import RecordingTransport

    folder = tmp_path_factory.mktemp("lifecycle")
    store = Store(Settings(state_dir=folder / "state").db_url)
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, sample_org)
    simulation = Simulation(store, builtin_rules, sample_org, RecordingTransport(folder / "outbox"))
    changes = load_changes(ROOT / "examples" / "org-changes.yaml")
    for _ in range(26):
        for change in changes:
            if change.day == simulation.now.date():
                simulation.change(change)
        simulation.tick(1)
    with store.session() as session:
        rows = [r for r in ledger.messages(session) if r.kind == "invite"]
    changed = {r.uid for r in rows if r.sequence > 0}
    chosen = [r for r in rows if r.uid in changed] + [r for r in rows if r.uid not in changed][::15]
    return [(row, compose(ledger.intent_of(row), simulation.org, SENDER, row.send_at)) for row in chosen]


def calendar_part(message: EmailMessage) -> bytes:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return part.get_payload(decode=True)


def test_the_lifecycle_has_requests_updates_and_both_kinds_of_cancel(lifecycle):
    seen = {
        (r.payload["meeting"]["method"], r.sequence > 0, len(r.payload["meeting"]["attendees"]))
        for r, _ in lifecycle
    }
    assert ("REQUEST", False, 2) in seen  # a new meeting
    assert ("REQUEST", True, 2) in seen  # an update
    assert ("CANCEL", True, 2) in seen  # a meeting no longer wanted
    assert ("CANCEL", True, 1) in seen  # the removed mentor's cancel


def test_mime_shape_is_what_real_organisers_send(lifecycle):
    for row, message in lifecycle:
        method = row.payload["meeting"]["method"]
        parsed = email.message_from_bytes(message.as_bytes(policy=SMTP), policy=default_policy)
        assert parsed.get_content_type() == "multipart/mixed"
        alternative, attachment = parsed.iter_parts()
        types = [p.get_content_type() for p in alternative.iter_parts()]
        assert types == ["text/plain", "text/html", "text/calendar"]
        calendar = list(alternative.iter_parts())[2]
        assert calendar.get_param("method") == method
        assert attachment.get_content_type() == "application/ics"
        assert attachment.get_payload(decode=True) == calendar_part(parsed)
        expected = {
            "REQUEST": "Updated invitation:" if row.sequence else "Invitation:",
            "CANCEL": "Canceled:",
        }
        assert parsed["Subject"].startswith(expected[method])


def test_icalendar_reads_every_message_without_component_errors(lifecycle):
    for row, message in lifecycle:
        calendar = Calendar.from_ical(calendar_part(message))
        assert calendar.errors == []
        [event] = calendar.events
        assert event.errors == []
        meeting = row.payload["meeting"]
        assert str(calendar["METHOD"]) == meeting["method"]
        assert str(event["UID"]) == meeting["uid"]
        assert int(event["SEQUENCE"]) == meeting["sequence"]
        assert str(event["STATUS"]) == ("CANCELLED" if meeting["method"] == "CANCEL" else "CONFIRMED")
        assert event.start.tzinfo is not None and str(event["DTSTART"].params["TZID"]) == meeting["timezone"]
        assert event.start == row.occurrence
        assert [str(tz["TZID"]) for tz in calendar.timezones] == [meeting["timezone"]]
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert len(attendees) == len(meeting["attendees"])


def test_icaljs_accepts_every_message(lifecycle, tmp_path):
    require(node_module("ical.js"), "Node.js with ical.js (make tools)")
    paths = []
    for index, (_, message) in enumerate(lifecycle):
        path = tmp_path / f"{index:04d}.ics"
        path.write_bytes(calendar_part(message))
        paths.append(str(path))
    script = FIXTURES / "icaljs-check.mjs"  # resolves ical.js from the project's node_modules
    answer = subprocess.run(
        ["node", str(script), *paths], capture_output=True, check=True, cwd=ROOT, timeout=120
    )
    results = json.loads(answer.stdout)
    assert [r["path"] for r in results if not r["ok"]] == []
    for (row, _), result in zip(lifecycle, results, strict=True):
        meeting = row.payload["meeting"]
        assert (result["method"], result["uid"], result["sequence"]) == (
            meeting["method"],
            meeting["uid"],
            meeting["sequence"],
        )
        assert result["tzid"] == meeting["timezone"]
        assert result["utc"].replace(".000Z", "+00:00") == row.occurrence.isoformat()


@pytest.fixture(scope="module")
def radicale(tmp_path_factory):
    """A real CalDAV server on 127.0.0.1, storing into a temporary folder."""
    import importlib.util

    require(importlib.util.find_spec("radicale"), "Radicale (pip install radicale)")
    folder = tmp_path_factory.mktemp("radicale")
    with radicale_server(folder, "--auth-type", "none", "--rights-type", "owner_only") as url:
        yield url.rstrip("/")


def _dav(method: str, url: str, body: bytes = b"") -> tuple[int, str]:
    request = urllib.request.Request(url, data=body or None, method=method)
    request.add_header("Authorization", "Basic " + b64encode(b"strides:x").decode())
    if body:
        request.add_header("Content-Type", "text/calendar; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_radicale_stores_each_invite_and_accepts_its_updates_and_cancels(lifecycle, radicale):
    calendar = f"{radicale}/strides/invites/"
    assert _dav("MKCALENDAR", calendar)[0] == 201
    stored: set[str] = set()
    by_uid_and_sequence = sorted(lifecycle, key=lambda item: (item[0].uid, item[0].sequence, item[0].id))
    for row, message in by_uid_and_sequence:
        resource = f"{calendar}{row.uid.split('@')[0]}.ics"
        status, answer = _dav("PUT", resource, calendar_part(message))
        if row.uid not in stored:
            assert status == 201, (row.key, status, answer)
            stored.add(row.uid)
        else:
            # The same UID again (another attendee's copy, an update or a cancel) replaces it.
            assert status in (201, 204), (row.key, status, answer)
    # One resource per meeting: Radicale refuses a second resource with the same UID (409).
    _, first_message = by_uid_and_sequence[0]
    status, answer = _dav("PUT", f"{calendar}duplicate.ics", calendar_part(first_message))
    assert status == 409 and "no-uid-conflict" in answer


def test_the_removed_mentor_cancel_names_only_them(lifecycle):
    cancels = [
        r for r, _ in lifecycle if r.payload["meeting"]["method"] == "CANCEL" and r.subject == "person:p003"
    ]
    assert [(r.recipient, r.payload["meeting"]["attendees"]) for r in cancels] == [("p028", ["p028"])]
    assert cancels[0].occurrence.date() == date(2027, 1, 5)
    assert cancels[0].send_at == at("2026-12-25 00:00")


@pytest.fixture(scope="module")
def organised(tmp_path_factory) -> list[bytes]:
    """Invites organised by the manager, the mentor or a fixed address (see test_organiser.py)."""
    from strides import engine
    from strides.config import Settings
    from strides.integrations.org_files import load_organisation
    from strides.integrations.rule_files import load_rules
    from strides.rules import Window
    from strides.store import Store, snapshot

    from .conftest import RecordingTransport

    folder = tmp_path_factory.mktemp("organised")
    store = Store(Settings(state_dir=folder / "state").db_url)
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, load_organisation(FIXTURES / "org-small").organisation)
    end = at("2026-12-11 00:00")
    engine.plan_window(
        store, load_rules(FIXTURES / "rules-organiser"), Window(at("2026-12-07 00:00"), end), end
    )
    transport = RecordingTransport(folder / "outbox")
    # Day by day, as ticks would (placement moves the Saturday check-in to Thursday evening).
    for day in range(8, 12):
        engine.deliver_due(store, transport, SENDER, at(f"2026-12-{day:02d} 00:00"), limit=100)
    assert len(transport.sent) == 6
    return [calendar_part(message) for message in transport.sent.values()]


def test_invites_with_an_organiser_are_read_by_icalendar_icaljs_and_stored_by_radicale(
    organised, tmp_path, radicale
):
    for ics in organised:
        calendar = Calendar.from_ical(ics)
        assert calendar.errors == [] and calendar.events[0].errors == []
    require(node_module("ical.js"), "Node.js with ical.js (make tools)")
    paths = []
    for index, ics in enumerate(organised):
        (tmp_path / f"{index}.ics").write_bytes(ics)
        paths.append(str(tmp_path / f"{index}.ics"))
    answer = subprocess.run(
        ["node", str(FIXTURES / "icaljs-check.mjs"), *paths], capture_output=True, check=True, cwd=ROOT
    )
    results = json.loads(answer.stdout)
    assert [r for r in results if not r["ok"]] == []
    assert {r["organizer"] for r in results} == {
        "mailto:ana@example.com",
        "mailto:cara@example.com",
        "mailto:growth-team@example.com",
    }
    collection = f"{radicale}/strides/organised/"
    assert _dav("MKCALENDAR", collection)[0] == 201
    for index, ics in enumerate(organised):
        uid = Calendar.from_ical(ics).events[0]["UID"]
        status, answer = _dav("PUT", f"{collection}{uid.split('@')[0]}.ics", ics)
        assert status in (201, 204), (index, status, answer)
