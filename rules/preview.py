"""What the rules would produce over a horizon, as rows, and what a rule change would alter. Pure.

The preview behind `strides plan`: the CLI reads files and prints, these plan, compare and format.
The horizon is planned as a deployment's ticks plan it (`ticked`), so the preview lists what they
would send and skip, with the same causes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from strides.domain.model import Organisation
from strides.domain.parse import RuleSet
from strides.rules import Intent, Plan, Window, plan
from strides.rules.intents import Skip
from strides.rules.placement import PlannedBookings
from strides.rules.planning.view import memory_view

# A deployment's tick (the `tick_every` default of deploy/prefect.yaml and `strides serve`).
TICK = timedelta(minutes=15)


def ticked(
    rules: RuleSet,
    org: Organisation,
    window: Window,
    *,
    step: timedelta = TICK,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """What ticks every `step` over `window` would plan, from an empty ledger: each tick plans its
    own stretch at its own end, sees what earlier ticks planned, and after the first plans only
    what the previous one had not settled (as the engine's ticks do). `progress(done, total)`."""
    view = memory_view(org)
    planned: dict[str, Intent] = {}
    skips: dict[tuple[str, str, datetime, str], Skip] = {}
    fallbacks: dict[tuple[str, str, datetime, str], Skip] = {}
    total = -(-(window.end - window.start) // step)
    moment, settled, done = window.start, None, 0
    while moment < window.end:
        end = min(moment + step, window.end)
        # What earlier ticks planned stands in for the store's meetings, as the engine places against.
        booked = PlannedBookings(planned.values())
        result = plan(rules, view, Window(moment, end), planned, settled=settled, bookings=booked)
        for intent in result.intents:
            planned.setdefault(intent.key, intent)
        for skip in result.skips:
            skips.setdefault((skip.rule_id, skip.subject, skip.occurrence, skip.reason), skip)
        for note in result.fallbacks:
            fallbacks.setdefault((note.rule_id, note.subject, note.occurrence, note.reason), note)
        moment, settled, done = end, end, done + 1
        if progress is not None:
            progress(done, total)
    return Plan(tuple(planned.values()), tuple(skips.values()), tuple(fallbacks.values()))


@dataclass(frozen=True)
class Row:
    change: str  # "", "added", "removed" or "moved"
    intent: Intent
    before: datetime | None = None  # for "moved": the old occurrence

    def local(self, org: Organisation, moment: datetime | None = None) -> str:
        moment = moment or self.intent.occurrence
        person = org.people.get(self.intent.recipient)
        tz = person.tz if person else UTC
        return f"{moment.astimezone(tz):%Y-%m-%d %H:%M %Z}"

    def as_json(self, org: Organisation) -> dict[str, object]:
        i = self.intent
        data: dict[str, object] = {
            "rule": i.rule_id,
            "kind": i.kind.value,
            "subject": i.subject,
            "recipient": i.recipient,
            "occurrence": i.occurrence.isoformat(),
            "local_time": self.local(org),
            "send_at": i.send_at.astimezone(UTC).isoformat(),
            "title": i.title,
            "key": i.key,
        }
        if i.meeting is not None:
            meeting: dict[str, object] = {
                "uid": i.meeting.uid,
                "start": i.meeting.start.isoformat(),
                "end": i.meeting.end.isoformat(),
                "attendees": list(i.meeting.attendees),
            }
            if i.meeting.intended is not None:
                # Placement: the rule's time, and why the meeting is elsewhere (empty: it is not).
                meeting["intended"] = i.meeting.intended.isoformat()
                meeting["moved"] = list(i.meeting.moved)
            data["meeting"] = meeting
        if self.change:
            data["change"] = self.change
        if self.before is not None:
            data["before"] = self.before.isoformat()
        return data


def _in_time_order(row: Row) -> tuple[datetime, str, str]:
    return (row.intent.occurrence, row.intent.rule_id, row.intent.recipient)


def rows(plan: Plan, person: str | None = None) -> list[Row]:
    """The plan's messages (one person's, if given) in time order."""
    return sorted(
        (Row("", i) for i in plan.intents if person is None or i.recipient == person), key=_in_time_order
    )


def compare(before: Plan, after: Plan, person: str | None = None) -> list[Row]:
    """What `after` adds, removes or moves compared with `before` (same rule, subject, recipient)."""

    def identity(i: Intent) -> tuple[str, str, str, datetime]:
        return (i.rule_id, i.subject, i.recipient, i.occurrence)

    old = {identity(i): i for i in before.intents if person is None or i.recipient == person}
    new = {identity(i): i for i in after.intents if person is None or i.recipient == person}
    added = [i for k, i in new.items() if k not in old]
    removed = [i for k, i in old.items() if k not in new]
    result: list[Row] = []
    for intent in added:
        match = next(
            (
                r
                for r in removed
                if (r.rule_id, r.subject, r.recipient) == (intent.rule_id, intent.subject, intent.recipient)
            ),
            None,
        )
        if match is not None:
            removed.remove(match)
            result.append(Row("moved", intent, match.occurrence))
        else:
            result.append(Row("added", intent))
    result += [Row("removed", i) for i in removed]
    return sorted(result, key=_in_time_order)


def change_summary(rows: list[Row]) -> list[str]:
    """Per rule, what the proposed rules add, remove and move: one line each."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row.intent.rule_id, {}).setdefault(row.change, 0)
        counts[row.intent.rule_id][row.change] += 1
    if not counts:
        return ["The proposed rules change nothing in this span."]
    return [
        f"{rule}: " + ", ".join(f"{n} {change}" for change, n in sorted(changes.items()))
        for rule, changes in sorted(counts.items())
    ]
