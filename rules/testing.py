"""`strides rules test`: unit tests for rules in the manner of `promtool test rules`.

A test file names the rule files under test, a fixture organisation, and test cases. Each
case runs a controlled clock from `from` to `until` in ticks of `step` (each tick plans the
window since the previous one, with the keys planned so far as the ledger) and feeds injected
events at their moments. The notifications produced must be exactly the expected ones (rule,
kind, recipient, local time in the recipient's timezone); `expect: []` asserts silence.

Pure: the caller reads files and passes a loader for the rule files the test names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from strides.domain.durations import Duration
from strides.domain.errors import RuleError, RuleSetError
from strides.domain.model import Goal, Milestone, Organisation, Person
from strides.domain.parse import RuleSet, _locate, _message
from strides.domain.schema import EventKind, Kind
from strides.domain.yamltext import YamlError
from strides.domain.yamltext import load as load_yaml
from strides.rules.events import Event
from strides.rules.intents import Intent, Skip, Window
from strides.rules.placement import PlannedBookings
from strides.rules.planning import plan, plan_event


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _listed(value: object) -> object:
    return [value] if isinstance(value, str) else value


class Expected(_Strict):
    rule: str
    kind: Kind | None = None
    to: Annotated[tuple[str, ...], BeforeValidator(_listed)]
    # Local time of the recipient: "YYYY-MM-DD HH:MM" (for invites, the meeting's start).
    at: str
    title: str | None = None


class ExpectedSkip(_Strict):
    rule: str
    # A part of the reason, for example "max_lateness" or "has no mentor".
    reason: str = ""


class InjectedEvent(_Strict):
    kind: EventKind
    at: AwareDatetime
    goal: str
    milestone: str | None = None
    previous_deadline: date | None = None


class Case(_Strict):
    name: str
    from_: AwareDatetime = Field(alias="from")
    until: AwareDatetime
    step: Duration = timedelta(days=1)
    events: tuple[InjectedEvent, ...] = ()
    expect: tuple[Expected, ...]
    skipped: tuple[ExpectedSkip, ...] | None = None
    # Only these rules' messages count (default: every rule of the files).
    only: tuple[str, ...] = ()


class Fixture(_Strict):
    people: tuple[Person, ...]
    goals: tuple[Goal, ...] = ()
    milestones: tuple[Milestone, ...] = ()


class TestFile(_Strict):
    rule_files: tuple[str, ...] = Field(min_length=1)
    org: Fixture
    tests: tuple[Case, ...] = Field(min_length=1)


@dataclass(frozen=True)
class CaseResult:
    name: str
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    skip_problems: tuple[str, ...] = ()
    produced: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.skip_problems)

    def diff(self) -> str:
        lines = [f"  - expected, not produced: {m}" for m in self.missing]
        lines += [f"  + produced, not expected: {u}" for u in self.unexpected]
        lines += [f"  ! {p}" for p in self.skip_problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class FileResult:
    filename: str
    cases: tuple[CaseResult, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cases)


def parse_test_file(text: str, filename: str) -> TestFile:
    try:
        document = load_yaml(text, filename)
    except YamlError as exc:
        raise RuleSetError([RuleError(exc.location, None, exc.message)]) from exc
    try:
        return TestFile.model_validate(document)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            where, _ = _locate(document, error["loc"], filename)
            errors.append(RuleError(where, None, _message(error)))
        raise RuleSetError(errors) from None


def _line(intent: Intent, org: Organisation) -> str:
    person = org.people.get(intent.recipient)
    tz = person.tz if person else UTC
    local = intent.occurrence.astimezone(tz)
    return f"{intent.rule_id} {intent.kind.value} to {intent.recipient} at {local:%Y-%m-%d %H:%M}"


def _expected_lines(expected: Expected, kinds: dict[str, Kind]) -> list[str]:
    kind = expected.kind or kinds.get(expected.rule)
    label = kind.value if kind else "?"
    return [f"{expected.rule} {label} to {to} at {expected.at}" for to in expected.to]


def simulate(rules: RuleSet, org: Organisation, case: Case) -> tuple[list[Intent], list[Skip]]:
    """Run the controlled clock: ticks of `step` from `from` to `until`, events at their moments."""
    planned: dict[str, Intent] = {}
    skips: list[Skip] = []
    events = sorted(case.events, key=lambda e: e.at)
    moment = case.from_
    while moment < case.until:
        end = min(moment + case.step, case.until)
        for injected in [e for e in events if moment <= e.at < end]:
            event = Event(
                injected.kind, injected.at, injected.goal, injected.milestone, injected.previous_deadline
            )
            result = plan_event(rules, org, event, injected.at, planned, PlannedBookings(planned.values()))
            planned.update((i.key, i) for i in result.intents)
            skips.extend(result.skips)
        # As the engine's first ticks: every meeting planned so far is known (sent) and booked.
        known = {i.meeting.uid: i.subject for i in planned.values() if i.meeting is not None}
        result = plan(
            rules, org, Window(moment, end), planned, known, bookings=PlannedBookings(planned.values())
        )
        planned.update((i.key, i) for i in result.intents)
        skips.extend(result.skips)
        moment = end
    return list(planned.values()), skips


def run_case(rules: RuleSet, org: Organisation, case: Case) -> CaseResult:
    intents, skips = simulate(rules, org, case)
    if case.only:
        intents = [i for i in intents if i.rule_id in case.only]
        skips = [s for s in skips if s.rule_id in case.only]
    kinds = {r.id: r.action.kind for r in rules.rules}
    produced = sorted(_line(i, org) for i in intents)
    expected = sorted(line for e in case.expect for line in _expected_lines(e, kinds))
    missing = [line for line in expected if line not in produced]
    unexpected = [line for line in produced if line not in expected]
    titles = {(_line(i, org)): i.title for i in intents}
    problems = []
    for e in case.expect:
        for line in _expected_lines(e, kinds):
            if e.title is not None and line in titles and titles[line] != e.title:
                problems.append(f"{line}: title {titles[line]!r}, expected {e.title!r}")
    if case.skipped is not None:
        for want in case.skipped:
            if not any(s.rule_id == want.rule and want.reason in s.reason for s in skips):
                problems.append(f"expected a skip of {want.rule} ({want.reason!r}); skips: {_skips(skips)}")
        for s in skips:
            if not any(s.rule_id == w.rule and w.reason in s.reason for w in case.skipped):
                problems.append(f"unexpected skip: {s.rule_id}: {s.reason}")
    return CaseResult(case.name, tuple(missing), tuple(unexpected), tuple(problems), len(intents))


def _skips(skips: Sequence[Skip]) -> str:
    return "; ".join(f"{s.rule_id}: {s.reason}" for s in skips) or "none"


def run_test_file(text: str, filename: str, load_rules: Callable[[Sequence[str]], RuleSet]) -> FileResult:
    """Run every case of one test file; `load_rules` turns its `rule_files` into a rule set."""
    test = parse_test_file(text, filename)
    rules = load_rules(test.rule_files)
    try:
        org = Organisation(
            people={p.id: p for p in test.org.people},
            goals={g.id: g for g in test.org.goals},
            milestones={m.id: m for m in test.org.milestones},
        )
    except ValidationError as exc:
        raise RuleSetError([RuleError(None, None, f"{filename}: bad fixture organisation: {exc}")]) from None
    return FileResult(filename, tuple(run_case(rules, org, case) for case in test.tests))


def describe(result: FileResult) -> list[str]:
    lines = []
    for case in result.cases:
        mark = "PASS" if case.ok else "FAIL"
        lines.append(f"{mark} {result.filename}: {case.name} ({case.produced} message(s))")
        if not case.ok:
            lines.append(case.diff())
    return lines


__all__ = ["FileResult", "TestFile", "describe", "parse_test_file", "run_test_file", "simulate"]
