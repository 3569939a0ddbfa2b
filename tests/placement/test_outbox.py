"""What recipients' calendars show after weeks of ticks: no double-booking, no night, no day off or
holiday, nothing outside working hours where the hours overlap, no invite after its start.

The organisation (tests/fixtures/org-placement) has a manager with seven reports, a mentor of
five mentees, part-time people and pairs across timezones with and without an overlap of working
hours. The built-in pack and a fortnightly one-to-one with a weekly mentoring rule
(tests/fixtures/rules-one-to-one) run through the engine into a real store, in shards of two
people, ticking every six hours and delivering into an outbox, which is then read as each
recipient's calendar (tools/calendar_audit.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from strides import engine
from strides.domain.model import Organisation
from strides.domain.parse import RuleSet
from strides.integrations.compose import Sender
from strides.integrations.org_files import load_organisation
from strides.integrations.outbox import OutboxTransport
from strides.integrations.rule_files import load_rules
from strides.store import Store, skips, snapshot
from tools.calendar_audit import audit, calendars

from ..conftest import FIXTURES

START = datetime(2026, 11, 30, tzinfo=UTC)
TICK = timedelta(hours=6)
SENDER = Sender("growth@strides.example", "strides")


@pytest.fixture(scope="module")
def org() -> Organisation:
    loaded = load_organisation(FIXTURES / "org-placement")
    assert loaded.ok, loaded.rejected
    return loaded.organisation


@pytest.fixture(scope="module")
def outbox(tmp_path_factory: pytest.TempPathFactory, org: Organisation) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("placement")
    rules = RuleSet(load_rules().rules + load_rules(FIXTURES / "rules-one-to-one").rules)
    store = Store(f"sqlite:///{folder / 'strides.db'}")
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, org)
    transport = OutboxTransport(folder / "outbox")
    moment = START
    try:
        while moment < START + timedelta(days=28):
            now = moment + TICK
            window = engine.next_window(store, now, TICK, since=START if moment == START else None)
            assert window is not None
            basis = engine.plan_basis(store, rules)
            planned = 0
            for shard in engine.plan_shards(store, 2, window, basis):
                planned += engine.plan_window(store, rules, window, now, basis=basis, shard=shard).planned
            delivered = engine.deliver_due(store, transport, SENDER, now, limit=1000)
            engine.record_tick(store, now, window, planned, delivered, basis)
            moment = now
        with store.session() as session:
            causes = [f"{s.cause}: {s.reason}" for s in skips.skips(session)]
    finally:
        store.engine.dispose()
    return folder / "outbox", causes


def test_every_calendar_is_free_of_double_bookings_nights_days_off_and_holidays(
    outbox: tuple[Path, list[str]], org: Organisation
) -> None:
    found = audit(outbox[0], org)
    assert found.meetings > 60
    assert found.double_booked == []
    assert found.night == []
    assert found.day_off == []
    assert found.holiday == []
    assert found.outside_although_overlap == []
    assert found.sent_after_start == [] and found.short_notice == []


def test_the_manager_meets_each_report_and_the_mentor_each_mentee_at_their_own_time(
    outbox: tuple[Path, list[str]], org: Organisation
) -> None:
    held = calendars(outbox[0], org)
    one_to_ones = [m for m in held["mara"].values() if m.title.startswith("One-to-one")]
    # Eight reports, every other Monday over four weeks: at least two rounds each.
    assert len({m.title for m in one_to_ones}) == 8 and len(one_to_ones) >= 16
    mentoring = [m for m in held["tess"].values() if m.title.startswith("Mentoring")]
    assert len({m.title for m in mentoring}) == 5
    # Toshi (Tokyo) and Mara (Munich) never overlap: their meetings are at the least-bad slot,
    # at the edges of their days, not at night for either (checked above).
    toshi = [m for m in held["toshi"].values() if m.title.startswith("One-to-one")]
    assert toshi and all(7 <= m.start.astimezone(org.people["mara"].tz).hour < 10 for m in toshi)


def test_exceptions_are_recorded_skips_with_their_cause(outbox: tuple[Path, list[str]]) -> None:
    # No meeting went without a slot or notice; the only skips are the rules' own (no mentor,
    # an empty digest, an inhibited reminder).
    assert {line.split(":")[0] for line in outbox[1]} <= {"missing", "empty-digest", "inhibited"}, outbox[1]
