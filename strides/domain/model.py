"""The domain: people, their professional-development goals and the milestones on the way.

Every datetime is timezone-aware. Deadlines and due dates are calendar days, read in the
owner's own IANA timezone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from datetime import date, time
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Final, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays
from pydantic import (
    AfterValidator,
    AnyUrl,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
    validate_email,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

STORED: Final[Mapping[str, bool]] = MappingProxyType({"stored": True})
"""Validation context for records strides stored itself (`Person.model_validate_json(text,
context=STORED)`): they were validated, with the whole organisation, when they were saved, so
the checks that cost most (email syntax, the timezone, country and subdivision registries) are
not made again. Everything else (types, lengths, patterns) is validated as ever."""


def _stored(info: ValidationInfo) -> bool:
    return info.context is STORED


@functools.cache
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@functools.cache
def _known_countries() -> dict[str, tuple[str, ...]]:
    return {code: tuple(subdivs) for code, subdivs in holidays.list_supported_countries().items()}


@functools.cache
def zone(name: str) -> ZoneInfo:
    """ZoneInfo keeps only 8 zones alive for sure; an organisation spans more, so keep them all."""
    return ZoneInfo(name)


def _check_timezone(name: str, info: ValidationInfo) -> str:
    if _stored(info):
        return name
    if name not in _known_timezones():
        raise ValueError(f"unknown IANA timezone {name!r} (for example 'Europe/Berlin')")
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - tzdata mismatch
        raise ValueError(f"unknown IANA timezone {name!r}") from exc
    return name


def _check_country(code: str, info: ValidationInfo) -> str:
    if _stored(info):
        return code
    code = code.upper()
    if code not in _known_countries():
        raise ValueError(f"unknown country code {code!r} (ISO 3166-1 alpha-2, for example 'DE')")
    return code


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday(value: object) -> object:
    """Accept ISO numbers (Monday = 1) or English names ('Mon', 'monday')."""
    if isinstance(value, str) and not value.strip().isdigit():
        key = value.strip().lower()[:3]
        if key not in _WEEKDAYS:
            raise ValueError(f"unknown weekday {value!r}")
        return _WEEKDAYS.index(key) + 1
    return value


def _check_email(address: str, info: ValidationInfo) -> str:
    """pydantic's `EmailStr` (the address normalised), unless the record is a stored one."""
    return address if _stored(info) else validate_email(address)[1]


class _NumbersFirstInJson:
    """In JSON, a weekday that is a number from 1 to 7 is taken as it is, without the call into
    Python that reads names: stored records hold numbers, a person six of them (together 2.2 µs
    of the 8.2 µs a stored person took). Other JSON gets the whole validation (and, when it fails,
    the union's two errors); Python input (files, constructors) is validated exactly as before."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        schema = handler(source)
        number = core_schema.int_schema(strict=True, ge=1, le=7)
        choices: list[core_schema.CoreSchema | tuple[core_schema.CoreSchema, str]]
        choices = [(number, "number"), (schema, "weekday")]
        return core_schema.json_or_python_schema(
            json_schema=core_schema.union_schema(choices, mode="left_to_right"), python_schema=schema
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "integer", "minimum": 1, "maximum": 7}


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _one_line(value: str, info: ValidationInfo) -> str:
    if _stored(info):
        return value  # checked when it was saved
    if found := _CONTROL.search(value):
        raise ValueError(
            f"control character {found.group()!r} at position {found.start() + 1} (one line of text)"
        )
    return value


Email = Annotated[str, AfterValidator(_check_email), WithJsonSchema({"type": "string", "format": "email"})]
TimezoneName = Annotated[str, AfterValidator(_check_timezone)]
CountryCode = Annotated[str, AfterValidator(_check_country)]
Weekday = Annotated[int, BeforeValidator(_weekday), Field(ge=1, le=7), _NumbersFirstInJson()]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
# What goes into an email header or a calendar field (a person's name, a goal's or milestone's title):
# one line of text, no control characters (NUL, CR, LF), and a length a header can carry.
HeaderText = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_one_line)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class WorkingHours(Strict):
    start: time = time(9, 0)
    end: time = time(17, 0)
    # ISO weekdays, Monday = 1.
    days: tuple[Weekday, ...] = (1, 2, 3, 4, 5)

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError("working hours must end after they start")
        # Each day is 1 to 7 already (`Weekday`); checking them again here cost a fifth of
        # validating working hours.
        if not self.days:
            raise ValueError("working days are ISO weekdays 1 (Monday) to 7 (Sunday)")
        return self


class DigestPreferences(Strict):
    enabled: bool = True
    # ISO weekday, Monday = 1.
    weekday: Weekday = 1
    at: time = time(8, 0)
    send_empty: bool = False


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_address(url: str, schemes: tuple[str, ...]) -> None:
    """A calendar address: one of `schemes`, a host, no password (the message never repeats the
    address, which may be a secret)."""
    wanted = f"the calendar address must be a {' or '.join(schemes)} URL with a host"
    try:
        parts = AnyUrl(url)
    except ValueError:
        raise ValueError(wanted) from None
    if parts.scheme not in schemes or not parts.host:
        raise ValueError(wanted)
    if parts.password is not None:
        raise ValueError(
            "the calendar address holds a password: name an environment variable in password_env"
        )


class CalendarSource(Strict):
    """Where a person's busy times are read: a published ICS address or a CalDAV account."""

    # The "secret address in iCal format" a calendar publishes (Google, Outlook, Apple...).
    ics: str | None = Field(default=None, max_length=2000)
    # A CalDAV account (the server, the account's principal, or one calendar collection).
    caldav: str | None = Field(default=None, max_length=2000)
    username: str | None = Field(default=None, min_length=1, max_length=200)
    # The name of the environment variable holding the password: never the password itself.
    password_env: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_source(self, info: ValidationInfo) -> CalendarSource:
        if (self.ics is None) == (self.caldav is None):
            raise ValueError("a calendar is either 'ics' (a published address) or 'caldav' (an account)")
        if self.ics is not None and (self.username is not None or self.password_env is not None):
            raise ValueError("'username' and 'password_env' go with 'caldav', not 'ics'")
        if self.password_env is not None and self.username is None:
            raise ValueError("'password_env' needs a 'username'")
        if _stored(info):
            return self
        if self.ics is not None:
            _check_address(self.ics, ("https", "http", "webcal", "webcals"))
        if self.caldav is not None:
            _check_address(self.caldav, ("https", "http"))
        if self.password_env is not None and not _ENV_NAME.match(self.password_env):
            raise ValueError("'password_env' is the name of an environment variable (letters, digits, _)")
        return self


class Person(Strict):
    id: Identifier
    name: HeaderText
    email: Email
    timezone: TimezoneName
    country: CountryCode
    subdivision: str | None = None
    locale: str = "en"
    manager: Identifier | None = None
    mentors: tuple[Identifier, ...] = ()
    working_hours: WorkingHours = WorkingHours()
    digest: DigestPreferences = DigestPreferences()
    hired_on: date | None = None
    # Where their busy times are read from, if anywhere.
    calendar: CalendarSource | None = None
    # Optional rules (`optional: true`) this person chose not to receive, on their preference page.
    declined: tuple[Identifier, ...] = ()

    @model_validator(mode="after")
    def _subdivision_known(self, info: ValidationInfo) -> Person:
        if self.subdivision is not None and not _stored(info):
            known = _known_countries()[self.country]
            if self.subdivision not in known:
                raise ValueError(
                    f"unknown subdivision {self.subdivision!r} for {self.country}"
                    + (f" (known: {', '.join(known[:8])}...)" if known else " (it has none)")
                )
        if self.manager is not None and self.manager == self.id:
            raise ValueError("a person cannot be their own manager")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)


class Horizon(StrEnum):
    SHORT = "short"
    LONG = "long"


class GoalStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    DROPPED = "dropped"


class Metric(Strict):
    """The measurable part of a SMART goal."""

    name: str = Field(min_length=1)
    target: float
    current: float = 0.0
    unit: str = ""

    @property
    def progress(self) -> float:
        """Share of the target reached, clamped to [0, 1]."""
        if self.target == 0:
            return 1.0 if self.current >= 0 else 0.0
        return max(0.0, min(1.0, self.current / self.target))


class Goal(Strict):
    id: Identifier
    owner: Identifier
    title: HeaderText
    what: str = ""
    why: str = ""
    metric: Metric | None = None
    deadline: date | None = None
    horizon: Horizon = Horizon.SHORT
    status: GoalStatus = GoalStatus.ACTIVE
    tags: tuple[str, ...] = ()
    created_at: AwareDatetime
    completed_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _completion_consistent(self) -> Goal:
        if self.status is GoalStatus.COMPLETED and self.completed_at is None:
            raise ValueError("a completed goal needs completed_at")
        return self

    @property
    def is_smart(self) -> bool:
        return self.metric is not None and self.deadline is not None


class Milestone(Strict):
    id: Identifier
    goal: Identifier
    title: HeaderText
    due: date
    completed_at: AwareDatetime | None = None

    @property
    def done(self) -> bool:
        return self.completed_at is not None


class Organisation(Strict):
    """A consistent snapshot: every reference resolves."""

    people: dict[str, Person]
    goals: dict[str, Goal]
    milestones: dict[str, Milestone]

    @model_validator(mode="after")
    def _references_resolve(self) -> Organisation:
        for person in self.people.values():
            for ref in (person.manager, *person.mentors):
                if ref is not None and ref not in self.people:
                    raise ValueError(f"person {person.id}: unknown person {ref!r}")
        for goal in self.goals.values():
            if goal.owner not in self.people:
                raise ValueError(f"goal {goal.id}: unknown owner {goal.owner!r}")
        for milestone in self.milestones.values():
            if milestone.goal not in self.goals:
                raise ValueError(f"milestone {milestone.id}: unknown goal {milestone.goal!r}")
        return self

    _INDEXES: ClassVar[tuple[str, ...]] = ("_goals_by_owner", "_milestones_by_goal", "_reports_by_manager")

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Organisation:
        """Copies must rebuild their indexes: the cached ones describe the original."""
        copy = super().model_copy(update=update, deep=deep)
        for name in self._INDEXES:
            copy.__dict__.pop(name, None)
        return copy

    @functools.cached_property
    def _goals_by_owner(self) -> dict[str, list[Goal]]:
        index: dict[str, list[Goal]] = {}
        for goal in self.goals.values():
            index.setdefault(goal.owner, []).append(goal)
        return index

    @functools.cached_property
    def _milestones_by_goal(self) -> dict[str, list[Milestone]]:
        index: dict[str, list[Milestone]] = {}
        for milestone in self.milestones.values():
            index.setdefault(milestone.goal, []).append(milestone)
        return index

    @functools.cached_property
    def _reports_by_manager(self) -> dict[str, list[Person]]:
        index: dict[str, list[Person]] = {}
        for person in self.people.values():
            if person.manager is not None:
                index.setdefault(person.manager, []).append(person)
        return index

    def goals_of(self, person_id: str) -> list[Goal]:
        return self._goals_by_owner.get(person_id, [])

    def milestones_of(self, goal_id: str) -> list[Milestone]:
        return self._milestones_by_goal.get(goal_id, [])

    def reports_of(self, person_id: str) -> list[Person]:
        return self._reports_by_manager.get(person_id, [])


class Records(Protocol):
    """Records by id: an Organisation, or a view of the store that reads them on demand."""

    @property
    def people(self) -> Mapping[str, Person]: ...

    @property
    def goals(self) -> Mapping[str, Goal]: ...

    @property
    def milestones(self) -> Mapping[str, Milestone]: ...


class OrgLike(Records, Protocol):
    """Records by id and by relationship: an Organisation, or a view of one."""

    def goals_of(self, person_id: str) -> Sequence[Goal]: ...

    def milestones_of(self, goal_id: str) -> Sequence[Milestone]: ...

    def reports_of(self, person_id: str) -> Sequence[Person]: ...
