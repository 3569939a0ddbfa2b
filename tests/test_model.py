"""The domain model refuses what cannot be right."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from strides.domain.model import DigestPreferences, Goal, Metric, Organisation, Person, WorkingHours


def person(**changes):
    data = {
        "id": "p1",
        "name": "Pat",
        "email": "pat@example.com",
        "timezone": "Europe/Berlin",
        "country": "DE",
    }
    return Person.model_validate({**data, **changes})


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValidationError, match="timezone"):
        Goal(id="g", owner="p1", title="t", created_at=datetime(2026, 1, 1, 9, 0))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Europe/Berln", "unknown IANA timezone 'Europe/Berln'"),
        ("country", "XX", "unknown country code 'XX'"),
        ("subdivision", "ZZ", "unknown subdivision 'ZZ' for DE"),
        ("email", "pat@", "not a valid email address"),
        ("manager", "p1", "cannot be their own manager"),
        ("id", "has space", "String should match pattern"),
    ],
)
def test_people_are_validated(field, value, message):
    with pytest.raises(ValidationError, match=message):
        person(**{field: value})


def test_weekdays_read_as_names_or_numbers():
    assert DigestPreferences(weekday="Friday").weekday == 5
    assert DigestPreferences(weekday=2).weekday == 2
    assert WorkingHours(days=["mon", "tue"]).days == (1, 2)
    with pytest.raises(ValidationError, match="unknown weekday"):
        DigestPreferences(weekday="Funday")


def test_progress_is_clamped():
    assert Metric(name="talks", target=4, current=1).progress == 0.25
    assert Metric(name="talks", target=4, current=9).progress == 1.0


def test_an_organisation_refuses_dangling_references():
    with pytest.raises(ValidationError, match="unknown person 'ghost'"):
        Organisation(people={"p1": person(manager="ghost")}, goals={}, milestones={})


def test_copies_rebuild_their_indexes():
    # Regression: model_copy carried the cached owner index of the original.
    goal = Goal(id="g", owner="p1", title="t", created_at=datetime.fromisoformat("2026-01-01T09:00:00+00:00"))
    org = Organisation(people={"p1": person()}, goals={"g": goal}, milestones={})
    assert org.goals_of("p1") == [goal]
    assert org.model_copy(update={"goals": {}}).goals_of("p1") == []
