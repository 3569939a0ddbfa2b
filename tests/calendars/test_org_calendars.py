"""Where people's calendars are configured: the optional `calendar` of a person in the organisation
files (YAML nests it, CSV has `calendar_*` columns), refused with its file, line and field."""

from __future__ import annotations

from strides.domain.model import CalendarSource
from strides.integrations.org_files import load_organisation
from strides.store import records

from ..conftest import FIXTURES, ROOT

ORG = FIXTURES / "org-calendars"


def test_yaml_people_name_a_published_address_or_a_caldav_account():
    result = load_organisation(ORG / "yaml", base=ROOT)
    people = result.organisation.people
    assert people["ada"].calendar == CalendarSource(
        ics="https://calendar.google.com/calendar/ical/ada%40example.com/private-0a1b2c3d/basic.ics"
    )
    assert people["bob"].calendar == CalendarSource(
        caldav="https://dav.example.com/bob/", username="bob", password_env="STRIDES_CALDAV_BOB"
    )
    assert people["cy"].calendar is None
    assert sorted(people) == ["ada", "bob", "cy"]


def test_a_calendar_that_cannot_be_used_is_refused_where_it_is_written():
    result = load_organisation(ORG / "yaml", base=ROOT)
    where = "tests/fixtures/org-calendars/yaml/people.yaml"
    assert [str(r) for r in result.rejected] == [
        f"{where}:29: person dee: field 'calendar': a calendar is either 'ics' (a published address)"
        " or 'caldav' (an account)",
        f"{where}:37: person eve: field 'calendar': the calendar address holds a password:"
        " name an environment variable in password_env",
        f"{where}:44: person fay: field 'calendar': the calendar address must be a https or http or"
        " webcal or webcals URL with a host",
        f"{where}:51: person gus: field 'calendar': 'password_env' is the name of an environment"
        " variable (letters, digits, _)",
    ]
    # The refusal never repeats an address or a password.
    assert not any("hunter2" in str(r) or "ftp://" in str(r) for r in result.rejected)


def test_csv_people_have_calendar_columns():
    result = load_organisation(ORG / "csv", base=ROOT)
    people = result.organisation.people
    assert people["ada"].calendar == CalendarSource(
        ics="webcal://p01-calendars.icloud.com/published/2/MTAxMjM0NTY3ODkw"
    )
    assert people["bob"].calendar == CalendarSource(
        caldav="https://dav.example.com/bob/", username="bob", password_env="STRIDES_CALDAV_BOB"
    )
    assert people["cy"].calendar is None
    assert [str(r) for r in result.rejected] == [
        "tests/fixtures/org-calendars/csv/people.csv:5: person dee: field 'calendar':"
        " 'username' and 'password_env' go with 'caldav', not 'ics'"
    ]


def test_a_stored_person_keeps_their_calendar():
    for person in load_organisation(ORG / "yaml", base=ROOT).organisation.people.values():
        assert records.person(person.model_dump_json()) == person
