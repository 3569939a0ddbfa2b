"""Reacting to strides' events as they arrive, inside a long-lived process (`strides serve`,
`strides listen`): the `on-event` flow runs in this process for each event, a real flow run that
the Prefect server records, without the new process per run a deployment trigger costs.

How no event is lost:

- Live: a subscription to Prefect's event stream (`get_events_subscriber`, a websocket filtered
  to the events `on-event` reacts to). Prefect's subscriber reconnects by itself after a dropped
  connection and asks the server again for what happened since a minute before the last event it
  saw, skipping the ids it already gave out.
- Catch-up: every event handled is recorded in strides' store (`handled_events`). When the
  subscription opens (at start, and after the server was away longer than the subscriber's own
  retries), 10 s later and then every `SWEEP_SECONDS`, the listener reads Prefect's stored events through its
  REST API (`/events/filter`, oldest first) from `MARGIN` before the newest handled event (or
  before now, the first time) and handles those not recorded. So an event emitted while this
  process was down, or restarted, or one the stream did not deliver, is handled on the next
  start or sweep, as long as Prefect keeps it (7 days by default).
- An event is recorded only after its flow run completed: one that failed is tried again by the
  sweeps while it is within `MARGIN`. Handling twice is harmless: reactions are idempotent (ledger
  keys), so the same event never becomes two messages.

Events are handled one at a time, in the order they arrive (the catch-up oldest first).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from strides.config import Settings
from strides.flows.deployments import REACTS_TO
from strides.store import Store, handled

if TYPE_CHECKING:
    from prefect.events import Event
    from prefect.events.filters import EventFilter

    from strides.store import Session

# The catch-up reads from this long before the newest handled event (events can arrive out of
# order: an emitter that lost its connection sends them again later)...
MARGIN = timedelta(minutes=10)
# ...at start, then this often, and after losing the server. The server stores events in batches
# (every 5 s by default): one emitted just before the subscription opened is in neither the
# stream nor the store yet, so the first sweep comes soon after the start.
SWEEP_SECONDS = 60.0
FIRST_SWEEP_SECONDS = 10.0
RETRY_SECONDS = 5.0
# Records of handled events older than this are dropped (Prefect keeps events for 7 days).
KEEP = timedelta(days=8)
RESOURCES = ("strides.goal.",)
PAGE = 50  # events per catch-up page (the most the API gives)
# Events that set a value: one that happened before an already handled one about the same
# resource is recorded but not applied.
SUPERSEDED_BY_NEWER = ("strides.goal.deadline-moved",)


@dataclass(frozen=True)
class Incoming:
    """One event as the listener reads it, from the stream or from the catch-up."""

    id: str
    event: str
    resource: str
    payload: dict[str, Any]
    occurred: datetime

    @classmethod
    def of(cls, event: Event) -> Incoming:
        return cls(str(event.id), event.event, event.resource.id, dict(event.payload), event.occurred)


def event_filter(
    since: datetime | None = None,
    until: datetime | None = None,
    names: tuple[str, ...] = REACTS_TO,
    resources: tuple[str, ...] = RESOURCES,
) -> EventFilter:
    """The events `on-event` reacts to (oldest first); `since`/`until` for the catch-up."""
    from prefect.events.filters import (
        EventFilter,
        EventNameFilter,
        EventOccurredFilter,
        EventOrder,
        EventResourceFilter,
    )

    fields: dict[str, Any] = {
        "event": EventNameFilter(name=list(names)),
        "resource": EventResourceFilter(id_prefix=list(resources)),
        "order": EventOrder.ASC,
    }
    if since is not None:
        span = {"since": since, "until": until or datetime.now(UTC)}
        fields["occurred"] = EventOccurredFilter.model_validate(span)
    return EventFilter(**fields)


def run_on_event(settings: Settings, incoming: Incoming, now: datetime | None = None) -> bool:
    """The `on-event` flow, in this process (heartbeats off: they cost about a second per run);
    True when it completed. `now` is for tests; the flow reads the clock otherwise."""
    from strides.flows.environment import no_heartbeats
    from strides.flows.on_event import on_event

    with no_heartbeats():
        state = on_event(
            event=incoming.event,
            resource_id=incoming.resource,
            payload=incoming.payload,
            settings=settings.model_dump(mode="json", exclude={"hr_secret"}),
            now=now,
            return_state=True,
        )
    return bool(state.is_completed())


Handler = Callable[[Settings, Incoming], bool]


def _record(session: Session, incoming: Incoming) -> None:
    handled.mark_handled(
        session, incoming.id, incoming.event, incoming.resource, incoming.occurred, datetime.now(UTC)
    )


class Listener:
    """Handles each event once it is seen (stream or catch-up), recording it in the store."""

    def __init__(
        self,
        settings: Settings,
        handler: Handler = run_on_event,
        log: Callable[[str], None] | None = None,
        names: tuple[str, ...] = REACTS_TO,
        resources: tuple[str, ...] = RESOURCES,
    ):
        self.settings = settings
        self.names = names
        self.resources = resources
        self.store = Store(settings.db_url)
        self.handler = handler
        self.log = log or (lambda line: print(f"strides listen: {line}", file=sys.stderr, flush=True))
        self._lock = threading.Lock()
        self.handled = 0

    def handle(self, incoming: Incoming) -> bool:
        """React to one event unless it was handled already; True if it was handled now."""
        with self._lock:
            with self.store.session() as session:
                if handled.handled_among(session, [incoming.id]):
                    return False
                if incoming.event in SUPERSEDED_BY_NEWER and handled.newer_handled(
                    session, incoming.event, incoming.resource, incoming.occurred
                ):
                    # Found late by a sweep after a newer one was applied: applying it now would
                    # set the older value (a deadline moved twice ends on the second date).
                    _record(session, incoming)
                    self.log(
                        f"{incoming.event} {incoming.resource} ({incoming.id}): superseded by a newer one"
                    )
                    return False
            began = time.perf_counter()
            try:
                done = self.handler(self.settings, incoming)
            except Exception as exc:  # one bad event must not stop the listener
                self.log(f"{incoming.event} {incoming.resource} ({incoming.id}) failed: {exc!r}")
                return False
            if not done:
                self.log(
                    f"{incoming.event} {incoming.resource} ({incoming.id}): the flow run did not complete"
                )
                return False
            with self.store.session() as session:
                _record(session, incoming)
            self.handled += 1
            took = time.perf_counter() - began
            self.log(f"handled {incoming.event} {incoming.resource} in {took:.2f} s")
            return True

    def filter(self, since: datetime | None = None) -> EventFilter:
        return event_filter(since, None, self.names, self.resources)

    def since(self, now: datetime) -> datetime:
        """Where a catch-up starts: a margin before the newest handled event, else before now."""
        with self.store.session() as session:
            latest = handled.latest_occurred(session)
            handled.forget_before(session, now - KEEP)
        return min(latest or now, now) - MARGIN

    async def catch_up(self, since: datetime) -> int:
        """Handle what Prefect stored since `since` and was not handled yet; how many were."""
        from prefect.client.orchestration import get_client

        count = 0
        async with get_client() as client:
            page: Any = await client.read_events(filter=self.filter(since), limit=PAGE)
            while page is not None:
                events = [Incoming.of(event) for event in page.events]
                with self.store.session() as session:
                    done = handled.handled_among(session, [e.id for e in events])
                for incoming in events:
                    if incoming.id not in done and await asyncio.to_thread(self.handle, incoming):
                        count += 1
                page = await page.get_next_page(client)
        if count:
            self.log(f"caught up {count} event(s) since {since:%Y-%m-%d %H:%M:%S} UTC")
        return count

    async def _sweep(self) -> None:
        pause = FIRST_SWEEP_SECONDS
        while True:
            await asyncio.sleep(pause)
            pause = SWEEP_SECONDS
            try:
                await self.catch_up(datetime.now(UTC) - MARGIN)
            except Exception as exc:  # the next sweep tries again
                self.log(f"catch-up failed: {exc!r}")

    async def listen_once(self, ready: Callable[[], None] | None = None) -> None:
        """Subscribe, catch up, then handle events as they come (sweeping every SWEEP_SECONDS);
        returns or raises when the subscription ends."""
        from prefect.events.clients import get_events_subscriber

        async with get_events_subscriber(filter=self.filter(), reconnect_on_clean_close=True) as subscriber:
            # The subscription is open first, so nothing falls between the catch-up and the stream.
            await self.catch_up(self.since(datetime.now(UTC)))
            if ready is not None:
                ready()
            sweeper = asyncio.create_task(self._sweep())
            try:
                async for event in subscriber:
                    await asyncio.to_thread(self.handle, Incoming.of(event))
            finally:
                sweeper.cancel()

    async def listen(self, ready: Callable[[], None] | None = None) -> None:
        """Listen until cancelled, starting again (with a catch-up) whenever the server goes away."""
        if self.handler is run_on_event:
            # Imported now, so that the first event does not wait for the flow's modules.
            await asyncio.to_thread(importlib.import_module, "strides.flows.on_event")
        while True:
            try:
                await self.listen_once(ready)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server is away: try again, then catch up
                self.log(f"listening stopped ({exc!r}); again in {RETRY_SECONDS:.0f} s")
            await asyncio.sleep(RETRY_SECONDS)


def start_in_thread(listener: Listener, ready: Callable[[], None] | None = None) -> threading.Thread:
    """Run the listener on its own event loop in a daemon thread (it ends with the process);
    returns once the first catch-up is done and the stream is open (or after 30 s). `ready` is
    called then, and again after each new start of the subscription."""
    opened = threading.Event()

    def on_ready() -> None:
        opened.set()
        if ready is not None:
            ready()

    thread = threading.Thread(
        target=lambda: asyncio.run(listener.listen(on_ready)), name="strides-listen", daemon=True
    )
    thread.start()
    opened.wait(timeout=30)
    return thread
