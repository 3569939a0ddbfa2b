"""Delivery keeps the garbage collector out of the way, and gives the process its settings back."""

from __future__ import annotations

import gc

from strides.engine import fewer_collections


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
