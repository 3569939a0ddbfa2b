"""Durations as admins write them: `14d`, `-3d`, `15m`, `1h30m`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

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
