"""The ledger's promises, on SQLite and on PostgreSQL: recorded once, claimed by one worker,
marked sent only by its claimant, and taken over when a claimant has gone quiet."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from strides.domain.model import Organisation
from strides.domain.schema import Kind
from strides.rules import Intent
from strides.rules.keys import message_key
from strides.store import Store, ledger
from strides.store.tables import MessageRow
from tests.conftest import at

NOW = at("2026-12-01 09:00")


def intents(count: int, *, send_at=NOW, recipient: str = "p002") -> list[Intent]:
    return [
        Intent(
            key=message_key("test-rule", f"goal:g{n:05}", send_at, recipient),
            rule_id="test-rule",
            kind=Kind.EMAIL,
            subject=f"goal:g{n:05}",
            occurrence=send_at,
            recipient=recipient,
            send_at=send_at,
            title=f"message {n}",
            body="body",
        )
        for n in range(count)
    ]


def count(store: Store, **where: str) -> int:
    query = select(func.count()).select_from(MessageRow)
    for column, value in where.items():
        query = query.where(getattr(MessageRow, column) == value)
    with store.session() as session:
        return session.scalar(query) or 0


def test_the_schema_is_current_after_migrating_and_migrating_again_changes_nothing(any_store: Store):
    any_store.migrate()
    assert any_store.is_current()


def test_recording_the_same_intents_twice_adds_them_once(any_loaded_store: Store, sample_org: Organisation):
    batch = intents(3)
    with any_loaded_store.session() as session:
        assert ledger.record(session, batch, sample_org, NOW) == 3
    with any_loaded_store.session() as session:
        assert ledger.record(session, [*batch, *intents(5)], sample_org, NOW) == 2
    assert count(any_loaded_store) == 5


def test_times_come_back_aware_and_in_utc(any_loaded_store: Store, sample_org: Organisation):
    with any_loaded_store.session() as session:
        ledger.record(session, intents(1), sample_org, NOW)
    with any_loaded_store.session() as session:
        (row,) = ledger.messages(session)
    assert row.send_at == NOW
    assert row.send_at.utcoffset() == timedelta(0)


def test_a_claim_takes_only_what_is_due(any_loaded_store: Store, sample_org: Organisation):
    later = NOW + timedelta(hours=1)
    with any_loaded_store.session() as session:
        ledger.record(session, [*intents(2), *intents(2, send_at=later)], sample_org, NOW)
    with any_loaded_store.session() as session:
        claim = ledger.claim(session, NOW, limit=10)
    assert {row.send_at for row in claim.rows} == {NOW}
    assert len(claim.rows) == 2
    assert count(any_loaded_store, status=ledger.SENDING) == 2


def test_successive_claims_never_share_a_message(any_loaded_store: Store, sample_org: Organisation):
    with any_loaded_store.session() as session:
        ledger.record(session, intents(7), sample_org, NOW)
    claimed: list[str] = []
    for _ in range(4):
        with any_loaded_store.session() as session:
            claimed += [row.key for row in ledger.claim(session, NOW, limit=3).rows]
    assert len(claimed) == 7
    assert len(set(claimed)) == 7


def test_a_claim_never_takes_more_than_its_limit(any_loaded_store: Store, sample_org: Organisation):
    # Regression: `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` let PostgreSQL
    # re-run the subquery per row and claim every due message at once, starving the other workers.
    with any_loaded_store.session() as session:
        ledger.record(session, intents(200), sample_org, NOW)
    with any_loaded_store.session() as session:
        claim = ledger.claim(session, NOW, limit=5)
    assert len(claim.rows) == 5
    assert count(any_loaded_store, status=ledger.SENDING) == 5
    assert count(any_loaded_store, status=ledger.PENDING) == 195


def test_only_the_claimant_marks_a_message_sent(any_loaded_store: Store, sample_org: Organisation):
    with any_loaded_store.session() as session:
        ledger.record(session, intents(1), sample_org, NOW)
    with any_loaded_store.session() as session:
        claim = ledger.claim(session, NOW, limit=1)
    key = claim.rows[0].key
    with any_loaded_store.session() as session:
        assert not ledger.mark_sent(session, key, "someone-else", NOW, "outbox", "ref")
    assert count(any_loaded_store, status=ledger.SENDING) == 1
    with any_loaded_store.session() as session:
        assert ledger.mark_sent(session, key, claim.token, NOW, "outbox", "ref")
    assert count(any_loaded_store, status=ledger.SENT) == 1
    with any_loaded_store.session() as session:
        assert ledger.claim(session, NOW + timedelta(days=1), limit=5).rows == []


def test_a_stale_claim_is_taken_over_after_the_timeout_and_not_before(
    any_loaded_store: Store, sample_org: Organisation
):
    timeout = timedelta(minutes=10)
    with any_loaded_store.session() as session:
        ledger.record(session, intents(2), sample_org, NOW)
    with any_loaded_store.session() as session:
        crashed = ledger.claim(session, NOW, limit=2, stale_after=timeout)
    with any_loaded_store.session() as session:
        assert (
            ledger.claim(session, NOW + timeout - timedelta(seconds=1), limit=2, stale_after=timeout).rows
            == []
        )
    with any_loaded_store.session() as session:
        rescue = ledger.claim(session, NOW + timeout + timedelta(seconds=1), limit=2, stale_after=timeout)
    assert sorted(r.key for r in rescue.rows) == sorted(r.key for r in crashed.rows)
    assert all(row.attempts == 2 for row in rescue.rows)
    with any_loaded_store.session() as session:
        # The crashed worker's late answer no longer counts; the rescuer's does.
        assert not ledger.mark_sent(session, crashed.rows[0].key, crashed.token, NOW, "outbox", "late")
        assert ledger.mark_sent(session, rescue.rows[0].key, rescue.token, NOW, "outbox", "ref")


def test_a_failed_message_waits_for_its_next_try_and_a_dead_one_can_be_revived(
    any_loaded_store: Store, sample_org: Organisation
):
    with any_loaded_store.session() as session:
        ledger.record(session, intents(1), sample_org, NOW)
    with any_loaded_store.session() as session:
        claim = ledger.claim(session, NOW, limit=1)
        ledger.mark_failed(
            session, claim.rows[0].key, claim.token, "421 try later", retry_at=NOW + timedelta(minutes=5)
        )
    with any_loaded_store.session() as session:
        assert ledger.claim(session, NOW, limit=1).rows == [], "not again in the same tick"
        claim = ledger.claim(session, NOW + timedelta(minutes=5), limit=1)
    assert len(claim.rows) == 1 and claim.rows[0].attempts == 2
    with any_loaded_store.session() as session:
        ledger.mark_failed(session, claim.rows[0].key, claim.token, "550 no such user")
    assert count(any_loaded_store, status=ledger.DEAD) == 1
    with any_loaded_store.session() as session:
        assert ledger.claim(session, NOW + timedelta(days=9), limit=1).rows == []
        assert ledger.revive(session, NOW + timedelta(days=9), rule="no-such-rule") == 0
        assert ledger.revive(session, NOW + timedelta(days=9)) == 1
        claim = ledger.claim(session, NOW + timedelta(days=9), limit=1)
    assert len(claim.rows) == 1 and claim.rows[0].attempts == 1


def test_a_plain_postgresql_url_means_psycopg_3():
    from strides.store.db import normalise_url

    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_a_claim_never_takes_more_than_its_limit_regression_subquery_run_per_row(
    any_loaded_store: Store, sample_org: Organisation
):
    with any_loaded_store.session() as session:
        ledger.record(session, intents(40), sample_org, NOW)
    with any_loaded_store.session() as session:
        assert len(ledger.claim(session, NOW, limit=3).rows) == 3
    assert count(any_loaded_store, status=ledger.SENDING) == 3


def test_a_claim_takes_the_earliest_due_of_every_kind_in_order(
    any_loaded_store: Store, sample_org: Organisation
):
    """Pending, failed and stale-claimed messages mixed: claims take them strictly by (send_at, id),
    however SQLite is asked for them (strides.store.ledger._due_sqlite)."""
    times = [NOW - timedelta(minutes=m) for m in (50, 40, 30, 20, 10, 0)]
    with any_loaded_store.session() as session:
        for n, when in enumerate(times):
            ledger.record(session, intents(4, send_at=when, recipient=f"p00{1 + n % 3}"), sample_org, NOW)
    # Every third message failed once; some are held by a worker that went quiet, some by a live one.
    with any_loaded_store.session() as session:
        rows = list(session.scalars(select(MessageRow).order_by(MessageRow.id)))
        for n, row in enumerate(rows):
            if n % 3 == 1:
                row.status = ledger.FAILED
            elif n % 5 == 2:
                row.status, row.claimed_by = ledger.SENDING, "quiet"
                row.claimed_at = NOW - timedelta(hours=1)
            elif n % 7 == 3:
                row.status, row.claimed_by, row.claimed_at = ledger.SENDING, "alive", NOW
    with any_loaded_store.session() as session:
        rows = list(session.scalars(select(MessageRow)))
        expected = [
            r.id
            for r in sorted(rows, key=lambda r: (r.send_at, r.id))
            if (r.status in (ledger.PENDING, ledger.FAILED))
            or (r.status == ledger.SENDING and r.claimed_by == "quiet")
        ]
    assert len(expected) > 10
    taken: list[int] = []
    for limit in (3, 5, 2, 100):
        with any_loaded_store.session() as session:
            taken += [row.id for row in ledger.claim(session, NOW, limit, timedelta(minutes=10)).rows]
    assert taken == expected
