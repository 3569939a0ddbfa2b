"""One seam for sending: every transport takes a finished message and its idempotency key.

`build_transport(settings)` is the only place that knows which transport is configured; the rest of
strides calls `send` (one message) or `send_all` (a chunk, which a transport may batch or parallelise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from strides.integrations import DeliveryError

if TYPE_CHECKING:
    from strides.config import Settings


class Transport(Protocol):
    """Sends one message. Sending the same key twice must not deliver it twice."""

    name: str

    def send(self, key: str, message: EmailMessage, label: str) -> str:
        """Deliver `message`; return the transport's reference (a path, a provider id)."""
        ...


@dataclass(frozen=True)
class Outgoing:
    """One finished message of a chunk; `template_data` is the structured digest, for template modes."""

    key: str
    message: EmailMessage
    label: str
    template_data: Mapping[str, Any] | None = None


# Told of each item's result (its index, its reference or error) as soon as it is known, so the
# caller can record it at once: a crash mid-chunk then repeats at most the messages in flight.
OnResult = Callable[[int, "str | DeliveryError"], None]


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
            result: str | DeliveryError = transport.send(item.key, item.message, item.label)
        except DeliveryError as exc:
            result = exc
        results.append(result)
        if on_result is not None:
            on_result(index, result)
    return results


def build_transport(settings: Settings) -> Transport:
    """The transport `settings.transport` names, configured from the same settings."""
    if settings.transport == "smtp":
        from strides.integrations.smtp import SMTPConfig, SMTPTransport

        return SMTPTransport(
            SMTPConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                security=settings.smtp_security,
                username=settings.smtp_username,
                password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                cafile=settings.smtp_cafile,
                timeout=settings.smtp_timeout,
            )
        )
    if settings.transport == "sendgrid":
        from strides.integrations.sendgrid_mail import SendGridTransport

        return SendGridTransport.from_settings(settings)
    from strides.integrations.outbox import OutboxTransport

    return OutboxTransport(settings.outbox)
