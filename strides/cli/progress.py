"""What `strides run` shows on a terminal while its tick runs: the stage, and messages delivered
of those due (read from the ledger, so helper processes' deliveries count too)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

# How often the ledger is asked what is still due while a tick delivers.
POLL_SECONDS = 0.25


class TickProgress:
    """A `strides.flows.progress.Reporter` drawing one transient bar on `console` (nothing when the
    console is not a terminal)."""

    def __init__(self, console: Console, db_url: str, now: datetime, stale_after: timedelta) -> None:
        self._bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._task: TaskID | None = None
        self._db_url, self._now, self._stale_after = db_url, now, stale_after
        self._polling: threading.Event | None = None

    def __enter__(self) -> TickProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_polling()
        self._bar.__exit__(None, None, None)

    def stage(self, name: str, total: int | None = None) -> None:
        self._stop_polling()
        if self._task is None:
            self._task = self._bar.add_task(name, total=total)
        else:
            self._bar.reset(self._task, description=name, total=total, completed=0)
        self._bar.refresh()  # stages and steps are few: each is drawn, not only the next frame
        if name == "delivering" and total and not self._bar.disable:
            self._poll(total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, steps)
            self._bar.refresh()

    def _poll(self, total: int) -> None:
        from strides.engine import count_due
        from strides.store import Store

        stop = self._polling = threading.Event()
        task = self._task
        assert task is not None

        def watch() -> None:
            store = Store(self._db_url)
            while not stop.wait(POLL_SECONDS):
                left = count_due(store, self._now, self._stale_after)
                self._bar.update(task, completed=max(0, total - left))

        threading.Thread(target=watch, name="strides-progress", daemon=True).start()

    def _stop_polling(self) -> None:
        if self._polling is not None:
            self._polling.set()
            self._polling = None
