"""Durations as admins write them: `14d`, `-3d`, `15m`, `1h30m`, `2w`; and anchor offsets, which
may also count business days: `-7bd`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, PlainValidator, WithJsonSchema

_PART = re.compile(r"(\d+)([wdhm])")
_WHOLE = re.compile(r"^[+-]?(\d+[wdhm])+$")
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


# No offset, lead, delay or lateness of a rule is longer than this (ten years): a longer one is a
# typo, and would overflow the calendar arithmetic.
LONGEST = timedelta(days=3660)


def parse_duration(text: str) -> timedelta:
    """Parse `[+-]<n><unit>...` where unit is w, d, h or m."""
    compact = text.strip().replace(" ", "")
    if not _WHOLE.match(compact) or len(compact) > 40:
        raise ValueError(f"bad duration {text!r}: use forms like 15m, 1h30m, 14d, -3d, 2w")
    sign = -1 if compact.startswith("-") else 1
    try:
        total = sum((int(n) * _UNITS[u] for n, u in _PART.findall(compact)), timedelta())
    except OverflowError:
        total = LONGEST * 2
    if total > LONGEST:
        raise ValueError(f"bad duration {text!r}: at most {LONGEST.days} days")
    return sign * total


def format_duration(value: timedelta) -> str:
    sign = "-" if value < timedelta(0) else ""
    rest = abs(value)
    parts = []
    for unit in ("d", "h", "m"):
        count, rest = divmod(rest, _UNITS[unit])
        if count:
            parts.append(f"{int(count)}{unit}")
    return sign + ("".join(parts) or "0d")


def _coerce(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"bad duration {value!r}: write a unit, for example {value}d or {value}m")
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(_coerce),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _WHOLE.pattern, "examples": ["15m", "1h30m", "-14d", "2w"]}),
]


class BusinessDays(timedelta):
    """An anchor offset counted in the owner's business days (their working days, less their
    public holidays), not calendar days: `-7bd` is seven business days before the anchor."""

    @property
    def count(self) -> int:
        return self.days

    def __repr__(self) -> str:
        return f"BusinessDays({self.days:+d})"


_BUSINESS = re.compile(r"^([+-]?)(\d{1,4})bd$")
# Ten years of business days, as LONGEST bounds calendar durations.
MOST_BUSINESS_DAYS = 2600


def parse_offset(text: str) -> timedelta:
    """An anchor offset: a duration (`-14d`), or business days (`-7bd`)."""
    compact = text.strip().replace(" ", "")
    match = _BUSINESS.match(compact)
    if match is None:
        return parse_duration(text)
    count = int(match.group(2))
    if count > MOST_BUSINESS_DAYS:
        raise ValueError(f"bad offset {text!r}: at most {MOST_BUSINESS_DAYS} business days")
    return BusinessDays(days=-count if match.group(1) == "-" else count)


def format_offset(value: timedelta) -> str:
    if isinstance(value, BusinessDays):
        return f"{value.days}bd"
    return format_duration(value)


def _offset(value: object) -> timedelta:
    if isinstance(value, str):
        return parse_offset(value)
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"bad offset {value!r}: write a unit, for example {value}d or {value}bd")
    raise ValueError(f"bad offset {value!r}: use forms like -14d, 2w or -7bd")


# Validated here alone (pydantic's own timedelta validation would turn business days into days).
Offset = Annotated[
    timedelta,
    PlainValidator(_offset),
    PlainSerializer(format_offset, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"{_WHOLE.pattern}|{_BUSINESS.pattern}",
            "examples": ["-14d", "2w", "-7bd"],
        }
    ),
]
