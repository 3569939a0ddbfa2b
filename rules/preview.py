"""What the rules would produce over a horizon, as rows, and what a rule change would alter. Pure.

The preview behind `strides plan`: the CLI reads files and prints, these compare and format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from strides.domain.model import Organisation
from strides.rules import Intent, Plan


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
            data["meeting"] = {
                "uid": i.meeting.uid,
                "start": i.meeting.start.isoformat(),
                "end": i.meeting.end.isoformat(),
                "attendees": list(i.meeting.attendees),
            }
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
