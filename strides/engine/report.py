"""What the ledger says, summed up for people: per rule and kind, how many and in which state."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from strides.domain.schema import Kind
from strides.store import Store, invites, ledger, skips
from strides.store.tables import MessageRow


@dataclass(frozen=True)
class SummaryLine:
    rule_id: str
    kind: str
    messages: int
    recipients: int
    statuses: dict[str, int]


def kind_label(row: MessageRow) -> str:
    """'invite', 'invite update' or 'invite cancel' for invites; the kind otherwise."""
    meeting = row.payload.get("meeting") or {}
    if row.kind != Kind.INVITE.value:
        return row.kind
    if meeting.get("method") == "CANCEL":
        return "invite cancel"
    return "invite update" if row.sequence > 0 else "invite"


def summarise(store: Store) -> list[SummaryLine]:
    """Per rule and kind: how many messages, to how many people, in which states."""
    with store.session() as session:
        rows = ledger.messages(session)
    groups: dict[tuple[str, str], list[MessageRow]] = {}
    for row in rows:
        groups.setdefault((row.rule_id, kind_label(row)), []).append(row)
    return [
        SummaryLine(
            rule_id,
            kind,
            len(members),
            len({m.recipient for m in members}),
            dict(Counter(m.status for m in members)),
        )
        for (rule_id, kind), members in sorted(groups.items())
    ]


def status(store: Store) -> dict[str, Any]:
    """The store at a glance: the last tick, messages by status, meetings by status, skips by cause."""
    with store.session() as session:
        tick = ledger.latest_tick(session)
        messages = ledger.count_by_status(session)
        meetings = invites.count_by_status(session)
        causes = skips.count_by_cause(session)
    return {
        "last_tick": None
        if tick is None
        else {
            "now": tick.now.isoformat(),
            "window": [tick.window_start.isoformat(), tick.window_end.isoformat()],
            "planned": tick.planned,
            "sent": tick.sent,
            "failed": tick.failed,
        },
        "messages": dict(sorted(messages.items())),
        "meetings": dict(sorted(meetings.items())),
        "skips": dict(Counter(causes).most_common()),
    }
