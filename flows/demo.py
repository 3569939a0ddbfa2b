"""The demo: the sample organisation through a simulated span, each message sent at the moment a
deployment ticking every 15 minutes would send it.

Ticking all 96 quarter hours of every simulated day would take minutes, and most ticks find
nothing. So each simulated day is one real Prefect flow run (`demo-day`) that ticks the engine
only at the quarter hours where something is due: the preview (`rules.preview.ticked`, which
lists exactly what 15-minute ticks send) names them, plus the first quarter hour of the day,
when the day's scripted organisation changes are seen. Each tick runs a second after its quarter
hour, as a scheduled run does, so a message due at 09:00 goes out, and is dated, at 09:00."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from strides.config import UNSUBSCRIBE_KEY_FILE, Settings
from strides.domain.model import Organisation
from strides.domain.parse import RuleSet
from strides.integrations.org_changes import OrgChange, apply_change
from strides.integrations.org_files import Rejection, load_organisation
from strides.integrations.rule_files import load_rules
from strides.rules import Window
from strides.rules.preview import TICK, ticked
from strides.store import Store, snapshot

DEFAULT_START = date(2026, 11, 30)
# How long after its quarter hour a tick runs (a scheduled flow run starts a moment after its
# time, and plans up to its own clock): a message due on the quarter hour is in its window.
TICK_DELAY = timedelta(seconds=1)
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


def tick_moments(rules: RuleSet, org: Organisation, day: datetime) -> list[datetime]:
    """The moments in the simulated `day` at which 15-minute ticks would send something, each a
    second after its quarter hour, and the day's first tick (which sees the day's changes)."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    found = {day + TICK_DELAY}
    for intent in ticked(rules, org, Window(day, day + timedelta(days=1))).intents:
        quarters = -(-(intent.send_at - epoch) // TICK)  # the first quarter hour at or after it
        found.add(epoch + quarters * TICK + TICK_DELAY)
    return sorted(m for m in found if day < m <= day + timedelta(days=1))


def run_demo(
    settings: Settings,
    start: date,
    days: int,
    *,
    keep: bool = False,
    on_day: Callable[[int, dict[str, int]], None] | None = None,
    changes: list[OrgChange] | None = None,
) -> DemoResult:
    """Simulate `days` days from `start`; each change in `changes` is applied as its day begins."""
    from strides.flows.demo_day import demo_day  # imports Prefect: after the environment is prepared
    from strides.flows.environment import no_heartbeats

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
            morning = begin + timedelta(days=day)
            todays = [c for c in changes or [] if c.day == morning.date()]
            if todays:
                for change in todays:
                    org = apply_change(org, change)
                with store.session() as session:
                    snapshot.save_organisation(session, org)
                result.applied.extend(todays)
            report = demo_day(
                moments=tick_moments(rules, org, morning),
                settings=parameters,
                since=begin if day == 0 and not keep else None,
            )
            result.ticks.append(report)
            if on_day is not None:
                on_day(day, report)
    return result
