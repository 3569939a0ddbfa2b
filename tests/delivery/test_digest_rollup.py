"""A digest from a delivery chunk's slice and columns is the digest of the whole organisation.

Delivery reads a chunk's direct reports as facts from the store's columns
(strides.store.slices.report_facts) instead of loading their whole records; every digest must come
out exactly as `compose_digest` over the full snapshot makes it, whatever the recipient's timezone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from strides.domain.model import Organisation
from strides.domain.schema import Kind
from strides.engine import digest_reports, digest_span
from strides.rules.digest import Digest, compose_digest
from strides.rules.intents import Intent
from strides.rules.keys import message_key
from strides.store import Store, slices, snapshot
from tools.synthetic import Shape, generate

from ..postgres import throwaway_database

# Wins (milestones completed in the week before), open and overdue milestones around these moments.
MOMENTS = (
    datetime(2026, 11, 30, 7, 0, tzinfo=UTC),
    datetime(2026, 11, 16, 23, 30, tzinfo=UTC),
    datetime(2026, 12, 14, 11, 0, tzinfo=UTC),
)


def _digest_intent(pid: str, when: datetime) -> Intent:
    return Intent(
        key=message_key("weekly-digest", pid, when, pid),
        rule_id="weekly-digest",
        kind=Kind.DIGEST,
        subject=pid,
        occurrence=when,
        recipient=pid,
        send_at=when,
        title="Weekly digest",
    )


def _facts(digest: Digest) -> tuple[object, ...]:
    reports = tuple(
        (r.person.id, r.person.name, r.active_goals, r.overdue_milestones, r.wins) for r in digest.reports
    )
    return (digest.goals, digest.due_soon, digest.overdue, digest.wins, digest.next, reports)


def _check(store: Store, org: Organisation) -> int:
    with store.session() as session:
        snapshot.save_organisation(session, org)
    managers = sorted({p.manager for p in org.people.values() if p.manager})
    chunk = [*managers, *sorted(set(org.people) - set(managers))[:20]]
    lines = 0
    for when in MOMENTS:
        # One chunk with digests of two moments: the bounds of the query must cover both.
        intents = [_digest_intent(pid, when - timedelta(hours=n % 30)) for n, pid in enumerate(chunk)]
        with store.session() as session:
            reports = digest_reports(session, intents)
            # Only the milestones a digest of these moments can show (open due soon, won since).
            part = slices.load_slice(session, chunk, reports=False, digests=digest_span(intents))
        for intent in intents:
            person = org.people[intent.recipient]
            whole = compose_digest(person, org, intent.occurrence)
            sliced = compose_digest(
                part.people[person.id], part, intent.occurrence, reports.get(person.id, [])
            )
            assert _facts(sliced) == _facts(whole), person.id
            lines += len(whole.reports)
    return lines


def test_rollup_from_columns_matches_the_whole_organisation(store: Store) -> None:
    org = generate(Shape(people=400))
    lines = _check(store, org)
    # It compared something: every person but the top reports to someone.
    assert lines >= 3 * (len(org.people) - 1)
    # And some lines carry overdue milestones and wins (else the comparison proves little).
    digests = [compose_digest(p, org, MOMENTS[0]) for p in org.people.values()]
    assert any(r.overdue_milestones for d in digests for r in d.reports)
    assert any(r.wins for d in digests for r in d.reports)


def test_rollup_from_columns_on_postgres() -> None:
    with throwaway_database() as url:
        store = Store(url)
        store.migrate()
        try:
            assert _check(store, generate(Shape(people=200))) > 0
        finally:
            store.engine.dispose()
