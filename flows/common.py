"""What the flows share: the sender, the task runner, run names and the "what was sent" artifact."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from strides import engine, speed
from strides.config import ConfigError, Settings
from strides.integrations.compose import Sender
from strides.integrations.preference_links import PreferenceLinks
from strides.integrations.transports import build_transport
from strides.integrations.unsubscribe import UnsubscribeLinks
from strides.rules.retries import Retry
from strides.store import Store

ARTIFACT_ROWS = 500
# However much is due, a tick delivers it in about this many task runs (each drains whole chunks)...
DELIVERY_TASKS = 32
# ...and never more than this many (failures retried in the same tick can ask for another wave).
MAX_DELIVERY_TASKS = 64

# Runs `n` delivery tasks of `chunks` chunks each at once; returns their outcomes.
Wave = Callable[[int, int], list[engine.DeliveryOutcome]]


def sender(settings: Settings) -> Sender:
    """Who mails; with a public URL and a secret, every message carries one-click unsubscribe links
    and a signed link to its recipient's preference page."""
    links = preferences = None
    key = settings.unsubscribe_key
    if settings.public_url and key:
        links = UnsubscribeLinks(settings.public_url, key)
        preferences = PreferenceLinks(settings.public_url, key, settings.preference_link_lifetime)
    return Sender(
        str(settings.organiser_email),
        settings.organiser_name,
        settings.meeting_location,
        links,
        preferences,
    )


# Delivery tasks running at once in one process (threads); a Dask cluster decides for itself.
THREADS = 4


def task_runner(settings: Settings) -> TaskRunner[Any]:
    """Threads by default; with `task_runner = "dask"`, the Dask cluster at `dask_address`."""
    if settings.task_runner == "thread":
        return ThreadPoolTaskRunner(max_workers=THREADS)
    try:
        from prefect_dask.task_runners import DaskTaskRunner  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise ConfigError("task_runner = 'dask' needs the dask extra: pip install 'strides[dask]'") from exc
    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)  # type: ignore[no-any-return,unused-ignore]
    # A LocalCluster of worker processes, no dashboard (it would claim port 8787 on the host).
    local = {"n_workers": 2, "threads_per_worker": 2, "dashboard_address": None}
    return DaskTaskRunner(cluster_kwargs=local)  # type: ignore[no-any-return,unused-ignore]


def sendgrid_api_key(settings: Settings) -> str:
    """Settings (STRIDES_SENDGRID_API_KEY), then SENDGRID_API_KEY, then the Prefect Secret block named
    by `sendgrid_api_key_block`: the edge reads the first two, only this layer talks to Prefect."""
    from strides.integrations.sendgrid_mail import MISSING_KEY, configured_api_key

    key = configured_api_key(settings)
    if key is not None:
        return key
    if not settings.sendgrid_api_key_block:
        raise ConfigError(MISSING_KEY)
    from prefect.blocks.system import Secret

    try:
        block: Any = Secret.load(settings.sendgrid_api_key_block)
        value = block.get()
    except ValueError as exc:
        raise ConfigError(f"no Prefect Secret block named {settings.sendgrid_api_key_block!r}") from exc
    return str(value)


def send_due(settings: Settings, now: datetime, max_chunks: int = 1) -> engine.DeliveryOutcome:
    """Deliver what is due through the configured transport, chunk by chunk, then say so to Prefect."""
    outcome = drain_everything(settings, now, max_chunks)
    if settings.notification_events:
        from strides.flows.events import emit_sent

        emit_sent(outcome.sent)
    return outcome


def drain_everything(
    settings: Settings, now: datetime, max_chunks: int = 1_000_000
) -> engine.DeliveryOutcome:
    """Deliver chunk after chunk until nothing due is left to claim (or `max_chunks` were done),
    without telling Prefect: a helper process of the tick's (`delivery_helpers`) uses nothing of it."""
    # The key is resolved only when SendGrid is the configured transport.
    transport = build_transport(settings, sendgrid_api_key=lambda: sendgrid_api_key(settings))
    try:
        return engine.drain(
            Store(settings.db_url),
            transport,
            sender(settings),
            now,
            settings.chunk_size,
            settings.claim_timeout,
            max_chunks,
            settings.max_message_bytes,
            Retry(lifetime=settings.retry_lifetime),
        )
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            close()


def delivery_helpers(settings: Settings, due: int, now: datetime) -> speed.Forked | None:
    """With more than a chunk `due` and `deliver_processes` above one, that many processes less one
    forked to deliver beside the tick's tasks (None otherwise): building messages is Python's work,
    and a process builds on one core at most. The ledger's claims keep them all apart.

    Called from the flow's own thread before its delivery tasks start, so that no other thread of
    this process is inside SQLite at the fork (strides.speed.forked).
    """
    if settings.deliver_processes < 2 or not speed.can_fork() or settings.transport == "sendgrid":
        # SendGrid's key may be a Prefect Secret block, which a forked child cannot read.
        return None
    if due <= settings.chunk_size:
        return None
    job = functools.partial(drain_everything, settings, now)
    return speed.forked([job] * (settings.deliver_processes - 1))


def deliver_in_waves(
    store: Store,
    now: datetime,
    chunk_size: int,
    run_wave: Wave,
    tasks: int = DELIVERY_TASKS,
    max_tasks: int = MAX_DELIVERY_TASKS,
    stale_after: timedelta = timedelta(minutes=10),
) -> tuple[engine.DeliveryOutcome, int]:
    """Deliver everything due by `now` in about `tasks` tasks of whole chunks, a wave at a time.

    Each wave is sized to what is due, and its tasks run at once (threads, or Dask workers): the
    ledger's claims keep them apart. Tasks that lose a race for a claim stop early (on SQLite two
    claims can pick the same rows; one gets them), and messages that failed are due again, so
    another wave follows while something is due and the last wave claimed something (every claim
    sends a message or counts an attempt, and a message that failed is due again only later);
    claims a crashed worker left behind count as due once older than `stale_after`, so they go out
    whether or not new mail is due;
    `max_tasks` bounds the total. Returns the outcome and the tasks run.
    """
    total = engine.DeliveryOutcome()
    runs = 0
    due = engine.count_due(store, now, stale_after)
    while due and runs < max_tasks:
        chunks = engine.chunks_per_task(due, chunk_size, tasks)
        wave = min(-(-due // (chunk_size * chunks)), max_tasks - runs)
        results = run_wave(wave, chunks)
        runs += wave
        for result in results:
            total.merge(result)
        if not any(result.claimed for result in results):
            break  # what is due is not ours to claim (another worker holds it)
        due = engine.count_due(store, now, stale_after)
    return total, runs


def utc(moment: datetime | None) -> datetime:
    """The run's moment: as given (made UTC), else the wall clock; only flows read the clock."""
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        raise ConfigError(f"naive moment {moment.isoformat()}: give a timezone")
    return moment.astimezone(UTC)


def sent_markdown(
    title: str, notes: Sequence[str], sent: Iterable[engine.Sent], failed: int = 0, held_back: int = 0
) -> str:
    """A markdown table of what went out and why: rule, recipient, occurrence."""
    rows = list(sent)
    counts = f"Sent {len(rows)}, held back by preferences {held_back}, failed {failed}."
    lines = [f"### {title}", *notes, "", counts, ""]
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
