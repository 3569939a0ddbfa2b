"""A window planned by forked processes, a shard each, records exactly what one process decides."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from strides import engine
from strides.domain.parse import RuleSet
from strides.rules import Window
from strides.speed import can_fork
from strides.store import Store
from strides.store.tables import MessageRow

from ..conftest import at

pytestmark = pytest.mark.skipif(not can_fork(), reason="planning in processes forks: Linux only")

WINDOW = Window(at("2026-11-30 00:00"), at("2026-12-07 00:00"))


def test_processes_record_what_one_process_decides_and_nothing_twice(
    any_loaded_store: Store, builtin_rules: RuleSet
) -> None:
    basis = engine.plan_basis(any_loaded_store, builtin_rules)
    with any_loaded_store.session() as session:
        decided = engine.decide(session, builtin_rules, WINDOW, WINDOW.end, basis)
        wanted = sorted(
            [i.key for i in decided.notices] + [m.key for d in decided.decisions for m in d.messages]
        )
        # This process keeps a connection open while the children plan through their own.
        session.execute(text("select 1"))
        outcome = engine.plan_window(
            any_loaded_store, builtin_rules, WINDOW, WINDOW.end, basis=basis, processes=2
        )
        assert session.execute(text("select 2")).scalar() == 2
    with any_loaded_store.session() as session:
        recorded = sorted(session.scalars(select(MessageRow.key)))
    assert len(wanted) > 100 and recorded == wanted and outcome.planned == len(wanted)
    assert sorted(outcome.skips, key=repr) == sorted(decided.result.skips, key=repr)
    assert outcome.new_skips == len(outcome.skips) > 0
    again = engine.plan_window(any_loaded_store, builtin_rules, WINDOW, WINDOW.end, basis=basis, processes=2)
    assert (again.planned, again.new_skips) == (0, 0)
