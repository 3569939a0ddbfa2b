"""When a message shifted out of its recipient's pause (holidays, leave) goes out instead. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from strides.rules.calendar import local_moment


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
