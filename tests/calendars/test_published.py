"""A published ICS address, fetched over a real local HTTP socket and expanded.

The fixture (tests/fixtures/calendars/ada.ics) holds a weekly meeting in Berlin across Europe's DST
change, with one occurrence cancelled (EXDATE) and one moved (RECURRENCE-ID); a weekly call in New
York across America's DST change; an all-day day off; a floating time; a transparent, a cancelled
and a zero-length event, which are not busy.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from strides.integrations.busy_ics import read_ics
from strides.integrations.busy_times import CalendarReadError

from ..conftest import at
from .conftest import ADA_PATH, TOKEN, IcsServer

START, END = at("2027-03-08 00:00"), at("2027-04-06 00:00")
BERLIN, TOKYO = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo")

# Busy for a person in Berlin, in UTC: what a calendar user in Berlin sees as busy.
IN_BERLIN = [
    (at("2027-03-08 09:00"), at("2027-03-08 10:30")),  # team sync 10:00 CET, joined with an overlap
    (at("2027-03-10 14:00"), at("2027-03-10 14:30")),  # New York 09:00 EST
    (at("2027-03-12 14:00"), at("2027-03-12 15:00")),  # floating 15:00, read in Berlin (CET)
    (at("2027-03-17 13:00"), at("2027-03-17 13:30")),  # New York 09:00 EDT: an hour earlier in UTC
    (at("2027-03-18 23:00"), at("2027-03-19 23:00")),  # the day off, midnight to midnight in Berlin
    (at("2027-03-23 13:00"), at("2027-03-23 14:00")),  # 22 March's team sync, moved to the 23rd 14:00
    (at("2027-03-24 13:00"), at("2027-03-24 13:30")),  # New York, last of three
    (at("2027-03-29 08:00"), at("2027-03-29 09:00")),  # team sync 10:00 CEST: an hour earlier in UTC
    (at("2027-04-05 08:00"), at("2027-04-05 09:00")),
]


def test_a_published_calendar_gives_the_busy_times_a_calendar_user_sees(ics_server: IcsServer):
    busy = read_ics(ics_server.address(ADA_PATH), "ada", START, END, BERLIN)
    assert busy == IN_BERLIN
    assert all(a.utcoffset() == timedelta(0) and b.utcoffset() == timedelta(0) for a, b in busy)


def test_all_day_and_floating_events_are_placed_in_the_persons_own_zone(ics_server: IcsServer):
    busy = read_ics(ics_server.address(ADA_PATH), "kenji", START, END, TOKYO)
    berlin_only = {IN_BERLIN[2], IN_BERLIN[4]}
    assert [span for span in busy if span not in IN_BERLIN] == [
        (at("2027-03-12 06:00"), at("2027-03-12 07:00")),  # floating 15:00 in Tokyo
        (at("2027-03-18 15:00"), at("2027-03-19 15:00")),  # the day off, midnight to midnight in Tokyo
    ]
    assert [span for span in IN_BERLIN if span not in busy] == sorted(berlin_only)


def test_a_range_cuts_the_busy_times_at_its_edges(ics_server: IcsServer):
    start, end = at("2027-03-08 09:15"), at("2027-03-19 00:00")
    busy = read_ics(ics_server.address(ADA_PATH), "ada", start, end, BERLIN)
    assert busy[0] == (start, at("2027-03-08 10:30"))
    assert busy[-1] == (at("2027-03-18 23:00"), end)
    assert all(start <= a < b <= end for a, b in busy)


def test_a_webcal_link_is_fetched_over_its_https_twin(ics_server: IcsServer):
    # webcal:// is fetched as https://, which this plain HTTP server cannot answer: the TLS
    # handshake fails, so the scheme was rewritten (and the address is still kept secret).
    webcal = ics_server.address(ADA_PATH).replace("http://", "webcal://")
    with pytest.raises(CalendarReadError) as caught:
        read_ics(webcal, "ada", START, END, BERLIN, timeout=2)
    assert "SSL" in caught.value.answer
    assert TOKEN not in str(caught.value)
    assert caught.value.source.startswith("ics webcal://127.0.0.1:")


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        (f"/no-such/{TOKEN}/basic.ics", "HTTP 404 Not Found"),
        (f"/refused/{TOKEN}/basic.ics", "HTTP 403 Forbidden"),
        (f"/garbage/{TOKEN}/basic.ics", "not a calendar that can be read"),
        (f"/slow/{TOKEN}/basic.ics", "no answer within 1 s"),
    ],
)
def test_a_calendar_that_cannot_be_read_is_a_located_error_without_its_secret(
    ics_server: IcsServer, path: str, answer: str
):
    with pytest.raises(CalendarReadError) as caught:
        read_ics(ics_server.address(path), "ada", START, END, BERLIN, timeout=1)
    error = caught.value
    assert error.person_id == "ada"
    assert error.source == f"ics {ics_server.base}/… (address redacted)"
    assert error.answer.startswith(answer), error.answer
    assert str(error).startswith(f"person ada: calendar ics {ics_server.base}/… (address redacted): {answer}")
    # The 404 and 403 pages repeat the path; the message keeps the page and drops the secret.
    assert TOKEN not in str(error) and "5f3a9c0e" not in str(error)


def test_a_server_that_is_not_there_is_a_located_error(ics_server: IcsServer):
    from ..tools import free_port

    address = f"https://127.0.0.1:{free_port()}/calendar/{TOKEN}/basic.ics"
    with pytest.raises(CalendarReadError) as caught:
        read_ics(address, "ada", START, END, BERLIN, timeout=1)
    assert caught.value.answer.startswith("ConnectError")
    assert TOKEN not in str(caught.value)
