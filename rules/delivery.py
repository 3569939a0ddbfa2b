"""The delivery policy: whether a due message may go out now, and when not, why. Pure.

A message is refused when its recipient left the organisation, opted out of its kind, is paused
(holidays, leave) or has a suppressed address; a message due inside a pause under a `pause: shift`
rule waits instead, until the first moment after the pause at the wall-clock time it was planned
for. The engine gathers the facts for a whole delivery chunk and records each verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from strides.domain.model import zone
from strides.domain.schema import PausePolicy
from strides.rules.calendar import local_moment, local_time
from strides.rules.intents import Intent

LEFT = "recipient left the organisation"


@dataclass(frozen=True)
class Hold:
    """Why a person must not be mailed a category now. A pause says when it ends (None: when the
    person resumes), so a rule whose policy is to shift can send after it instead of skipping."""

    reason: str
    paused: bool = False
    until: datetime | None = None


@dataclass(frozen=True)
class Suppression:
    """An address strides must not mail: why (hard bounce, spam report...), since when, any detail."""

    reason: str
    since: datetime
    detail: str | None = None


@dataclass(frozen=True)
class Send:
    """The message may go out now."""


@dataclass(frozen=True)
class Refuse:
    """The message must not go out, now or later."""

    reason: str


@dataclass(frozen=True)
class Shift:
    """The message waits out the recipient's pause: it is due again `at`; `note` says so."""

    at: datetime
    note: str


Verdict = Send | Refuse | Shift
SEND = Send()


def hold_for(
    category: str,
    opted_out: Mapping[str, str],
    paused_from: datetime | None,
    paused_until: datetime | None,
    now: datetime,
) -> Hold | None:
    """A person's hold on `category` mail at `now`, from their own choices; None when there is none.

    `opted_out`: the categories they opted out of, each with when and how; a pause runs from
    `paused_from` until `paused_until` (None: until they resume). An opt-out comes first.
    """
    if category in opted_out:
        return Hold(f"opted out of {category} ({opted_out[category]})")
    if paused_from is not None and paused_from <= now and (paused_until is None or now < paused_until):
        until = f"{paused_until:%Y-%m-%d %H:%M} UTC" if paused_until else "resumed"
        return Hold(f"paused until {until}", True, paused_until)
    return None


def verdict(
    intent: Intent,
    *,
    timezone: str | None,
    hold: Hold | None,
    suppression: Suppression | None,
    now: datetime,
) -> Verdict:
    """Whether `intent` may go out at `now`.

    `timezone`: the recipient's when they are a person of the organisation; None for a fixed
    address (a rule's `to: [team@example.com]`) or for someone who left. `hold`: the person's
    opt-out or pause for the intent's kind; `suppression`: the recipient's address's, if any.
    The first that applies decides: left the organisation, then a hold (a pause under a
    `pause: shift` rule shifts the message, anything else refuses it), then the suppression.
    """
    if timezone is None and "@" not in intent.recipient:
        return Refuse(LEFT)
    if hold is not None:
        if hold.paused and timezone is not None and intent.on_pause == PausePolicy.SHIFT.value:
            tz = zone(timezone)
            when = after_pause(intent.send_at, hold.until, now, tz)
            return Shift(when, f"shifted: {hold.reason}; due again {local_time(when, timezone)}")
        return Refuse(hold.reason)
    if suppression is not None:
        detail = f" ({suppression.detail})" if suppression.detail else ""
        return Refuse(f"suppressed: {suppression.reason} on {suppression.since:%Y-%m-%d}{detail}")
    return SEND


def after_pause(planned: datetime, until: datetime | None, now: datetime, tz: ZoneInfo) -> datetime:
    """The first moment after the pause at the wall-clock time the message was planned for.

    A reminder planned for 09:00 on a day inside a pause that ends at midnight goes out at 09:00 on
    the first day back, in the recipient's own timezone, not at midnight. A pause with no end (until
    the person resumes) is checked again each day at that time: the message goes out on the first
    one after they resume.
    """
    at = planned.astimezone(tz).time()
    after = until if until is not None else now + timedelta(seconds=1)
    day = after.astimezone(tz).date()
    moment = local_moment(day, at, tz)
    while moment < after:
        day += timedelta(days=1)
        moment = local_moment(day, at, tz)
    return moment
