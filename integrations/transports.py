"""The configured transport: the one place that knows which transport the settings name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from strides.config import ConfigError
from strides.integrations.transport import Transport

if TYPE_CHECKING:
    from strides.config import Settings


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
        from strides.integrations.sendgrid_mail import MISSING_KEY, SendGridTransport, configured_api_key

        key = sendgrid_api_key() if sendgrid_api_key is not None else configured_api_key(settings)
        if key is None:
            # A Secret block named in the settings is read by the flows, which pass `sendgrid_api_key`.
            only_flows = settings.sendgrid_api_key_block is not None
            raise ConfigError(MISSING_KEY + (" (only the flows read a Secret block)" if only_flows else ""))
        return SendGridTransport.from_settings(settings, key)
    from strides.integrations.outbox import OutboxTransport

    return OutboxTransport(settings.outbox)
