"""SendGrid through the official client: build the payload, post it, parse the answer.

Step two uses `SendGridAPIClient` through its public API only (`client.mail.send.post`): it builds the
URL, sends the key and User-Agent headers, encodes the JSON and raises `python_http_client.exceptions`
for 4xx and 5xx; requests go through urllib, so `HTTPS_PROXY` is honoured. Retries (inside one `send`,
bounded by `Retry.max_attempts`):
- 429: wait until `X-RateLimit-Reset` (a Unix time), else `Retry-After`, else back off;
- 5xx, timeouts and dropped connections: exponential back-off with jitter;
- 401/403: not retried now, not dead either (a rotated key must not kill a whole organisation's mail);
- any other 4xx: a permanent DeliveryError carrying SendGrid's own error text, never retried.
The API key lives only in the client's Authorization header; it is never logged or shown in a repr.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from strides.config import ConfigError
from strides.integrations import DeliveryError
from strides.integrations.sendgrid_payload import (
    MAX_PERSONALIZATIONS,
    Options,
    TemplateItem,
    build_payload,
    build_template_payload,
    template_item,
    to_parts,
)
from strides.integrations.transport import OnResult, Outgoing

if TYPE_CHECKING:
    from email.message import EmailMessage

    from strides.config import Settings

log = logging.getLogger(__name__)
# The client logs request headers (the Authorization header with the key) at DEBUG: never let it.
logging.getLogger("python_http_client.client").setLevel(logging.INFO)


@dataclass(frozen=True)
class Retry:
    max_attempts: int = 5
    base: float = 0.5
    max_wait: float = 120.0


@dataclass(frozen=True)
class Answer:
    """What SendGrid said, in strides' terms (step three)."""

    status: int
    ref: str | None = None
    text: str = ""
    wait: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def error_text(body: bytes | str | None) -> str:
    """SendGrid's `errors[].message` (or Prism's `validation[]`) as one readable line."""
    if not body:
        return ""
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(raw)
    except ValueError:
        return raw[:500]
    messages: list[str] = []
    for error in data.get("errors") or []:
        where = f"{error['field']}: " if error.get("field") else ""
        messages.append(where + str(error.get("message", "")))
    for violation in data.get("validation") or []:
        where = ".".join(str(p) for p in violation.get("location", []))
        messages.append(f"{where}: {violation.get('message', '')}")
    if not messages and data.get("detail"):
        messages.append(str(data["detail"]))
    return "; ".join(messages) or raw[:500]


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    return None if value is None else str(value)


def _wait_for(headers: Any, now: float) -> float | None:
    reset = _header(headers, "X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            pass
    after = _header(headers, "Retry-After")
    if after:
        try:
            return max(0.0, float(after))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(after).timestamp() - now)
            except (TypeError, ValueError):
                return None
    return None


def parse_answer(status: int, body: bytes | str | None, headers: Any, now: float) -> Answer:
    if 200 <= status < 300:
        return Answer(status, ref=_header(headers, "X-Message-Id"))
    wait = _wait_for(headers, now) if status == 429 else None
    return Answer(status, text=error_text(body) or f"HTTP {status}", wait=wait)


def configured_api_key(settings: Settings) -> str | None:
    """The key from settings (STRIDES_SENDGRID_API_KEY), else SENDGRID_API_KEY; None if neither is set.

    A key kept in a Prefect Secret block (`sendgrid_api_key_block`) is read by the flows, which hand
    it to `build_transport`; the edge sees no Prefect."""
    if settings.sendgrid_api_key is not None:
        return settings.sendgrid_api_key.get_secret_value()
    return os.environ.get("SENDGRID_API_KEY") or None


MISSING_KEY = (
    "transport 'sendgrid' needs an API key: set SENDGRID_API_KEY, STRIDES_SENDGRID_API_KEY "
    "or STRIDES_SENDGRID_API_KEY_BLOCK (a Prefect Secret block name)"
)


class SendGridTransport:
    name = "sendgrid"

    def __init__(
        self,
        api_key: str,
        *,
        host: str = "https://api.sendgrid.com",
        options: Options | None = None,
        mode: str = "rendered",
        template_id: str | None = None,
        concurrency: int = 8,
        timeout: float = 20.0,
        retry: Retry | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if mode == "dynamic-template" and not template_id:
            raise ConfigError("sendgrid mode 'dynamic-template' needs sendgrid_template_id (d-...)")
        self.host = host
        self.options = options or Options()
        self.mode = mode
        self.template_id = template_id
        self.concurrency = concurrency
        self.timeout = timeout
        self.retry = retry or Retry()
        self._sleep, self._clock, self._jitter = sleep, clock, jitter
        self.requests = 0
        # Cost of the public API, measured with bench/email_throughput.py (10,000 digests, rendered
        # mode, local sink): the client builds a urllib opener (its handlers and a scan of the
        # environment for proxies) and opens a new connection for every request, about 0.6 ms of CPU
        # a request against 0.15 ms over kept-alive connections. Rendered mode: 800 digests a second
        # against 1,456 (0.30 and 0.56 of the floor; 930 and 1,670 per CPU-second), and a pool of 2,
        # 4 or 16 makes no difference (the client is busy, not waiting). Against SendGrid itself a
        # request waits far longer on the network, and `concurrency` requests in flight hide it.
        self._client = SendGridAPIClient(api_key, host=host)
        # The client sets Content-Type on its shared header dict at the first JSON request, while
        # other pool threads may be copying that dict into their requests: set it before any starts.
        self._client.client.request_headers.setdefault("Content-Type", "application/json")

    @classmethod
    def from_settings(cls, settings: Settings, api_key: str) -> SendGridTransport:
        """Configured from settings; the key is resolved by the caller (`build_transport`)."""
        return cls(
            api_key,
            host=settings.sendgrid_host,
            options=Options(
                categories=tuple(settings.sendgrid_categories), sandbox=settings.sendgrid_sandbox
            ),
            mode=settings.sendgrid_mode,
            template_id=settings.sendgrid_template_id,
            concurrency=settings.sendgrid_concurrency,
            timeout=settings.sendgrid_timeout,
            retry=Retry(max_attempts=settings.sendgrid_max_attempts, max_wait=settings.sendgrid_max_wait),
        )

    def __repr__(self) -> str:
        return f"SendGridTransport(host={self.host!r}, mode={self.mode!r}, key=***)"

    # The payload is built from strides' structured content: MIME is never built for SendGrid.
    wants_structured = True

    @property
    def wants_template_data(self) -> bool:
        return self.mode == "dynamic-template"

    # -- step two: the only method that does HTTP --------------------------------------------------
    def _post(self, payload: Mapping[str, Any]) -> Answer:
        self.requests += 1
        try:
            response = self._client.client.mail.send.post(request_body=dict(payload), timeout=self.timeout)
        except HTTPError as exc:
            return parse_answer(exc.status_code, exc.body, exc.headers, self._clock())
        return parse_answer(response.status_code, response.body, response.headers, self._clock())

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.retry.max_wait, self.retry.base * 2.0 ** (attempt - 1))
        return float(ceiling / 2 + self._jitter() * ceiling / 2)

    def deliver(self, key: str, payload: Mapping[str, Any]) -> str:
        """Post one request with bounded retries; `key` names it in errors (a message or a batch)."""
        last = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                answer = self._post(payload)
            except OSError as exc:  # timeouts, refused and dropped connections
                last = f"SendGrid {self.host}: {type(exc).__name__}: {exc}"
                wait = self._backoff(attempt)
            else:
                if answer.ok:
                    return answer.ref or f"sendgrid:{key}"
                last = f"SendGrid {answer.status}: {answer.text}"
                if answer.status in (401, 403):
                    raise DeliveryError(key, last, permanent=False)
                if 400 <= answer.status < 500 and answer.status != 429:
                    raise DeliveryError(key, last, permanent=True)
                wait = self._backoff(attempt)
                if answer.status == 429 and answer.wait is not None:
                    wait = answer.wait + self._jitter()
            if attempt < self.retry.max_attempts:
                log.info("SendGrid attempt %d for %s: %s; waiting %.1fs", attempt, key, last, wait)
                self._sleep(min(wait, self.retry.max_wait))
        raise DeliveryError(key, f"{last} (gave up after {self.retry.max_attempts} attempts)")

    # -- the transport interface -------------------------------------------------------------------
    def send(self, key: str, message: EmailMessage, label: str) -> str:
        return self.deliver(key, build_payload(message, self.options))

    def send_many(
        self, items: Sequence[Outgoing], on_result: OnResult | None = None
    ) -> list[str | DeliveryError]:
        results: list[str | DeliveryError | None] = [None] * len(items)

        def done(indices: Sequence[int], outcome: str | DeliveryError) -> None:
            for index in indices:
                results[index] = outcome
            if on_result is not None:
                on_result(indices, outcome)

        rendered: list[int] = []
        templated: list[int] = []
        for index, item in enumerate(items):
            if self.wants_template_data and item.template_data is not None:
                templated.append(index)
            else:
                rendered.append(index)
        for start in range(0, len(templated), MAX_PERSONALIZATIONS):
            batch = templated[start : start + MAX_PERSONALIZATIONS]
            done(batch, self._send_template_batch([items[i] for i in batch]))
        if rendered:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                for index, outcome in zip(
                    rendered, pool.map(self._send_one, [items[i] for i in rendered]), strict=True
                ):
                    done((index,), outcome)
        return [r if r is not None else DeliveryError("?", "not sent") for r in results]

    def _send_one(self, item: Outgoing) -> str | DeliveryError:
        source = item.content if item.content is not None else item.mime()
        try:
            return self.deliver(item.key, build_payload(source, self.options))
        except DeliveryError as exc:
            return exc

    def _send_template_batch(self, items: Sequence[Outgoing]) -> str | DeliveryError:
        assert self.template_id is not None
        entries: list[TemplateItem] = []
        sources = [item.content if item.content is not None else item.mime() for item in items]
        for item, source in zip(items, sources, strict=True):
            assert item.template_data is not None
            entries.append(template_item(source, item.template_data))
        sender = to_parts(sources[0]).sender
        payload = build_template_payload(entries, sender, self.template_id, self.options)
        batch_key = f"{items[0].key}+{len(items) - 1}"
        try:
            return self.deliver(batch_key, payload)
        except DeliveryError as exc:
            return exc
