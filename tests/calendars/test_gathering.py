"""A tick's busy times: each person's calendar read at most once, unreadable ones as warnings.

The calendars are real: the published file over a local HTTP socket and Ada's Radicale account.
"""

from __future__ import annotations

import pytest

from strides.config import Settings
from strides.domain.model import CalendarSource, Person
from strides.engine.busy import BusyCache

from ..conftest import at
from .conftest import ADA_PATH, PASSWORDS, TOKEN, IcsServer
from .test_published import END, IN_BERLIN, START


def person(pid: str, zone: str = "Europe/Berlin", calendar: CalendarSource | None = None) -> Person:
    return Person(
        id=pid, name=pid.title(), email=f"{pid}@example.com", timezone=zone, country="DE", calendar=calendar
    )


@pytest.fixture
def people(ics_server: IcsServer, radicale: str) -> dict[str, Person]:
    published = CalendarSource(ics=ics_server.address(ADA_PATH))
    return {
        p.id: p
        for p in (
            person("ada", calendar=published),
            person("kenji", "Asia/Tokyo", calendar=published),
            person("cy"),  # no calendar
            person("dee", calendar=CalendarSource(ics=ics_server.address(f"/gone/{TOKEN}/basic.ics"))),
            person(
                "eve",
                calendar=CalendarSource(caldav=radicale, username="ada", password_env="STRIDES_TEST_ADA"),
            ),
            person(
                "fay",
                calendar=CalendarSource(caldav=radicale, username="ada", password_env="STRIDES_TEST_UNSET"),
            ),
        )
    }


def test_busy_times_for_a_set_of_people_with_a_warning_per_unreadable_calendar(
    people: dict[str, Person], ics_server: IcsServer, ada_calendars: dict[str, str]
):
    cache = BusyCache(environ={"STRIDES_TEST_ADA": PASSWORDS["ada"]}, timeout=2)
    found = cache.busy(people, ["ada", "kenji", "cy", "dee", "eve", "fay", "nobody"], START, END)
    assert sorted(found.busy) == ["ada", "cy", "dee", "eve", "fay", "kenji"]  # an unknown id is left out
    assert list(found.busy["ada"]) == IN_BERLIN
    assert (at("2027-03-18 15:00"), at("2027-03-19 15:00")) in found.busy["kenji"]  # Tokyo's day off
    assert found.busy["eve"] == found.busy["ada"]  # the same events, in Radicale
    assert found.busy["cy"] == found.busy["dee"] == found.busy["fay"] == ()
    assert [(w.person_id, w.answer.split(":")[0]) for w in found.warnings] == [
        ("dee", "HTTP 404 Not Found"),
        ("fay", "environment variable STRIDES_TEST_UNSET is not set"),
    ]
    assert not any(TOKEN in str(w) or PASSWORDS["ada"] in str(w) for w in found.warnings)


def test_each_calendar_is_read_once_per_tick_and_a_narrower_range_is_cut_from_it(
    people: dict[str, Person], ics_server: IcsServer
):
    cache = BusyCache(timeout=2)
    gone = f"/gone/{TOKEN}/basic.ics"
    before = ics_server.hits[ADA_PATH], ics_server.hits[gone]
    whole = cache.busy(people, ["ada", "dee"], START, END)
    again = cache.busy(people, ["dee", "ada"], START, END)
    start, end = at("2027-03-19 12:00"), at("2027-03-24 00:00")
    narrower = cache.busy(people, ["ada", "dee"], start, end)
    assert (ics_server.hits[ADA_PATH], ics_server.hits[gone]) == (before[0] + 1, before[1] + 1)
    assert again == whole
    assert list(narrower.busy["ada"]) == [
        (start, at("2027-03-19 23:00")),
        (at("2027-03-23 13:00"), at("2027-03-23 14:00")),
    ]
    # An unreadable calendar is not asked again within the tick: it warns again, from memory.
    assert [w.person_id for w in narrower.warnings] == ["dee"]
    # A range the tick has not read is a new read.
    cache.busy(people, ["ada"], START, END.replace(month=5))
    assert ics_server.hits[ADA_PATH] == before[0] + 2


def test_a_second_person_with_the_same_address_is_read_for_themselves(
    people: dict[str, Person], ics_server: IcsServer
):
    # Ada and Kenji publish the same file: each is read (their zones place its days differently).
    before = ics_server.hits[ADA_PATH]
    found = BusyCache(timeout=2).busy(people, ["ada", "kenji"], START, END)
    assert ics_server.hits[ADA_PATH] == before + 2
    assert found.busy["ada"] != found.busy["kenji"]


def test_busy_times_are_asked_for_aware_moments(people: dict[str, Person]):
    with pytest.raises(ValueError, match="aware"):
        BusyCache().busy(people, ["ada"], START.replace(tzinfo=None), END)


def test_the_timeout_is_a_setting():
    assert Settings().calendar_timeout == 5.0
    assert BusyCache(timeout=Settings(calendar_timeout=2.5).calendar_timeout).timeout == 2.5
