"""A CalDAV account, read from a real Radicale server that the events were put into with `caldav`.

Ada's account holds the events of tests/fixtures/calendars/ada.ics, one resource per UID (the
weekly team sync with its EXDATE and its moved occurrence is one resource), in two calendars: the
day off in "home", the rest in "work". Her delegate, boss, may only see her free-busy.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from strides.integrations.busy_caldav import read_caldav
from strides.integrations.busy_times import CalendarReadError, merge

from ..conftest import at
from .conftest import PASSWORDS, IcsServer
from .test_published import END, IN_BERLIN, START

BERLIN = ZoneInfo("Europe/Berlin")
DAY_OFF = (IN_BERLIN[4],)


@pytest.fixture
def ada(ada_calendars: dict[str, str]) -> dict[str, str]:
    return ada_calendars


def test_an_account_gives_the_busy_times_of_all_its_calendars(radicale: str, ada: dict[str, str]):
    busy = read_caldav(radicale, "ada", PASSWORDS["ada"], "ada", START, END, BERLIN)
    assert busy == IN_BERLIN


def test_an_address_of_one_calendar_reads_only_that_one(ada: dict[str, str]):
    assert read_caldav(ada["home"], "ada", PASSWORDS["ada"], "ada", START, END, BERLIN) == list(DAY_OFF)
    work = read_caldav(ada["work"], "ada", PASSWORDS["ada"], "ada", START, END, BERLIN)
    assert work == [span for span in IN_BERLIN if span not in DAY_OFF]


def test_a_delegate_with_free_busy_only_gets_the_servers_reading_from_a_free_busy_query(
    ada: dict[str, str],
):
    # Radicale refuses boss the events (403) and answers his free-busy-query REPORT: the server's
    # own reading of the same events. It differs from strides' reading where the server reads
    # differently (why strides reads events when it may): a floating time and a day in UTC rather
    # than in Ada's zone, an event without an end as one second, and the New York series (its
    # TZID has no VTIMEZONE in the file) at its first occurrence's UTC offset after the DST change.
    ours = {*IN_BERLIN} - {*DAY_OFF}
    radicales = {
        IN_BERLIN[2]: (at("2027-03-12 15:00"), at("2027-03-12 16:00")),
        IN_BERLIN[3]: (at("2027-03-17 14:00"), at("2027-03-17 14:30")),
        IN_BERLIN[6]: (at("2027-03-24 14:00"), at("2027-03-24 14:30")),
    }
    moment = (at("2027-03-16 12:00"), at("2027-03-16 12:00") + timedelta(seconds=1))
    work = read_caldav(ada["work"], "boss", PASSWORDS["boss"], "ada", START, END, BERLIN)
    assert work == sorted({radicales.get(span, span) for span in ours} | {moment})
    home = read_caldav(ada["home"], "boss", PASSWORDS["boss"], "ada", START, END, BERLIN)
    assert home == [(at("2027-03-19 00:00"), at("2027-03-20 00:00"))]
    # The address of Ada's account (her principal) reads all the calendars she shares with boss.
    account = read_caldav(
        ada["work"].rsplit("/", 2)[0] + "/", "boss", PASSWORDS["boss"], "ada", START, END, BERLIN
    )
    assert account == merge([*work, *home], START, END)


def test_a_refused_login_is_a_located_error_without_the_password(radicale: str, ada: dict[str, str]):
    wrong = "Wrong-Pass-" + PASSWORDS["ada"]
    with pytest.raises(CalendarReadError) as caught:
        read_caldav(radicale, "ada", wrong, "ada", START, END, BERLIN)
    error = caught.value
    assert (error.person_id, error.source) == ("ada", f"caldav {radicale} as ada")
    assert "401" in error.answer or "Unauthorized" in error.answer, error.answer
    assert wrong not in str(error) and PASSWORDS["ada"] not in str(error)


def test_a_calendar_that_is_not_there_is_a_located_error(radicale: str, ada: dict[str, str]):
    with pytest.raises(CalendarReadError) as caught:
        read_caldav(f"{radicale}ada/no-such-calendar/", "ada", PASSWORDS["ada"], "ada", START, END, BERLIN)
    assert caught.value.source == f"caldav {radicale}ada/no-such-calendar/ as ada"
    assert "404" in caught.value.answer or "NotFound" in caught.value.answer, caught.value.answer


def test_a_server_that_speaks_no_caldav_is_a_located_error(ics_server: IcsServer):
    with pytest.raises(CalendarReadError) as caught:
        read_caldav(ics_server.base + "/dav/", "ada", "Some-Pass-42", "ada", START, END, BERLIN)
    assert caught.value.person_id == "ada"
    assert "Some-Pass-42" not in str(caught.value)


def test_a_server_that_never_answers_is_a_located_error_within_the_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections (the backlog) and never answers
        port = silent.getsockname()[1]
        with pytest.raises(CalendarReadError) as caught:
            read_caldav(f"http://127.0.0.1:{port}/", "ada", "pw-12345", "ada", START, END, BERLIN, timeout=1)
    assert "Timeout" in caught.value.answer or "timed out" in caught.value.answer, caught.value.answer
