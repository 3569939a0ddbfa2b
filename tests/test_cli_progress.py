"""What `strides run` shows on a terminal while a tick runs, and that piped output shows none of it."""

from __future__ import annotations

import io
from datetime import timedelta

from rich.console import Console

from strides.cli.progress import TickProgress
from strides.store import Store, snapshot

from .conftest import at


def drawn(terminal: bool, store: Store) -> str:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=terminal, width=100)
    with TickProgress(console, store.url, at("2026-12-01 00:00"), timedelta(minutes=10)) as shown:
        shown.stage("planning", 2)
        shown.advance()
        shown.advance()
        shown.stage("delivering", 0)
    return screen.getvalue()


def test_a_terminal_sees_each_stage_and_its_steps(tmp_path, sample_org):
    store = Store(f"sqlite:///{tmp_path / 'strides.db'}")
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, sample_org)
    screen = drawn(True, store)
    assert "planning" in screen and "2/2" in screen
    assert "delivering" in screen


def test_piped_output_shows_no_progress(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'strides.db'}")
    store.migrate()
    assert drawn(False, store) == ""
