"""The moment a request is handled: the app's `state.clock` when one is set (tests pin time
there), else the wall clock. The HTTP edge is where the clock is read; what it calls takes the
moment as an input."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request


def request_now(request: Request) -> datetime:
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)
