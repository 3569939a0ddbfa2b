"""Delivery keeps the garbage collector out of the way, and gives the process its settings back."""

from __future__ import annotations

import gc

from strides.speed import fewer_collections


def test_fewer_collections_freezes_and_restores_even_when_nested() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with fewer_collections(50_000):
        assert gc.get_threshold()[0] == 50_000
        assert gc.get_freeze_count() > 0
        with fewer_collections(50_000):
            pass
        # The inner block left; the outer one still holds the setting.
        assert gc.get_threshold()[0] == 50_000
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_fewer_collections_restores_after_an_error() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    try:
        with fewer_collections():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_planning_inside_a_tick_freezes_what_it_leaves_and_the_tick_hands_it_back(
    loaded_store, builtin_rules
) -> None:
    """The plan's objects go with the plan (reference counting); the collector's first pass after
    planning would walk them all, so a tick keeps them frozen until it is done with them."""
    from strides import engine
    from strides.rules import Window

    from .conftest import at

    window = Window(at("2026-11-30 00:00"), at("2026-12-01 00:00"))
    basis = engine.plan_basis(loaded_store, builtin_rules)
    frozen = gc.get_freeze_count()
    with fewer_collections():
        before = gc.get_freeze_count()
        with loaded_store.session() as session:
            decided = engine.decide(session, builtin_rules, window, window.end, basis)
        assert decided.result.intents
        assert gc.isenabled()
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == frozen
    engine.plan_window(loaded_store, builtin_rules, window, window.end, basis=basis)
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_planning_alone_moves_what_it_leaves_to_the_oldest_generation_unwalked(
    loaded_store, builtin_rules
) -> None:
    """Outside a tick, the plan's objects are not left young (the collector's next pass would
    walk every one of them): they go to the oldest generation, and nothing stays frozen."""
    from strides import engine
    from strides.rules import Window

    from .conftest import at

    window = Window(at("2026-11-30 00:00"), at("2026-12-01 00:00"))
    basis = engine.plan_basis(loaded_store, builtin_rules)
    frozen = gc.get_freeze_count()
    with loaded_store.session() as session:
        decided = engine.decide(session, builtin_rules, window, window.end, basis)
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    assert not any(o is decided.result for o in gc.get_objects(generation=0))
    assert any(o is decided.result for o in gc.get_objects(generation=2))
