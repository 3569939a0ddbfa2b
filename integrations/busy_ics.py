"""Busy times from a published ICS address (the "secret address in iCal format"), over HTTP(S)."""

from __future__ import annotations

import time
from datetime import datetime, tzinfo

import httpx

from strides.integrations.busy_times import (
    CalendarReadError,
    Interval,
    busy_in_calendar,
    parse_calendar,
    redact_address,
    scrub,
    secrets_of,
)

# A published calendar of many years stays well under this; more is not a calendar worth reading.
MAX_BYTES = 20 * 1024 * 1024


def _fetchable(url: str) -> str:
    """webcal:// is how calendar apps link a published address; it is fetched over HTTPS."""
    scheme, _, rest = url.partition("://")
    return f"https://{rest}" if scheme.lower() in ("webcal", "webcals") else url


def fetch_ics(url: str, person_id: str, *, timeout: float = 5.0) -> bytes:
    """The body of a published calendar; CalendarReadError (the address redacted) when the server
    refuses, cannot be reached, or takes longer than `timeout` seconds in all."""
    source, secrets = f"ics {redact_address(url, secret_path=True)}", secrets_of(url)
    # The timeouts bound each step; the deadline bounds a server that trickles its answer.
    deadline = time.monotonic() + timeout
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, headers={"User-Agent": "strides"}) as client,
            client.stream("GET", _fetchable(url)) as response,
        ):
            limit = MAX_BYTES if response.status_code == 200 else 4096
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if time.monotonic() > deadline:
                    raise CalendarReadError(person_id, source, f"no whole answer within {timeout:g} s")
                if len(body) > limit:
                    break
            if response.status_code != 200:
                page = body[:300].decode(errors="replace")
                answer = f"HTTP {response.status_code} {response.reason_phrase}: {page}"
                raise CalendarReadError(person_id, source, scrub(answer, secrets))
            if len(body) > MAX_BYTES:
                raise CalendarReadError(person_id, source, f"larger than {MAX_BYTES // 2**20} MiB")
            return bytes(body)
    except CalendarReadError:
        raise
    except httpx.TimeoutException as exc:
        raise CalendarReadError(person_id, source, f"no answer within {timeout:g} s") from exc
    except Exception as exc:
        # httpx's errors (and those that are not httpx.HTTPError: an address it cannot use, a
        # stream cut off) and the socket's: any of them leaves only this person unread.
        answer = scrub(f"{type(exc).__name__}: {exc}", secrets)
        raise CalendarReadError(person_id, source, answer) from exc


def read_ics(
    url: str, person_id: str, start: datetime, end: datetime, zone: tzinfo, *, timeout: float = 5.0
) -> list[Interval]:
    """A person's busy intervals in [start, end) from their published calendar."""
    body = fetch_ics(url, person_id, timeout=timeout)
    try:
        return busy_in_calendar([parse_calendar(body)], start, end, zone)
    except Exception as exc:  # the parser's errors are ValueErrors mostly, not only
        source = f"ics {redact_address(url, secret_path=True)}"
        answer = scrub(f"not a calendar that can be read: {exc}", secrets_of(url))
        raise CalendarReadError(person_id, source, answer) from exc
