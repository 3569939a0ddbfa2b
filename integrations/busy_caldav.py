"""Busy times from a CalDAV account, through the `caldav` library.

The address is a server, an account's principal (its calendars are found, RFC 4791/6764), or one
calendar collection. Each calendar is read by a time-range search of its events, expanded here
like a published calendar (so all-day and floating events fall in the person's own zone, which a
server's free-busy answer places in its own, UTC on Radicale); an account that may not read
events (a delegate with the read-free-busy privilege only) or a server without that search is
asked for free-busy instead (the `free-busy-query` REPORT, RFC 4791 7.10).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, cast

from caldav.collection import Calendar as DavCalendar
from caldav.collection import Principal
from caldav.davclient import DAVClient
from caldav.elements import dav
from caldav.lib import error as dav_error

from strides.integrations.busy_times import (
    CalendarReadError,
    Interval,
    busy_in_calendar,
    busy_in_freebusy,
    merge,
    parse_calendar,
    redact_address,
    scrub,
)

_CALENDAR = "{urn:ietf:params:xml:ns:caldav}calendar"
_PRINCIPAL = "{DAV:}principal"


def _calendars(client: DAVClient, url: str) -> list[DavCalendar]:
    """The calendar at `url`; the calendars of the principal at `url` (someone's account, shared
    with the user); else those of the user's own principal (found from the server's address)."""
    here = client.calendar(url=url)  # type: ignore[no-untyped-call]
    found = here.get_properties([dav.ResourceType()]).get("{DAV:}resourcetype") or []
    kinds = found if isinstance(found, list) else [found]
    if _CALENDAR in kinds:
        return [here]
    own = _PRINCIPAL not in kinds
    # The library's sync calls are typed as sync-or-async.
    principal: Any = client.principal() if own else Principal(client=client, url=url)  # type: ignore[no-untyped-call]
    return list(principal.calendars())


def _busy_of(calendar: DavCalendar, start: datetime, end: datetime, zone: tzinfo) -> list[Interval]:
    try:
        found: list[Any] = cast(list[Any], calendar.search(start=start, end=end, event=True, expand=False))
    except (dav_error.AuthorizationError, dav_error.ReportError):
        # Events may not be read (or searched) here: free-busy is what such an account may ask.
        answer: Any = calendar.freebusy_request(start, end)
        return busy_in_freebusy([parse_calendar(answer.data)], start, end)
    return busy_in_calendar([parse_calendar(item.data) for item in found], start, end, zone)


def read_caldav(
    url: str,
    username: str | None,
    password: str | None,
    person_id: str,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    *,
    timeout: float = 5.0,
) -> list[Interval]:
    """A person's busy intervals in [start, end) from every calendar of a CalDAV account."""
    source = f"caldav {redact_address(url, secret_path=False)}"
    if username and f"{username}@" not in source:
        source += f" as {username}"
    try:
        seconds = max(1, round(timeout))
        # Credentials go with the first request (Basic): waiting for the server's challenge costs
        # a round trip per request, and Radicale delays each unauthenticated one by a second.
        basic = "basic" if password is not None else None
        with DAVClient(
            url=url, username=username, password=password, timeout=seconds, auth_type=basic
        ) as client:
            calendars = _calendars(client, url)
            spans = [span for calendar in calendars for span in _busy_of(calendar, start, end, zone)]
    except Exception as exc:
        # The library and its HTTP client raise many kinds (refused logins, timeouts, XML that does
        # not parse, calendars that do not expand); any of them leaves only this person unread.
        answer = scrub(f"{type(exc).__name__}: {exc}", [password] if password else [])
        raise CalendarReadError(person_id, source, answer or type(exc).__name__) from exc
    return merge(spans, start, end)
