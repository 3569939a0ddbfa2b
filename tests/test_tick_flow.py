"""One end-to-end run of the real Prefect tick flow (under the session-wide harness)."""

from __future__ import annotations

import email
from email import policy

import icalendar
import pytest

from strides.store import Store, ledger, snapshot

from .conftest import at

pytestmark = pytest.mark.flow


def test_a_tick_plans_delivers_and_a_second_tick_sends_nothing(prefect_harness, settings, sample_org):
    from strides.flows.tick import tick

    store = Store(settings.db_url)
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, sample_org)
    # 48 people in shards of 10: planning runs as five task runs.
    parameters = settings.model_copy(update={"plan_chunk": 10}).model_dump(mode="json")

    first = tick(now=at("2026-12-01 00:00"), settings=parameters, since=at("2026-11-30 00:00"))
    assert first["planned"] > 0 and first["sent"] > 0 and first["failed"] == 0

    files = sorted(settings.outbox.glob("*.eml"))
    assert len(files) == first["sent"]
    invites = 0
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                calendar = icalendar.Calendar.from_ical(part.get_content())
                assert [c.errors for c in calendar.walk() if c.errors] == []
                invites += 1
    assert invites > 0

    # The same moment again: nothing new to plan, nothing sent twice.
    second = tick(now=at("2026-12-01 00:00"), settings=parameters, since=at("2026-11-30 00:00"))
    # Skips are recorded once too: the second tick sees them again but records none.
    assert first["skipped"] > 0 and first["skipped_new"] > 0
    assert second == {
        "planned": 0,
        "sent": 0,
        "failed": 0,
        "held_back": 0,
        "retrying": 0,
        "ambiguous": 0,
        "skipped": first["skipped"],
        "skipped_new": 0,
        "rules_given_up": [],
        "calendars_unread": [],
    }
    assert sorted(settings.outbox.glob("*.eml")) == files
    with store.session() as session:
        keys = [row.key for row in ledger.messages(session)]
    assert len(keys) == len(set(keys))


class Recorder:
    """A progress reporter that keeps what it is told."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, int | None]] = []
        self.advanced: dict[str, int] = {}

    def stage(self, name: str, total: int | None = None) -> None:
        self.stages.append((name, total))
        self.advanced[name] = 0

    def advance(self, steps: int = 1) -> None:
        self.advanced[self.stages[-1][0]] += steps


def test_a_tick_says_what_it_does_and_delivers_in_helper_processes_each_message_once(
    prefect_harness, settings, sample_org, monkeypatch
):
    import strides.flows.tick as tick_flow
    from strides.flows.progress import reporting
    from strides.flows.tick import tick

    helpers_delivered: list[int] = []
    started = tick_flow.delivery_helpers

    def delivery_helpers(*args):
        helpers = started(*args)
        if helpers is not None:
            results = helpers.results

            def counted():
                found = results()
                helpers_delivered.extend(len(part.sent) for part in found)
                return found

            helpers.results = counted
        return helpers

    monkeypatch.setattr(tick_flow, "delivery_helpers", delivery_helpers)

    store = Store(settings.db_url)
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, sample_org)
    # Chunks of 20: more than a chunk is due, so a helper process delivers beside the tasks.
    parameters = settings.model_copy(
        update={"plan_chunk": 10, "chunk_size": 20, "deliver_processes": 2}
    ).model_dump(mode="json")
    heard = Recorder()
    with reporting(heard):
        report = tick(now=at("2026-12-01 00:00"), settings=parameters, since=at("2026-11-30 00:00"))

    assert [name for name, _ in heard.stages] == ["reading the rules", "planning", "delivering"]
    assert dict(heard.stages)["planning"] == heard.advanced["planning"] == 5
    assert dict(heard.stages)["delivering"] == report["sent"] > 20
    files = sorted(settings.outbox.glob("*.eml"))
    assert len(files) == report["sent"]
    with store.session() as session:
        statuses = [row.status for row in ledger.messages(session) if row.send_at <= at("2026-12-01 00:00")]
    assert set(statuses) == {ledger.SENT} and len(statuses) == report["sent"]
    # The helper process delivered some of them (each message once, as the outbox shows).
    assert len(helpers_delivered) == 1 and 0 < helpers_delivered[0] < report["sent"]
