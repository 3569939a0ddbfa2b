"""SMTP with the standard library: STARTTLS (or implicit TLS) and AUTH, one connection reused.

An SMTP server has no idempotency key: the ledger is what keeps a message from going twice, and the
deterministic Message-ID lets receiving systems discard a duplicate after an ambiguous failure.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from strides.integrations import DeliveryError


@dataclass(frozen=True)
class SMTPConfig:
    host: str
    port: int = 587
    security: str = "starttls"  # "starttls" | "tls" | "none"
    username: str | None = None
    password: str | None = None
    cafile: Path | None = None
    timeout: float = 30.0

    def __repr__(self) -> str:  # never show the password
        return f"SMTPConfig(host={self.host!r}, port={self.port}, security={self.security!r})"


class SMTPTransport:
    """Sends through one SMTP server. Reply codes 5xx are permanent, 4xx and broken links are not."""

    name = "smtp"

    def __init__(self, config: SMTPConfig) -> None:
        self.config = config
        self._client: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.config.cafile) if self.config.cafile else None)

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        client: smtplib.SMTP
        if c.security == "tls":
            client = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=self._context())
        else:
            client = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            if c.security == "starttls":
                client.starttls(context=self._context())
        client.ehlo_or_helo_if_needed()
        if c.username:
            client.login(c.username, c.password or "")
        return client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                try:
                    self._client.quit()
                except (smtplib.SMTPException, OSError):
                    self._client.close()
                self._client = None

    def send(self, key: str, message: EmailMessage, label: str) -> str:
        data = message.as_bytes(policy=SMTP)
        recipients = [a.addr_spec for a in message["To"].addresses]
        sender = message["From"].addresses[0].addr_spec
        with self._lock:
            client, refused = self._open_envelope(key, sender, recipients)
            try:
                code, text = client.data(data)
            except smtplib.SMTPResponseException as exc:  # DATA itself refused: nothing went over
                raise self._refused(key, exc) from exc
            except (smtplib.SMTPException, OSError) as exc:
                # The connection broke while the message went over or before the server answered
                # it: the server may have it. Never again on this connection; the ledger decides
                # whether to try once more (strides.engine.deliver).
                self._client = None
                answer = f"SMTP connection lost before the server answered the message: {exc}"
                raise DeliveryError(key, answer, ambiguous=True) from exc
            if code != 250:
                self._reset()
                raise DeliveryError(key, _answer(code, text), permanent=code >= 500)
            if refused:
                code, text = next(iter(refused.values()))
                raise DeliveryError(key, _answer(code, text), permanent=code >= 500)
            return str(message["Message-ID"] or key)

    def _open_envelope(
        self, key: str, sender: str, recipients: list[str]
    ) -> tuple[smtplib.SMTP, dict[str, tuple[int, bytes]]]:
        """A connection with MAIL FROM and RCPT TO accepted, and the recipients it refused."""
        for attempt in (1, 2):
            reused = self._client is not None
            try:
                if self._client is None:
                    self._client = self._connect()
                return self._client, self._envelope(self._client, sender, recipients)
            except smtplib.SMTPAuthenticationError as exc:
                self._client = None
                raise DeliveryError(key, _answer(exc.smtp_code, exc.smtp_error), permanent=False) from exc
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                raise DeliveryError(key, _answer(code, text), permanent=code >= 500) from exc
            except smtplib.SMTPResponseException as exc:
                raise self._refused(key, exc) from exc
            except OSError as exc:  # smtplib's other errors too: a lost link, a timeout
                self._client = None
                if reused and attempt == 1:
                    # A kept connection the server closed meanwhile (idle, or after its answer):
                    # nothing of this message went over, so a new connection tries at once.
                    continue
                raise DeliveryError(key, f"SMTP {self.config.host}:{self.config.port}: {exc}") from exc
        raise AssertionError("unreachable")

    def _refused(self, key: str, exc: smtplib.SMTPResponseException) -> DeliveryError:
        """The server's refusal, as a DeliveryError (5xx permanent), its transaction cleared."""
        self._reset()
        return DeliveryError(key, _answer(exc.smtp_code, exc.smtp_error), permanent=exc.smtp_code >= 500)

    @staticmethod
    def _envelope(client: smtplib.SMTP, sender: str, recipients: list[str]) -> dict[str, tuple[int, bytes]]:
        """MAIL FROM and RCPT TO, as `sendmail` sends them: the recipients refused (all refused:
        SMTPRecipientsRefused). Nothing of the message itself has gone over yet."""
        code, text = client.mail(sender)
        if code != 250:
            client.rset()
            raise smtplib.SMTPSenderRefused(code, text, sender)
        refused = {}
        for recipient in recipients:
            code, text = client.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, text)
        if len(refused) == len(recipients):
            client.rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        return refused

    def _reset(self) -> None:
        """Clear the session's transaction after a refusal, or drop the connection if that fails."""
        if self._client is not None:
            try:
                self._client.rset()
            except (smtplib.SMTPException, OSError):
                self._client = None


def _answer(code: int, text: bytes | str) -> str:
    body = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"SMTP {code} {body}"
