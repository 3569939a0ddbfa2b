"""What goes into a person's weekly digest: a pure function of the snapshot and the moment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from strides.domain.model import Goal, GoalStatus, Milestone, OrgLike, Person

DUE_SOON = timedelta(days=14)
WINS_SINCE = timedelta(days=7)


@dataclass(frozen=True)
class GoalLine:
    goal: Goal
    progress: float | None
    days_left: int | None


@dataclass(frozen=True)
class DueItem:
    title: str
    goal_title: str
    due: date
    days_left: int


@dataclass(frozen=True)
class Win:
    title: str
    goal_title: str
    completed_at: datetime


@dataclass(frozen=True)
class Named:
    """Who a report line is about: all a digest shows of a direct report."""

    id: str
    name: str


@dataclass(frozen=True)
class ReportLine:
    person: Named
    active_goals: int
    overdue_milestones: int
    wins: int


@dataclass(frozen=True)
class ReportFacts:
    """What a manager's digest needs of one direct report, without the report's whole records.

    `open_due`: the due dates of the open milestones of the report's active goals (only those
    that can be overdue may be given); `completions`: when the report's milestones were completed
    (only those near the digest's week may be given). The store computes these from its columns
    for a whole delivery chunk (strides.store.slices.report_facts); `report_facts` from a snapshot.
    """

    person: Named
    active_goals: int
    open_due: tuple[date, ...] = ()
    completions: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class Digest:
    person: Person
    as_of: datetime
    goals: tuple[GoalLine, ...] = ()
    due_soon: tuple[DueItem, ...] = ()
    overdue: tuple[DueItem, ...] = ()
    wins: tuple[Win, ...] = ()
    reports: tuple[ReportLine, ...] = ()
    next: NextStep | None = None
    meetings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def next_step(self) -> str:
        """The suggestion in English (templates translate `next` instead)."""
        return str(self.next) if self.next is not None else ""

    @property
    def is_empty(self) -> bool:
        return not (self.goals or self.due_soon or self.overdue or self.wins or self.reports)


def _days(until: date, today: date) -> int:
    return (until - today).days


def _open_overdue(milestones: Sequence[Milestone], today: date) -> list[Milestone]:
    return [m for m in milestones if not m.done and m.due < today]


def N_(message: str) -> str:
    """Marks a message for translation (Babel extracts it); the templates translate it when they
    render, in the reader's language. Here, in the pure rules, it stays English."""
    return message


@dataclass(frozen=True)
class NextStep:
    """The suggestion as a translatable message with its values (`%(title)s`, `%(days)d`)."""

    message: str
    values: dict[str, str | int] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % self.values


def _suggest(
    goals: tuple[GoalLine, ...], overdue: tuple[DueItem, ...], due_soon: tuple[DueItem, ...]
) -> NextStep:
    if overdue:
        first = overdue[0]
        return NextStep(
            N_("Close or re-plan the overdue milestone “%(title)s” (%(days)d days late)."),
            {"title": first.title, "days": -first.days_left},
        )
    unmeasured = [line.goal for line in goals if line.goal.metric is None]
    if unmeasured:
        return NextStep(
            N_("Give “%(title)s” a measurable target, so you can see progress."),
            {"title": unmeasured[0].title},
        )
    if due_soon:
        return NextStep(
            N_("Block time for “%(title)s”, due in %(days)d days."),
            {"title": due_soon[0].title, "days": due_soon[0].days_left},
        )
    slowest = min(
        (line for line in goals if line.progress is not None), key=lambda g: g.progress or 0.0, default=None
    )
    if slowest is not None:
        return NextStep(N_("Take one small step on “%(title)s” this week."), {"title": slowest.goal.title})
    return NextStep(N_("Set a goal for the next quarter: what would you like to be better at?"))


def compose_digest(
    person: Person, org: OrgLike, now: datetime, reports: Sequence[ReportFacts] | None = None
) -> Digest:
    """The digest `person` should receive at `now` (their local calendar decides 'today').

    `reports`: the person's direct reports as facts already gathered (a delivery chunk reads them
    from the store's columns); None reads them from `org`.
    """
    today = now.astimezone(person.tz).date()
    since = now - WINS_SINCE
    goals = [g for g in org.goals_of(person.id)]
    active = [g for g in goals if g.status is GoalStatus.ACTIVE]
    lines = tuple(
        GoalLine(g, g.metric.progress if g.metric else None, _days(g.deadline, today) if g.deadline else None)
        for g in sorted(active, key=lambda g: (g.deadline or date.max, g.title))
    )
    due_soon: list[DueItem] = []
    overdue: list[DueItem] = []
    wins: list[Win] = []
    for goal in goals:
        milestones = org.milestones_of(goal.id)
        if goal.status is GoalStatus.ACTIVE:
            if goal.deadline and 0 <= _days(goal.deadline, today) <= DUE_SOON.days:
                due_soon.append(DueItem(goal.title, goal.title, goal.deadline, _days(goal.deadline, today)))
            for m in milestones:
                if not m.done and 0 <= _days(m.due, today) <= DUE_SOON.days:
                    due_soon.append(DueItem(m.title, goal.title, m.due, _days(m.due, today)))
            for m in _open_overdue(milestones, today):
                overdue.append(DueItem(m.title, goal.title, m.due, _days(m.due, today)))
        for m in milestones:
            if m.completed_at is not None and since <= m.completed_at <= now:
                wins.append(Win(m.title, goal.title, m.completed_at))
        if goal.completed_at is not None and since <= goal.completed_at <= now:
            wins.append(Win(goal.title, goal.title, goal.completed_at))
    if reports is None:
        reports = [report_facts(r, org) for r in org.reports_of(person.id)]
    report_lines = tuple(
        report_line(facts, today, since, now)
        for facts in sorted(reports, key=lambda f: (f.person.name, f.person.id))
    )
    due_t = tuple(sorted(due_soon, key=lambda d: (d.due, d.title)))
    overdue_t = tuple(sorted(overdue, key=lambda d: (d.due, d.title)))
    return Digest(
        person=person,
        as_of=now,
        goals=lines,
        due_soon=due_t,
        overdue=overdue_t,
        wins=tuple(sorted(wins, key=lambda w: w.completed_at)),
        reports=report_lines,
        next=_suggest(lines, overdue_t, due_t),
    )


def report_facts(report: Person, org: OrgLike) -> ReportFacts:
    """A report's facts from a snapshot (or a slice holding their goals and milestones)."""
    goals = org.goals_of(report.id)
    active = [g for g in goals if g.status is GoalStatus.ACTIVE]
    return ReportFacts(
        Named(report.id, report.name),
        len(active),
        tuple(m.due for g in active for m in org.milestones_of(g.id) if not m.done),
        tuple(m.completed_at for g in goals for m in org.milestones_of(g.id) if m.completed_at is not None),
    )


def report_line(facts: ReportFacts, today: date, since: datetime, now: datetime) -> ReportLine:
    """A report's line in their manager's digest: active goals, overdue milestones, wins this week."""
    overdue = sum(1 for due in facts.open_due if due < today)
    wins = sum(1 for done in facts.completions if since <= done <= now)
    return ReportLine(facts.person, facts.active_goals, overdue, wins)
