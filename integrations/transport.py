"""One seam for sending: every transport takes a finished message and its idempotency key.

`build_transport(settings)` is the only place that knows which transport is configured; the rest of
strides calls `send` (one message) or `send_all` (a chunk, which a transport may batch or parallelise).
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
    from strides.config import Settings
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


def build_transport(settings: Settings, sendgrid_api_key: Callable[[], str] | None = None) -> Transport:
    """The transport `settings.transport` names, configured from the same settings.

    `sendgrid_api_key` resolves SendGrid's API key, called only when that transport is chosen (the
    flows pass one that also reads a Prefect Secret block); without it, the key comes from settings
    (STRIDES_SENDGRID_API_KEY), else SENDGRID_API_KEY.
    """
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
        from strides.config import ConfigError
        from strides.integrations.sendgrid_mail import MISSING_KEY, SendGridTransport, configured_api_key

        key = sendgrid_api_key() if sendgrid_api_key is not None else configured_api_key(settings)
        if key is None:
            # A Secret block named in the settings is read by the flows, which pass `sendgrid_api_key`.
            only_flows = settings.sendgrid_api_key_block is not None
            raise ConfigError(MISSING_KEY + (" (only the flows read a Secret block)" if only_flows else ""))
        return SendGridTransport.from_settings(settings, key)
    from strides.integrations.outbox import OutboxTransport

    return OutboxTransport(settings.outbox)
