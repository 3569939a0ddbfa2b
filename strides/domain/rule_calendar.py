"""A rule's `calendar:` keys (business days, holidays, working and quiet hours, meeting placement)
and the pieces of the rule schema they share with the rest of it (`strides.domain.schema`)."""

from __future__ import annotations

from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema, model_validator

from strides.domain.durations import Duration
from strides.domain.model import CountryCode


class RuleModel(BaseModel):
    """Every model of a rule file: strict, so a typo is an error and not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _local_time(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        # A plain number (960) is not a time of day; an unquoted 16:00 is read as written
        # (strides.domain.yamltext).
        raise ValueError('write times in quotes, for example at: "16:00"')
    return value


LocalTime = Annotated[
    time,
    BeforeValidator(_local_time),
    WithJsonSchema(
        {"type": "string", "pattern": r"^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "examples": ["09:00"]}
    ),
]


class Shift(StrEnum):
    NONE = "none"
    NEXT = "next"
    PREVIOUS = "previous"


class NoOverlap(StrEnum):
    SKIP = "skip"
    OWNER_HOURS = "owner-hours"


class QuietHours(RuleModel):
    """Local hours in which nothing is sent; a notice inside them waits until they end."""

    start: LocalTime
    end: LocalTime


class Otherwise(StrEnum):
    """What placement does when no slot in the search range fits every attendee."""

    LEAST_BAD = "least-bad"
    SKIP = "skip"


class Slot(RuleModel):
    """Where a meeting may move to fit its attendees' calendars (rules/placement.py)."""

    # How far either side of the intended start the meeting may move: three days reach past a
    # weekend with a public holiday on either side of it (Christmas, Easter).
    within: Duration = timedelta(days=3)
    # The grid of candidate starts, counted from the intended start.
    step: Duration = timedelta(minutes=15)
    # No slot fits everyone: the least-bad one (never at night), or skip with cause `no-slot`.
    otherwise: Otherwise = Otherwise.LEAST_BAD

    @model_validator(mode="after")
    def _sensible(self) -> Slot:
        if self.within < timedelta(0) or self.within > timedelta(days=14):
            raise ValueError("slot.within is from 0m to 14d")
        if self.step < timedelta(minutes=5) or self.step > timedelta(days=1):
            raise ValueError("slot.step is from 5m to 1d")
        return self


class Calendar(RuleModel):
    """Time awareness: business days, public holidays, working and quiet hours, meeting overlap."""

    # Move a moment that falls on a weekend or public holiday to the next or previous business day.
    business_days: Shift = Shift.NONE
    # Count public holidays (the person's country and subdivision) as non-business days.
    holidays: bool = True
    # Use this country's holidays instead of each person's own.
    country: CountryCode | None = None
    # Move notices into the recipient's working hours.
    working_hours: bool = False
    quiet_hours: QuietHours | None = None
    # Invites with several people: place the meeting inside the overlap of everyone's working
    # hours on that day; this says what happens when there is no overlap.
    overlap: NoOverlap | None = None
    # Invites: how a meeting is placed in its attendees' calendars (every invite is).
    slot: Slot = Slot()
