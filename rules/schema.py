"""The shape of a rule file: strict, so a typo is an error and not a silent default."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from dateutil.rrule import rrulestr
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from strides.rules.durations import Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_rrule(text: str) -> str:
    body = text.strip().removeprefix("RRULE:")
    parts = dict(p.split("=", 1) for p in body.split(";") if "=" in p)
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError("an RRULE may not have both COUNT and UNTIL (RFC 5545 3.3.10)")
    if "BYSETPOS" in parts and not any(k.startswith("BY") and k != "BYSETPOS" for k in parts):
        raise ValueError("BYSETPOS needs another BYxxx part to select from (RFC 5545 3.3.10)")
    try:
        rrulestr(body, dtstart=None, forceset=False)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bad RRULE {text!r}: {exc}") from exc
    return body


RRule = Annotated[str, AfterValidator(_check_rrule)]
RuleId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class Anchor(StrEnum):
    GOAL_DEADLINE = "goal.deadline"
    MILESTONE_DUE = "milestone.due"


class AnchorTrigger(_Strict):
    """Fire at offsets from a date on each active goal or open milestone."""

    anchor: Anchor
    offsets: tuple[Duration, ...] = Field(min_length=1)
    at: time = time(9, 0)

    @model_validator(mode="after")
    def _whole_days(self) -> AnchorTrigger:
        for offset in self.offsets:
            if offset % timedelta(days=1):
                raise ValueError("anchor offsets are whole days (for example -14d); use `at` for the time")
        return self


class CadenceTrigger(_Strict):
    """Fire on an RFC 5545 recurrence at a local time in each person's own timezone."""

    every: RRule
    at: time = time(9, 0)
    # The first day the recurrence counts from (matters for INTERVAL > 1).
    starts: date = date(2024, 1, 1)


class DigestTrigger(_Strict):
    """Fire on each person's own digest weekday and time (their preferences)."""

    every: Literal["digest-preference"]


Trigger = AnchorTrigger | CadenceTrigger | DigestTrigger


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    MENTOR = "mentor"


class Kind(StrEnum):
    INVITE = "invite"
    EMAIL = "email"
    DIGEST = "digest"


class MissingPolicy(StrEnum):
    SKIP = "skip"
    MANAGER = "manager"


class Action(_Strict):
    kind: Kind
    to: tuple[Role, ...] = Field(default=(Role.OWNER,), min_length=1)
    title: str = ""
    body: str = ""
    # Invites only.
    duration: Duration = timedelta(minutes=30)
    lead: Duration = timedelta(days=7)
    missing: MissingPolicy = MissingPolicy.SKIP

    @model_validator(mode="after")
    def _fits_kind(self) -> Action:
        if self.kind is not Kind.DIGEST and not self.title:
            raise ValueError(f"a {self.kind.value} action needs a title")
        if self.duration <= timedelta(0) or self.lead < timedelta(0):
            raise ValueError("duration must be positive and lead must not be negative")
        for text in (self.title, self.body):
            for name in _PLACEHOLDER.findall(text):
                if not name or not re.fullmatch(r"[a-z_]+(\.[a-z_]+)*", name):
                    raise ValueError(f"bad placeholder {{{name}}} in template")
        return self


class Rule(_Strict):
    id: RuleId
    description: str = ""
    enabled: bool = True
    trigger: Trigger
    action: Action

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if isinstance(self.trigger, DigestTrigger) and self.action.kind is not Kind.DIGEST:
            raise ValueError("the digest-preference cadence only drives digest actions")
        if self.action.kind is Kind.DIGEST and self.action.to != (Role.OWNER,):
            raise ValueError("a digest goes to its owner only")
        return self


class RuleFile(_Strict):
    rules: tuple[Rule, ...]
