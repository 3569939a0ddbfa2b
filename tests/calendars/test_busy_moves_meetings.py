"""Busy times from people's own calendars move the meetings strides places, through the engine.

The organisation (tests/fixtures/org-busy) has a manager, Mara, whose CalDAV account (a real
Radicale server) holds a staff meeting every Monday 09:30-10:30 London, and a mentor, Tess, whose
published ICS address (a real local HTTP socket) holds a guild every Tuesday 10:45-11:45. Rob,
Nia and Tess have a one-to-one with Mara every other Monday at 10:00, and Rob and Nia a mentoring
check-in with Tess every Tuesday at 11:00 (tests/fixtures/rules-one-to-one). Nia's own published
address answers 404.
The same organisation is ticked twice into real stores and outboxes: once as it is, once with
every calendar removed, which shows where the rules meant the meetings to be.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from caldav.davclient import DAVClient

from strides import engine
from strides.config import Settings
from strides.domain.model import CalendarSource, Organisation
from strides.engine.calendars import CalendarBookings
from strides.integrations.compose import Sender
from strides.integrations.org_files import load_organisation
from strides.integrations.outbox import OutboxTransport
from strides.integrations.rule_files import load_rules
from strides.rules.placement import NoBookings
from strides.store import Store, snapshot
from tools.calendar_audit import Received, calendars

from ..conftest import FIXTURES, at
from .conftest import CALENDARS, PASSWORDS, TESS_PATH, TOKEN, IcsServer

START = datetime(2026, 11, 30, tzinfo=UTC)
TICK = timedelta(hours=12)
DAYS = 16
LONDON = ZoneInfo("Europe/London")
SENDER = Sender("growth@strides.example", "strides")
# What each calendar holds, as a calendar user reads it: (weekday, start, end) in London.
BUSY = {"mara": (0, time(9, 30), time(10, 30)), "tess": (1, time(10, 45), time(11, 45))}


def _busy(person: str, meeting: Received) -> bool:
    """Whether `meeting` overlaps the busy time of `person`'s calendar on its day."""
    weekday, first, last = BUSY[person]
    day = meeting.start.astimezone(LONDON).date()
    if day.weekday() != weekday:
        return False
    busy = datetime.combine(day, first, LONDON), datetime.combine(day, last, LONDON)
    return meeting.start < busy[1] and busy[0] < meeting.end


@pytest.fixture(scope="module")
def mara_account(radicale: str) -> str:
    """Mara's CalDAV account in Radicale, filled through the caldav library: its address."""
    with DAVClient(url=radicale, username="mara", password=PASSWORDS["mara"], timeout=10) as client:
        work = client.principal().make_calendar(name="work", cal_id="work")
        work.save_event((CALENDARS / "mara.ics").read_text())
    return f"{radicale}mara/"


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory, ics_server: IcsServer, mara_account: str) -> Organisation:
    """tests/fixtures/org-busy with the calendars' addresses on the local servers."""
    folder = tmp_path_factory.mktemp("org-busy")
    text = (FIXTURES / "org-busy" / "people.yaml").read_text()
    text = text.replace("http://caldav.test/mara/", mara_account).replace("http://ics.test", ics_server.base)
    (folder / "people.yaml").write_text(text)
    loaded = load_organisation(folder)
    assert loaded.ok, loaded.rejected
    return loaded.organisation


def _tick(folder: Path, org: Organisation) -> tuple[dict[str, dict[str, Received]], list[str], int]:
    """Tick `org` through the engine for DAYS days: what each person's calendar holds, the
    plans' calendar warnings, and how many ticks."""
    rules = load_rules(FIXTURES / "rules-one-to-one")
    store = Store(f"sqlite:///{folder / 'strides.db'}")
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, org)
    transport = OutboxTransport(folder / "outbox")
    warnings: list[str] = []
    ticks = 0
    moment = START
    try:
        while moment < START + timedelta(days=DAYS):
            now = moment + TICK
            window = engine.next_window(store, now, TICK, since=START if moment == START else None)
            assert window is not None
            basis = engine.plan_basis(store, rules)
            # One tick's reads, shared by its shards of one person each, as the tick flow does.
            reads = engine.Calendars(timeout=5)
            planned = 0
            for shard in engine.plan_shards(store, 1, window, basis):
                outcome = engine.plan_window(
                    store, rules, window, now, basis=basis, shard=shard, calendars=reads
                )
                planned += outcome.planned
                warnings += outcome.calendar_warnings
            delivered = engine.deliver_due(store, transport, SENDER, now, limit=1000)
            assert not delivered.failed
            engine.record_tick(store, now, window, planned, delivered, basis)
            ticks += 1
            moment = now
    finally:
        store.engine.dispose()
    return calendars(folder / "outbox", org), warnings, ticks


@pytest.fixture(scope="module")
def ticked(
    tmp_path_factory: pytest.TempPathFactory, org: Organisation, ics_server: IcsServer
) -> tuple[dict[str, dict[str, Received]], list[str]]:
    before = ics_server.hits[TESS_PATH]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STRIDES_TEST_CALDAV_MARA", PASSWORDS["mara"])
        held, warnings, ticks = _tick(tmp_path_factory.mktemp("with-calendars"), org)
    # Tess's calendar is read at most once a tick, whichever shards place her meetings.
    assert 0 < ics_server.hits[TESS_PATH] - before <= ticks
    return held, warnings


@pytest.fixture(scope="module")
def intended(tmp_path_factory: pytest.TempPathFactory, org: Organisation) -> dict[str, dict[str, Received]]:
    """The same ticks with no one's calendar: where the rules put the meetings."""
    people = {pid: p.model_copy(update={"calendar": None}) for pid, p in org.people.items()}
    bare = org.model_copy(update={"people": people})
    held, warnings, _ = _tick(tmp_path_factory.mktemp("without-calendars"), bare)
    assert warnings == []
    return held


def test_without_calendars_the_meetings_sit_on_the_busy_times(
    intended: dict[str, dict[str, Received]],
) -> None:
    # The rules' own times: one-to-ones on Mondays at 10:00, check-ins on Tuesdays at 11:00.
    one_to_ones = [m for m in intended["mara"].values() if m.title.startswith("One-to-one")]
    mentoring = [m for m in intended["tess"].values() if m.title.startswith("Mentoring")]
    assert len(one_to_ones) >= 2 and len(mentoring) >= 4
    assert any(m.start.astimezone(LONDON).time() == time(10) for m in one_to_ones)
    assert any(m.start.astimezone(LONDON).time() == time(11) for m in mentoring)
    assert sum(_busy("mara", m) for m in one_to_ones) >= 2
    assert sum(_busy("tess", m) for m in mentoring) >= 4


def test_busy_times_from_caldav_and_a_published_calendar_move_the_meetings_off_them(
    ticked: tuple[dict[str, dict[str, Received]], list[str]], intended: dict[str, dict[str, Received]]
) -> None:
    held = ticked[0]
    for person in BUSY:
        # The same meetings, none of them over the person's busy time.
        assert held[person].keys() == intended[person].keys()
        assert [m.title for m in held[person].values() if _busy(person, m)] == []
        # Every meeting the rules put on a busy time is somewhere else.
        moved = [uid for uid, m in intended[person].items() if _busy(person, m)]
        assert moved and all(held[person][uid].start != intended[person][uid].start for uid in moved)
    # Each to a free time of the same day, the same for every attendee.
    for person, meetings in intended.items():
        for uid, meeting in meetings.items():
            start = held[person][uid].start
            assert start.date() == meeting.start.date()
            assert all(held[other][uid].start == start for other in held if uid in held[other])


def test_an_unreadable_calendar_is_a_warning_for_its_person_and_the_tick_goes_on(
    ticked: tuple[dict[str, dict[str, Received]], list[str]], intended: dict[str, dict[str, Received]]
) -> None:
    held, warnings = ticked
    assert warnings, "Nia's calendar answers 404: a warning"
    assert all(w.startswith("person nia: calendar ics http://127.0.0.1:") for w in warnings), warnings
    assert all("404" in w and TOKEN not in w for w in warnings)
    # Nia gets every invite she would without a calendar; everyone else's are sent too.
    assert held["nia"].keys() == intended["nia"].keys() and len(held["nia"]) >= 4
    assert all(held[p].keys() == intended[p].keys() for p in intended)


LAZY = """
import sys
from datetime import UTC, datetime
from strides.domain.model import Person
from strides.engine.calendars import CalendarBookings, Calendars
from strides.engine.plan import plan_window
from strides.rules.placement import NoBookings

ada = Person(id="ada", name="Ada", email="ada@example.com", timezone="Europe/London", country="GB")
day = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
bookings = CalendarBookings(NoBookings(), {"ada": ada}, Calendars())
assert list(bookings.booked(["ada"], *day)) == []
print("strides.engine.busy" in sys.modules)
"""


def test_the_calendar_clients_are_loaded_only_for_people_who_have_a_calendar() -> None:
    # Reading calendars loads the CalDAV and HTTP clients (most of a second): an organisation
    # without calendars never pays for them.
    ran = subprocess.run([sys.executable, "-c", LAZY], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "False"


def test_a_ticks_shards_share_one_read_of_each_calendar(org: Organisation, ics_server: IcsServer) -> None:
    # Two shards of a tick ask for the ranges of the meetings each places; both lie in the
    # tick's span, which is what is read, once.
    span = START, START + timedelta(days=10)
    reads = engine.Calendars(timeout=5)
    tess = {"tess": org.people["tess"]}
    before = ics_server.hits[TESS_PATH]
    first = CalendarBookings(NoBookings(), tess, reads, span)
    second = CalendarBookings(NoBookings(), tess, reads, span)
    monday = list(first.booked(["tess"], START, START + timedelta(days=2)))
    week = list(second.booked(["tess"], START + timedelta(days=7), START + timedelta(days=9)))
    assert ics_server.hits[TESS_PATH] - before == 1
    # Each answer holds only its own range: the guild on Tuesdays 1 and 8 December.
    guild = [(b.start.astimezone(LONDON).time(), b.end.astimezone(LONDON).time()) for b in monday + week]
    assert [b.start.date().day for b in monday + week] == [1, 8]
    assert guild == [(time(10, 45), time(11, 45))] * 2
    assert all(b.person == "tess" and b.uid is None for b in monday + week)
    assert first.warnings == second.warnings == []


@pytest.mark.flow
def test_the_tick_flow_reports_unreadable_calendars_and_sends_everything(
    prefect_harness: None, settings: Settings, sample_org: Organisation, ics_server: IcsServer
) -> None:
    from strides.flows.tick import tick

    # Everyone's published address answers 404.
    gone = CalendarSource(ics=ics_server.address(f"/gone/{TOKEN}/basic.ics"))
    people = {pid: p.model_copy(update={"calendar": gone}) for pid, p in sample_org.people.items()}
    org = sample_org.model_copy(update={"people": people})
    store = Store(settings.db_url)
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, org)
    report = tick(
        now=at("2026-12-01 00:00"), settings=settings.model_dump(mode="json"), since=at("2026-11-30 00:00")
    )
    assert report["planned"] > 0 and report["sent"] > 0 and report["failed"] == 0
    unread = report["calendars_unread"]
    assert unread and all(w.startswith("person ") and "HTTP 404" in w and TOKEN not in w for w in unread)
