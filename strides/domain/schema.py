"""The shape of a rule file: strict, so a typo is an error and not a silent default.

Every key of every model below is documented in docs/rules.md (a test keeps the two in step)
and exported as JSON Schema by `strides rules schema` (docs/rules.schema.json).
"""

from __future__ import annotations

import difflib
import re
from datetime import date, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from dateutil.rrule import rrulestr
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from strides.domain.conditions import ConditionError, compile_condition, condition_roots
from strides.domain.durations import Duration, Offset
from strides.domain.model import TimezoneName
from strides.domain.rule_calendar import (
    Calendar,
    LocalTime,
    NoOverlap,
    Otherwise,
    QuietHours,
    Shift,
    Slot,
)
from strides.domain.rule_calendar import RuleModel as _Strict

__all__ = ["Calendar", "LocalTime", "NoOverlap", "Otherwise", "QuietHours", "Shift", "Slot"]


_RRULE_PARTS = frozenset(
    {"FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY"}
    | {"BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST"}
)


def _check_rrule(text: str) -> str:
    body = text.strip().removeprefix("RRULE:")
    parts = dict(p.split("=", 1) for p in body.split(";") if "=" in p)
    for name in parts:
        if name.upper() not in _RRULE_PARTS:
            close = difflib.get_close_matches(name.upper(), sorted(_RRULE_PARTS), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"bad RRULE {text!r}: unknown part {name}{hint}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError("an RRULE may not have both COUNT and UNTIL (RFC 5545 3.3.10)")
    if "BYSETPOS" in parts and not any(k.startswith("BY") and k != "BYSETPOS" for k in parts):
        raise ValueError("BYSETPOS needs another BYxxx part to select from (RFC 5545 3.3.10)")
    freqs = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
    if "FREQ" in parts and parts["FREQ"].upper() not in freqs:
        close = difflib.get_close_matches(parts["FREQ"].upper(), freqs, n=1)
        hint = f" (did you mean FREQ={close[0]}?)" if close else f" (use one of {', '.join(freqs)})"
        raise ValueError(f"bad RRULE {text!r}: unknown FREQ={parts['FREQ']}{hint}")
    if "FREQ" not in parts:
        raise ValueError(f"bad RRULE {text!r}: FREQ is required (for example FREQ=WEEKLY;BYDAY=FR)")
    if parts["FREQ"].upper() in ("SECONDLY", "MINUTELY", "HOURLY"):
        # strides messages people on days: a cadence more often than daily is a mistake, and
        # would make every tick plan without bound.
        raise ValueError(
            f"bad RRULE {text!r}: a cadence is at most daily (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY)"
        )
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit() or not 1 <= int(interval) <= 1000:
        raise ValueError(f"bad RRULE {text!r}: INTERVAL is a whole number from 1 to 1000")
    for name in ("BYSECOND", "BYMINUTE", "BYHOUR"):
        if name in parts:
            raise ValueError(f"bad RRULE {text!r}: {name} has no place in a daily cadence (use `at:`)")
    try:
        rrulestr(body, dtstart=None, forceset=False)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bad RRULE {text!r}: {exc}") from exc
    return body


def _check_condition(text: str) -> str:
    try:
        compile_condition(text)
    except ConditionError as exc:
        raise ValueError(exc.message + (f" ({exc.hint})" if exc.hint else "")) from None
    return text


RRule = Annotated[
    str,
    AfterValidator(_check_rrule),
    WithJsonSchema(
        {
            "type": "string",
            # So that a digest's `every: digest-preference` matches one trigger of the oneOf only.
            "not": {"const": "digest-preference"},
            "examples": ["FREQ=WEEKLY;BYDAY=FR", "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=1"],
        }
    ),
]
RuleId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Condition = Annotated[str, Field(min_length=1), AfterValidator(_check_condition)]
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NINE = time(9, 0)


class Anchor(StrEnum):
    GOAL_DEADLINE = "goal.deadline"
    GOAL_CREATED = "goal.created"
    MILESTONE_DUE = "milestone.due"
    PERSON_HIRED = "person.hired"


class CadenceAnchor(StrEnum):
    ORGANISATION = "organisation"
    PERSON_HIRED = "person.hired"
    GOAL_CREATED = "goal.created"


class EventKind(StrEnum):
    """What an event rule fires on: the names `strides emit`, the HR intake and Prefect's event bus
    use (without their `strides.` prefix)."""

    GOAL_CREATED = "goal.created"
    GOAL_UPDATED = "goal.changed"
    GOAL_DEADLINE_MOVED = "goal.deadline-moved"
    GOAL_COMPLETED = "goal.completed"
    MILESTONE_COMPLETED = "milestone.completed"
    MILESTONE_OVERDUE = "milestone.overdue"

    @classmethod
    def _missing_(cls, value: object) -> EventKind | None:
        # Earlier spellings still read (the checker warns about them).
        new = DEPRECATED_EVENT_NAMES.get(str(value))
        return cls(new) if new is not None else None


# Event names rules once used, and the name each is now.
DEPRECATED_EVENT_NAMES = {"goal.updated": "goal.changed", "goal.deadline_moved": "goal.deadline-moved"}


class AnchorTrigger(_Strict):
    """Fire at offsets from a date on each active goal, open milestone or person."""

    anchor: Anchor
    # Calendar days (-14d, 2w) or the owner's business days (-7bd).
    offsets: tuple[Offset, ...] = Field(min_length=1)
    at: LocalTime = _NINE
    # Catch-up: a moment missed while the engine was down fires late, unless later than this.
    max_lateness: Duration = timedelta(days=1)

    @model_validator(mode="after")
    def _whole_days(self) -> AnchorTrigger:
        for offset in self.offsets:
            if offset % timedelta(days=1):
                raise ValueError("anchor offsets are whole days (for example -14d); use `at` for the time")
        return self

    @property
    def subject(self) -> str:
        return {Anchor.MILESTONE_DUE: "milestone", Anchor.PERSON_HIRED: "person"}.get(self.anchor, "goal")

    @property
    def time_of_day(self) -> time | None:
        return self.at

    @property
    def zone(self) -> str | None:
        return None

    @property
    def lateness(self) -> timedelta:
        return self.max_lateness


class CadenceTrigger(_Strict):
    """Fire on an RFC 5545 recurrence at a local time in each person's own timezone."""

    every: RRule
    at: LocalTime = _NINE
    # The first day the recurrence counts from (matters for INTERVAL > 1).
    starts: date = date(2024, 1, 1)
    # Count the recurrence per person from their hire date, or per goal from its creation.
    anchor: CadenceAnchor = CadenceAnchor.ORGANISATION
    # One wall clock for everyone (an organisation-wide meeting) instead of each person's own.
    timezone: TimezoneName | None = None
    max_lateness: Duration = timedelta(days=1)

    @property
    def subject(self) -> str:
        return "goal" if self.anchor is CadenceAnchor.GOAL_CREATED else "person"

    @property
    def time_of_day(self) -> time | None:
        return self.at

    @property
    def zone(self) -> str | None:
        return self.timezone

    @property
    def lateness(self) -> timedelta:
        return self.max_lateness


class DigestTrigger(_Strict):
    """Fire on each person's own digest weekday and time (their preferences)."""

    every: Literal["digest-preference"]

    @property
    def subject(self) -> str:
        return "person"

    @property
    def time_of_day(self) -> time | None:
        return None  # each person's own

    @property
    def zone(self) -> str | None:
        return None

    @property
    def lateness(self) -> timedelta:
        return timedelta.max  # a digest is never too late to send


class EventTrigger(_Strict):
    """Fire when something happens to a goal or milestone."""

    event: EventKind
    # How long after the event; with `at`, on that day at this local time instead.
    delay: Duration = timedelta(0)
    at: LocalTime | None = None
    max_lateness: Duration = timedelta(days=1)

    @property
    def subject(self) -> str:
        return "milestone" if self.event.value.startswith("milestone.") else "goal"

    @property
    def time_of_day(self) -> time | None:
        return self.at or _NINE

    @property
    def zone(self) -> str | None:
        return None

    @property
    def lateness(self) -> timedelta:
        return self.max_lateness


def _recipient(value: object) -> object:
    if not isinstance(value, str) or "@" in value:
        return value
    if value not in {r.value for r in Role}:
        names = [r.value for r in Role]
        close = difflib.get_close_matches(value, names, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ValueError(f"unknown recipient {value!r}: {hint}use {', '.join(names)} or an email address")
    return value


def _address(value: str) -> str:
    if "@" in value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError(f"bad email address {value!r}")
    return value


Recipient = Annotated[
    str,
    BeforeValidator(_recipient),
    AfterValidator(_address),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": ["owner", "manager", "skip-level", "mentor"]},
                {"type": "string", "format": "email"},
            ]
        }
    ),
]


class Step(_Strict):
    """One rung of an escalation ladder: how long after the due moment, and to whom."""

    after: Duration
    to: tuple[Recipient, ...] = Field(min_length=1)
    title: str | None = None
    # This rung's own text (the mentor or manager is told something else than the owner).
    body: str | None = None


class EscalationTrigger(_Strict):
    """An overdue milestone climbs a ladder of recipients until it is completed."""

    escalate: Literal["milestone.overdue"]
    steps: tuple[Step, ...] = Field(min_length=1)
    at: LocalTime = _NINE
    # Repeat the last step this often while the milestone stays open.
    repeat: Duration | None = None
    max_lateness: Duration = timedelta(days=1)

    @model_validator(mode="after")
    def _a_ladder(self) -> EscalationTrigger:
        previous: dict[frozenset[str], int] = {}
        for number, step in enumerate(self.steps, 1):
            if step.after <= timedelta(0) or step.after % timedelta(days=1):
                raise ValueError(f"step {number}: `after` is a positive number of days (for example 1d)")
            if number > 1 and step.after <= self.steps[number - 2].after:
                raise ValueError(
                    f"escalation ladder loops: step {number} ({step.after.days}d) is not later than step "
                    f"{number - 1} ({self.steps[number - 2].after.days}d)"
                )
            who = frozenset(step.to)
            if who in previous:
                raise ValueError(
                    f"escalation ladder loops: step {number} goes back to the recipients of step "
                    f"{previous[who]} ({', '.join(sorted(who))})"
                )
            previous[who] = number
        if self.repeat is not None and self.repeat < timedelta(days=1):
            raise ValueError("repeat is at least 1d")
        return self

    @property
    def subject(self) -> str:
        return "milestone"

    @property
    def time_of_day(self) -> time | None:
        return self.at

    @property
    def zone(self) -> str | None:
        return None

    @property
    def lateness(self) -> timedelta:
        return self.max_lateness


def _trigger_kind(value: Any) -> str | None:
    keys = set(value) if isinstance(value, dict) else set(getattr(type(value), "model_fields", {}))
    if "anchor" in keys and "offsets" in keys | {"offsets"} and "every" not in keys:
        return "AnchorTrigger"
    if "every" in keys:
        every = value.get("every") if isinstance(value, dict) else getattr(value, "every", None)
        return "DigestTrigger" if every == "digest-preference" else "CadenceTrigger"
    if "event" in keys:
        return "EventTrigger"
    if "escalate" in keys:
        return "EscalationTrigger"
    return None


# Every trigger says what it fires for (`subject`: person, goal or milestone), at what local time
# (`time_of_day`), on whose clock (`zone`: one timezone for everyone, else None) and how late it may
# still fire (`lateness`). Each kind plans in a module of its own: strides/rules/planning/kinds/.
Trigger = Annotated[
    Annotated[AnchorTrigger, Tag("AnchorTrigger")]
    | Annotated[CadenceTrigger, Tag("CadenceTrigger")]
    | Annotated[DigestTrigger, Tag("DigestTrigger")]
    | Annotated[EventTrigger, Tag("EventTrigger")]
    | Annotated[EscalationTrigger, Tag("EscalationTrigger")],
    Discriminator(
        _trigger_kind,
        custom_error_type="trigger",
        custom_error_message="a trigger needs one of: anchor (with offsets), every, event, escalate",
    ),
]


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    SKIP_LEVEL = "skip-level"
    MENTOR = "mentor"


class Kind(StrEnum):
    INVITE = "invite"
    EMAIL = "email"
    DIGEST = "digest"


class MissingPolicy(StrEnum):
    SKIP = "skip"
    MANAGER = "manager"


class PausePolicy(StrEnum):
    """What a message does when it falls due while its recipient's mail is paused (holidays, leave)."""

    SKIP = "skip"
    SHIFT = "shift"


class Action(_Strict):
    kind: Kind
    to: tuple[Recipient, ...] = Field(default=(Role.OWNER.value,), min_length=1)
    # Invites only: who organises the meeting (a role or an address); default the configured sender.
    organiser: Recipient | None = None
    title: str = ""
    body: str = ""
    # Invites only.
    duration: Duration = timedelta(minutes=30)
    lead: Duration = timedelta(days=7)
    missing: MissingPolicy = MissingPolicy.SKIP
    # Due inside the recipient's pause: skipped, or sent once at the first moment after it.
    pause: PausePolicy = PausePolicy.SKIP
    # Invites only: a new invite goes out at least this long before its meeting (the lead, when
    # shorter); a meeting too close moves later or is skipped (`min-notice`).
    min_notice: Duration = timedelta(hours=24)
    # Invites only: a meeting already sent is never moved once it is this close to its start.
    freeze: Duration = timedelta(hours=20)

    @model_validator(mode="after")
    def _fits_kind(self) -> Action:
        if self.kind is not Kind.DIGEST and not self.title:
            raise ValueError(f"a {self.kind.value} action needs a title")
        if any(ord(c) < 32 or ord(c) == 127 for c in self.title) or len(self.title) > 500:
            raise ValueError(
                "a title is one line of text (no line breaks or control characters), 500 at most"
            )
        if self.min_notice < timedelta(0) or self.freeze < timedelta(0):
            raise ValueError("min_notice and freeze must not be negative")
        if self.duration <= timedelta(0) or self.lead < timedelta(0):
            raise ValueError("duration must be positive and lead must not be negative")
        for text in (self.title, self.body):
            for name in _PLACEHOLDER.findall(text):
                if not name or not re.fullmatch(r"[a-z_]+(\.[a-z_]+)*", name):
                    raise ValueError(f"bad placeholder {{{name}}} in template")
        return self

    @field_validator("organiser")
    @classmethod
    def _invites_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if value is not None and kind is not None and kind is not Kind.INVITE:
            raise ValueError(f"only invites have an organiser (this action is kind: {kind.value})")
        return value


class Effective(_Strict):
    """The days a rule applies, inclusive; either end may be open."""

    from_: date | None = Field(default=None, alias="from")
    until: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Effective:
        if self.from_ and self.until and self.until < self.from_:
            raise ValueError("effective.until is before effective.from")
        return self

    @property
    def always(self) -> bool:
        """Open at both ends: every day."""
        return self.from_ is None and self.until is None

    def covers(self, day: date) -> bool:
        return (self.from_ is None or day >= self.from_) and (self.until is None or day <= self.until)


class Rule(_Strict):
    id: RuleId
    description: str = ""
    enabled: bool = True
    # Recipients may turn it off for themselves on their preference page.
    optional: bool = False
    effective: Effective = Effective()
    # A CEL condition over goal, milestone, person, manager, mentor and now.
    when: Condition | None = None
    trigger: Trigger
    action: Action
    calendar: Calendar = Calendar()
    # Rules whose messages for the same goal this rule suppresses while it is firing.
    inhibits: tuple[RuleId, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if isinstance(self.trigger, DigestTrigger) and self.action.kind is not Kind.DIGEST:
            raise ValueError("the digest-preference cadence only drives digest actions")
        if self.action.kind is Kind.DIGEST and self.action.to != (Role.OWNER.value,):
            raise ValueError("a digest goes to its owner only")
        if isinstance(self.trigger, EscalationTrigger) and "to" in self.action.model_fields_set:
            raise ValueError("an escalation names recipients per step; remove action.to")
        if self.id in self.inhibits:
            raise ValueError("a rule cannot inhibit itself")
        if self.inhibits and not isinstance(self.trigger, EscalationTrigger):
            raise ValueError("only escalation rules inhibit other rules (Alertmanager-style)")
        if self.when is not None:
            missing = condition_roots(self.when) - subject_roots(self.trigger)
            if missing:
                raise ValueError(
                    f"the condition uses {', '.join(sorted(missing))}, which this trigger does not have "
                    f"(it fires per {self.trigger.subject})"
                )
        return self


_PERSON_ROOTS = frozenset({"person", "manager", "mentor", "now"})


def subject_roots(trigger: Trigger) -> frozenset[str]:
    """The condition variables a trigger provides."""
    subject = trigger.subject
    if subject == "person":
        return _PERSON_ROOTS
    return _PERSON_ROOTS | {"goal"} | ({"milestone"} if subject == "milestone" else set())


class RuleFile(_Strict):
    rules: tuple[Rule, ...]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a rule file, for editors (yaml-language-server) and docs."""
    schema = RuleFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "strides rule file"
    return schema
