"""The store: migrations, the snapshot, and a ledger that never sends a message twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from strides import engine
from strides.domain.model import Organisation
from strides.integrations import DeliveryError
from strides.integrations.compose import Sender
from strides.integrations.outbox import OutboxTransport
from strides.rules import Window, plan
from strides.store import Store, StoreError, ledger, snapshot

from .conftest import at

SENDER = Sender("growth@strides.example")
WEEK = Window(at("2026-11-30 00:00"), at("2026-12-07 00:00"))


def test_migrations_create_every_table_and_are_idempotent(store: Store):
    store.migrate()
    assert store.is_current()
    tables = set(inspect(store.engine).get_table_names())
    assert {"people", "goals", "milestones", "messages", "ticks", "alembic_version"} <= tables


def test_the_revision_a_store_at_head_is_trusted_at_is_the_migrations_head(store: Store):
    from alembic.script import ScriptDirectory

    from strides.store.db import HEAD_REVISION

    assert ScriptDirectory.from_config(store.alembic_config()).get_current_head() == HEAD_REVISION
    assert store.at_head()


def test_a_store_of_the_baseline_schema_is_upgraded_with_its_meetings_indexed_by_attendee(tmp_path):
    import json

    from alembic import command

    from strides.store import invites

    store = Store(f"sqlite:///{tmp_path / 'strides.db'}")
    config = store.alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "baseline")
        attendees = [{"id": "p001", "email": "a@x.example", "partstat": "ACCEPTED"}, {"id": "p002"}]
        connection.exec_driver_sql(
            'INSERT INTO invites (uid, rule_id, subject, bucket, sequence, status, start, "end", timezone,'
            " title, body, attendees, organiser, created_at, updated_at) VALUES ('u1@strides', 'r',"
            " 'person:p002', 0, 0, 'active', '2026-12-03 10:00:00', '2026-12-03 10:30:00', 'UTC', 't', 'b',"
            " ?, NULL, '2026-12-01 00:00:00', '2026-12-01 00:00:00')",
            (json.dumps(attendees),),
        )
    store.migrate()
    assert store.is_current()
    with store.session() as session:
        assert [r.uid for r in invites.meetings(session, person="p002")] == ["u1@strides"]
        assert [r.uid for r in invites.meetings(session, person="p001")] == ["u1@strides"]
        assert invites.meetings(session, person="p003") == []


@pytest.mark.parametrize("revision", ["0012", "0004"])
def test_a_store_made_by_a_development_version_is_refused_with_how_to_start_afresh(tmp_path, revision):
    """The development revisions before 0.1.0 were squashed into one baseline; their stores are
    not upgraded, and the error says so instead of Alembic's traceback."""
    path = tmp_path / "strides.db"
    store = Store(f"sqlite:///{path}")
    with store.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.exec_driver_sql(f"INSERT INTO alembic_version VALUES ('{revision}')")
    with pytest.raises(StoreError) as refused:
        store.migrate()
    message = str(refused.value)
    assert "made by an unreleased development version of strides" in message
    assert f"schema revision {revision}" in message
    assert f"remove {path} (strides.db in the state folder)" in message
    assert "run strides again" in message
    assert not store.is_current()


def test_a_store_made_by_a_newer_strides_is_refused(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'strides.db'}")
    store.migrate()
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00dcafe'")
    with pytest.raises(StoreError, match=r"made by a newer version of strides \(schema revision f00dcafe\)"):
        store.migrate()


def test_the_snapshot_round_trips(loaded_store: Store, sample_org):
    with loaded_store.session() as session:
        assert snapshot.load_organisation(session) == sample_org


def test_recording_the_same_plan_twice_adds_nothing(loaded_store: Store, sample_org, builtin_rules):
    first = engine.plan_window(loaded_store, builtin_rules, WEEK, WEEK.end)
    assert first.planned > 0
    again = engine.plan_window(loaded_store, builtin_rules, WEEK, WEEK.end)
    assert again.planned == 0
    # Even when the planner is not told what the ledger holds, the unique key refuses duplicates.
    intents = [i for i in plan(builtin_rules, sample_org, WEEK).intents if i.meeting is None]
    with loaded_store.session() as session:
        assert ledger.record(session, intents, sample_org, WEEK.end) == 0
        assert len(ledger.messages(session)) == first.planned


def test_delivery_sends_each_message_once(loaded_store: Store, builtin_rules, tmp_path):
    engine.plan_window(loaded_store, builtin_rules, WEEK, WEEK.end)
    outbox = OutboxTransport(tmp_path / "outbox")
    first = engine.deliver_due(loaded_store, outbox, SENDER, WEEK.end, limit=10_000)
    second = engine.deliver_due(loaded_store, outbox, SENDER, WEEK.end, limit=10_000)
    assert len(first.sent) > 0 and first.failed == []
    assert second.claimed == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(first.sent)
    with loaded_store.session() as session:
        assert {r.status for r in ledger.messages(session)} == {"sent"}


def test_nothing_is_sent_before_its_time(loaded_store: Store, builtin_rules, tmp_path):
    engine.plan_window(loaded_store, builtin_rules, WEEK, WEEK.end)
    early = engine.deliver_due(loaded_store, OutboxTransport(tmp_path), SENDER, WEEK.start, limit=10_000)
    assert all(s.occurrence >= WEEK.start for s in early.sent)
    with loaded_store.session() as session:
        pending = ledger.messages(session, status="pending")
    assert pending and all(r.send_at > WEEK.start for r in pending)


class Refusing:
    """A transport that refuses some keys, temporarily or for good."""

    name = "refusing"

    def __init__(self, permanent: bool) -> None:
        self.permanent = permanent
        self.accepted: list[str] = []

    def send(self, key: str, message: EmailMessage, label: str) -> str:
        if not self.accepted:
            self.accepted.append("first-is-refused")
            raise DeliveryError(key, "550 mailbox unavailable", permanent=self.permanent)
        self.accepted.append(key)
        return key


@pytest.mark.parametrize(("permanent", "status"), [(True, "dead"), (False, "failed")])
def test_a_refused_message_is_recorded_and_the_rest_goes_on(loaded_store, builtin_rules, permanent, status):
    engine.plan_window(loaded_store, builtin_rules, WEEK, WEEK.end)
    transport = Refusing(permanent)
    outcome = engine.deliver_due(loaded_store, transport, SENDER, WEEK.end, limit=50)
    assert len(outcome.failed) == 1 and len(outcome.sent) == outcome.claimed - 1
    with loaded_store.session() as session:
        (refused,) = ledger.messages(session, status=status)
    assert refused.last_error.startswith("550 mailbox unavailable")
    # A failure for now is tried again after a wait (about five minutes), never at once.
    soon = engine.deliver_due(loaded_store, transport, SENDER, WEEK.end + timedelta(minutes=1), limit=50)
    assert refused.key not in {s.key for s in soon.sent}
    retry = engine.deliver_due(
        loaded_store, transport, SENDER, WEEK.end + timedelta(minutes=10), limit=10_000
    )
    retried = [s.key for s in retry.sent if s.key == refused.key]
    assert retried == ([] if permanent else [refused.key])


def test_a_claim_left_by_a_crashed_worker_is_taken_over(loaded_store, builtin_rules, tmp_path):
    engine.plan_window(loaded_store, builtin_rules, WEEK, WEEK.end)
    with loaded_store.session() as session:
        crashed = ledger.claim(session, WEEK.end, limit=5)  # ...and the worker dies here
    assert len(crashed.rows) == 5
    outbox = OutboxTransport(tmp_path)
    soon = engine.deliver_due(loaded_store, outbox, SENDER, WEEK.end + timedelta(minutes=1), limit=10_000)
    assert not {s.key for s in soon.sent} & {r.key for r in crashed.rows}
    later = engine.deliver_due(loaded_store, outbox, SENDER, WEEK.end + timedelta(minutes=11), limit=10_000)
    assert {s.key for s in later.sent} == {r.key for r in crashed.rows}


def test_windows_follow_each_other(loaded_store: Store):
    first = engine.next_window(loaded_store, WEEK.end, timedelta(days=1))
    assert first == Window(WEEK.end - timedelta(days=1), WEEK.end)
    engine.record_tick(loaded_store, WEEK.end, first, 0, engine.DeliveryOutcome())
    assert engine.next_window(loaded_store, WEEK.end, timedelta(days=1)) is None
    later = WEEK.end + timedelta(hours=3)
    assert engine.next_window(loaded_store, later, timedelta(days=1)) == Window(WEEK.end, later)


def test_planning_reads_sqlite_through_a_memory_map_only_while_it_plans(store: Store) -> None:
    """`mapped_reads` maps the file and widens the page cache, and puts both back after."""
    from strides.speed import CACHE_KIB, MMAP_BYTES, mapped_reads

    def pragma(session: Session, name: str) -> int:
        return int(session.connection().exec_driver_sql(f"PRAGMA {name}").scalar() or 0)

    with store.session() as session:
        cache = pragma(session, "cache_size")
        with mapped_reads(session):
            assert pragma(session, "mmap_size") == MMAP_BYTES
            assert pragma(session, "cache_size") == -CACHE_KIB
        assert pragma(session, "mmap_size") == 0
        assert pragma(session, "cache_size") == cache


def test_a_bulk_save_on_postgresql_gives_its_query_planner_statistics() -> None:
    """Without statistics PostgreSQL planned a milestone lookup by goal as a scan of every
    milestone due so far; a save that changes a table in bulk analyzes it, a small one does not."""
    from sqlalchemy import text

    from tools.synthetic import Shape, generate

    from .postgres import throwaway_store

    org = generate(Shape(people=300), seed=3)
    statistics = text(
        "SELECT tablename, count(*) FROM pg_stats WHERE schemaname = current_schema() GROUP BY tablename"
    )
    with throwaway_store() as store:
        with store.session() as session:
            snapshot.save_organisation(session, org)
            after_load = dict(session.execute(statistics).all())
            assert {"people", "goals", "milestones", "mentorships"} <= after_load.keys()
            session.execute(text("DELETE FROM pg_statistic WHERE starelid = 'goals'::regclass"))
        first = next(iter(org.goals.values()))
        changed = org.model_copy(
            update={"goals": {**org.goals, first.id: first.model_copy(update={"title": "Moved on"})}}
        )
        with store.session() as session:
            snapshot.save_organisation(session, changed)
            assert "goals" not in dict(session.execute(statistics).all())


def test_a_person_s_own_choices_outlast_the_next_hr_sync_and_are_audited(
    loaded_store: Store, sample_org: Organisation
) -> None:
    from strides.domain.choices import OwnChoices
    from strides.store import preferences, slices

    person = next(iter(sample_org.people))
    now = datetime(2026, 12, 1, 10, tzinfo=UTC)
    with loaded_store.session() as session:
        seen = snapshot.last_change(session)
        chosen = OwnChoices(digest_weekday=3, locale="de", declined=("weekly-self-review",))
        changed = preferences.choose(session, person, chosen, "person (preference page)", now)
        assert preferences.choose(session, person, chosen, "person (preference page)", now) == []
    assert changed == ["digest_weekday", "locale", "declined"]
    with loaded_store.session() as session:
        # Logged for the next tick, which plans this person again.
        assert [(c.kind, c.ident) for c in snapshot.changes_after(session, seen, 10**9)] == [
            ("person", person)
        ]
        # The organisation's file says otherwise; the person's own choice stands, and nothing changed.
        snapshot.save_organisation(session, sample_org)
        assert snapshot.last_change(session) == seen + 1
        stored = slices.load_person(session, person)
        audit = [(c.setting, c.old, c.new) for c in preferences.changes(session, person)]
    assert stored is not None
    assert (stored.digest.weekday, stored.locale, stored.declined) == (3, "de", ("weekly-self-review",))
    assert audit == [
        ("digest_weekday", None, "3"),
        ("locale", None, "de"),
        ("declined", "", "weekly-self-review"),
    ]
