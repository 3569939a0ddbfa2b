"""What a flow running in this process is doing, for whoever started it here (`strides run` shows
it on a terminal): stages with their size. Nothing listens unless `reporting` is in effect."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Reporter(Protocol):
    def stage(self, name: str, total: int | None = None) -> None:
        """A new stage begins ("loading rules", "planning", "delivering"), of `total` steps if known."""

    def advance(self, steps: int = 1) -> None:
        """Steps of the current stage are done."""


_listening: list[Reporter] = []


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Tell `reporter` what flows in this process do, for the block."""
    _listening.append(reporter)
    try:
        yield
    finally:
        _listening.remove(reporter)


def stage(name: str, total: int | None = None) -> None:
    for reporter in _listening:
        reporter.stage(name, total)


def advance(steps: int = 1) -> None:
    for reporter in _listening:
        reporter.advance(steps)
