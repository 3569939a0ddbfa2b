"""The invite ledger on PostgreSQL: the same lifecycle, and a repeated decision records once."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from strides.integrations.org_changes import OrgChange
from strides.rules import Window, plan
from strides.rules.reconcile import reconcile
from strides.store import Store, invites, snapshot

from ..tools import require
from .conftest import RecordingTransport, Simulation

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture
def pg_store():
    """A fresh database on the machine's PostgreSQL, dropped afterwards."""
    try:
        import psycopg

        admin = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True)
    except Exception as exc:  # any connection failure means: no server here
        admin = None
        reason = f"PostgreSQL on 127.0.0.1:5432 ({exc})"
    else:
        reason = ""
    require(admin is not None, reason)
    name = f"strides_invites_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    store = Store(f"{SERVER}/{name}")
    try:
        store.migrate()
        yield store
    finally:
        store.engine.dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_the_lifecycle_runs_on_postgresql(pg_store, sample_org, builtin_rules, tmp_path):
    with pg_store.session() as session:
        snapshot.save_organisation(session, sample_org)
    simulation = Simulation(pg_store, builtin_rules, sample_org, RecordingTransport(tmp_path))
    simulation.tick(5)
    simulation.change(OrgChange(day=date(2026, 12, 5), goal="g00002", set={"deadline": "2026-12-30"}))
    simulation.tick(1)
    rows = simulation.messages("deadline-review-meeting", "goal:g00002")
    assert sorted((r.recipient, r.sequence) for r in rows) == [
        ("p001", 0),
        ("p001", 1),
        ("p002", 0),
        ("p002", 1),
    ]

    # Two workers that decided the same change: the second records nothing.
    simulation.change(OrgChange(day=date(2026, 12, 6), goal="g00002", set={"status": "dropped"}))
    window = Window(simulation.now, simulation.now + timedelta(days=1))
    with pg_store.session() as session:
        known = invites.upcoming(session, after=window.start)
        wanted = plan(builtin_rules, simulation.org, window, known={m.uid: m.subject for m in known}).intents
        decisions = reconcile([i for i in wanted if i.meeting], known, window, window.end)
    with pg_store.session() as session:
        first = invites.apply(session, decisions, simulation.org, window.end)
    with pg_store.session() as session:
        second = invites.apply(session, decisions, simulation.org, window.end)
    assert first >= 2 and second == 0
