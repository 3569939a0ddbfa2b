"""One seam for sending: every transport takes a finished message and its idempotency key.

`strides.integrations.transports.build_transport(settings)` is the only place that knows which
transport is configured; the rest of strides calls `send` (one message) or `send_all` (a chunk,
which a transport may batch or parallelise).
Secrets kept elsewhere (SendGrid's API key in a Prefect Secret block) are resolved by the caller and
handed in: the edges see no Prefect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from strides.integrations import DeliveryError

if TYPE_CHECKING:
    from strides.integrations.mime import Content


class Transport(Protocol):
    """Sends one message. Sending the same key twice must not deliver it twice."""

    name: str

    def send(self, key: str, message: EmailMessage, label: str) -> str:
        """Deliver `message`; return the transport's reference (a path, a provider id)."""
        ...


@dataclass(frozen=True)
class Outgoing:
    """One message of a chunk.

    `message` is the MIME message, or None when it was left unbuilt for a transport that takes the
    structured `content` (SendGrid's API); `mime()` builds it on demand. `template_data` is a digest as
    data, for a provider's template mode.
    """

    key: str
    message: EmailMessage | None
    label: str
    template_data: Mapping[str, Any] | None = None
    content: Content | None = None

    def mime(self) -> EmailMessage:
        if self.message is not None:
            return self.message
        if self.content is None:
            raise ValueError(f"message {self.key} has neither MIME nor content")
        return self.content.message()

    def size(self) -> int:
        if self.message is not None:
            return len(self.message.as_bytes())
        return self.content.size() if self.content is not None else 0

    def size_over(self, limit: int) -> int | None:
        """The message's size when it is over `limit` bytes, else None. Serialising a message only
        to weigh it doubled the cost of sending it: it is weighed only when a bound on its size
        from its parts is not already under the limit."""
        if self.content is not None and self.content.size_bound() <= limit:
            return None
        size = self.size()
        return size if size > limit else None


# Told of each request's result as soon as it is known: the indices of the items it carried (one
# for a single message, up to 1000 for a provider's template batch) and the reference or error they
# share. The caller records each call at once: a crash mid-chunk repeats at most what was in flight.
OnResult = Callable[[Sequence[int], "str | DeliveryError"], None]


@runtime_checkable
class BatchTransport(Protocol):
    name: str
    wants_template_data: bool

    def send_many(
        self, items: Sequence[Outgoing], on_result: OnResult | None = None
    ) -> list[str | DeliveryError]: ...


def send_all(
    transport: Transport, items: Sequence[Outgoing], on_result: OnResult | None = None
) -> list[str | DeliveryError]:
    """Send a chunk; one result per item, in order: the reference, or the DeliveryError it met."""
    if isinstance(transport, BatchTransport):
        return transport.send_many(items, on_result)
    results: list[str | DeliveryError] = []
    for index, item in enumerate(items):
        try:
            result: str | DeliveryError = transport.send(item.key, item.mime(), item.label)
        except DeliveryError as exc:
            result = exc
        results.append(result)
        if on_result is not None:
            on_result((index,), result)
    return results
