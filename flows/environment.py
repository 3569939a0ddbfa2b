"""Point Prefect at the project's state folder before it is imported."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from strides.config import Settings


def prepare(settings: Settings, *, quiet: bool = True) -> None:
    """Set Prefect's environment; must run before the first `import prefect`."""
    settings.prefect_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_dir))
    # Offline machines: no telemetry, no analytics, no update checks.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # The first start of the temporary server runs its migrations (6-13 s measured).
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "WARNING")
        # At exit Prefect's event worker warns "Still processing items" while it sends the last
        # events to a busy server: it goes on to send them, and the user can do nothing about it.
        logging.getLogger("EventsWorker").setLevel(logging.ERROR)


@contextmanager
def no_heartbeats() -> Iterator[None]:
    """Flow-run heartbeats cost about a second per flow here; the env var cannot say None."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
