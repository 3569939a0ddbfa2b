"""What the flows share: the sender, the task runner, run names and the "what was sent" artifact."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from strides import engine
from strides.config import Settings
from strides.errors import ConfigError
from strides.integrations.compose import Sender
from strides.integrations.transport import build_transport
from strides.integrations.unsubscribe import UnsubscribeLinks
from strides.store import Store

ARTIFACT_ROWS = 500


def sender(settings: Settings) -> Sender:
    """Who mails; with a public URL and a secret, every message carries one-click unsubscribe links."""
    links = None
    if settings.public_url and settings.unsubscribe_secret:
        links = UnsubscribeLinks(settings.public_url, settings.unsubscribe_secret.get_secret_value())
    return Sender(str(settings.organiser_email), settings.organiser_name, settings.meeting_location, links)


def task_runner(settings: Settings) -> TaskRunner[Any]:
    """Threads by default; with `task_runner = "dask"`, the Dask cluster at `dask_address`."""
    if settings.task_runner == "thread":
        return ThreadPoolTaskRunner(max_workers=4)
    try:
        from prefect_dask import DaskTaskRunner  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise ConfigError("task_runner = 'dask' needs the dask extra: pip install 'strides[dask]'") from exc
    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)  # type: ignore[no-any-return,unused-ignore]
    return DaskTaskRunner()  # type: ignore[no-any-return,unused-ignore]


def send_due(settings: Settings, now: datetime, max_chunks: int = 1) -> engine.DeliveryOutcome:
    """Deliver what is due through the configured transport, chunk by chunk, then say so to Prefect."""
    transport = build_transport(settings)
    try:
        outcome = engine.drain(
            Store(settings.db_url),
            transport,
            sender(settings),
            now,
            settings.chunk_size,
            settings.claim_timeout,
            max_chunks,
            settings.max_message_bytes,
        )
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            close()
    if settings.notification_events:
        from strides.events import emit_sent

        emit_sent(outcome.sent)
    return outcome


def utc(moment: datetime | None) -> datetime:
    """The run's moment: as given (made UTC), else the wall clock; only flows read the clock."""
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        raise ConfigError(f"naive moment {moment.isoformat()}: give a timezone")
    return moment.astimezone(UTC)


def sent_markdown(title: str, notes: Sequence[str], sent: Iterable[engine.Sent], failed: int = 0) -> str:
    """A markdown table of what went out and why: rule, recipient, occurrence."""
    rows = list(sent)
    lines = [f"### {title}", *notes, "", f"Sent {len(rows)}, failed {failed}.", ""]
    lines += ["| rule | kind | recipient | occurrence (UTC) |", "|---|---|---|---|"]
    lines += [
        f"| {s.rule_id} | {s.kind} | {s.recipient} | {s.occurrence:%Y-%m-%d %H:%M} |"
        for s in rows[:ARTIFACT_ROWS]
    ]
    if len(rows) > ARTIFACT_ROWS:
        lines.append(f"| … | | {len(rows) - ARTIFACT_ROWS} more | |")
    return "\n".join(lines)


def artifact(key: str, markdown: str, description: str) -> None:
    create_markdown_artifact(markdown=markdown, key=key, description=description)
