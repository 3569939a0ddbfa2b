"""The demo: the sample organisation through a simulated span, one real Prefect tick a day."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from strides.config import UNSUBSCRIBE_KEY_FILE, Settings
from strides.integrations.org_changes import OrgChange, apply_change
from strides.integrations.org_files import Rejection, load_organisation
from strides.integrations.rule_files import load_rules
from strides.store import Store, snapshot

DEFAULT_START = date(2026, 11, 30)
# Scripted organisation changes for the sample organisation (a deadline moves, a goal is
# dropped, a mentor changes): they show invites being updated and cancelled.
SAMPLE_CHANGES = Path(__file__).resolve().parent.parent / "examples" / "org-changes.yaml"


@dataclass
class DemoResult:
    settings: Settings
    start: datetime
    days: int
    people: int
    goals: int
    milestones: int
    rules: int
    rejected: list[Rejection]
    ticks: list[dict[str, int]] = field(default_factory=list)
    applied: list[OrgChange] = field(default_factory=list)

    @property
    def outbox(self) -> Path:
        return self.settings.outbox

    @property
    def files(self) -> list[Path]:
        return sorted(self.outbox.glob("*.eml")) if self.outbox.exists() else []


def prepare(settings: Settings, *, keep: bool) -> Store:
    if not keep and settings.state_dir.exists():
        # Only the demo's own folder: never the user's real state.
        shutil.rmtree(settings.state_dir)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    key = settings.state_dir / UNSUBSCRIBE_KEY_FILE
    if settings.unsubscribe_secret is None and not key.exists():
        # Signs the demo's unsubscribe links; `strides http --demo` reads it to check them.
        key.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        key.chmod(0o600)
    store = Store(settings.db_url)
    store.migrate()
    return store


def run_demo(
    settings: Settings,
    start: date,
    days: int,
    *,
    keep: bool = False,
    on_day: Callable[[int, dict[str, int]], None] | None = None,
    changes: list[OrgChange] | None = None,
) -> DemoResult:
    """Simulate `days` days from `start`; each change in `changes` is applied before its day's tick."""
    from strides.flows.environment import no_heartbeats
    from strides.flows.tick import tick  # imports Prefect: after the environment is prepared

    store = prepare(settings, keep=keep)
    loaded = load_organisation(settings.organisation)
    rules = load_rules(settings.rules_dir)
    with store.session() as session:
        snapshot.save_organisation(session, loaded.organisation)
    begin = datetime.combine(start, time(0), tzinfo=UTC)
    org = loaded.organisation
    result = DemoResult(
        settings,
        begin,
        days,
        len(org.people),
        len(org.goals),
        len(org.milestones),
        len(rules),
        loaded.rejected,
    )
    parameters = settings.model_dump(mode="json")
    with no_heartbeats():
        for day in range(days):
            now = begin + timedelta(days=day + 1)
            todays = [c for c in changes or [] if c.day == (begin + timedelta(days=day)).date()]
            if todays:
                for change in todays:
                    org = apply_change(org, change)
                with store.session() as session:
                    snapshot.save_organisation(session, org)
                result.applied.extend(todays)
            report = tick(now=now, settings=parameters, since=begin if day == 0 and not keep else None)
            result.ticks.append(report)
            if on_day is not None:
                on_day(day, report)
    return result
