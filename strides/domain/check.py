"""`strides rules check`: every problem of a set of rule files in one pass, located.

Per file: YAML syntax, duplicate keys, the strict schema, RRULEs, durations, CEL conditions,
timezones and countries, escalation ladders (rules.parse and rules.schema). On the file as written,
whether or not its rules passed the schema: every unknown field of every condition, every
template placeholder checked against the model, duplicate rule ids (at the later definition) and
inhibitions of rules that do not exist, across files. Then inhibitions that loop.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from strides.domain.conditions import field_problem, path_problems, suggest
from strides.domain.errors import RuleError, RuleSetError
from strides.domain.parse import RuleSet, rules_of
from strides.domain.schema import DEPRECATED_EVENT_NAMES, Rule
from strides.domain.templates import TEMPLATE_NAMES, placeholders, template_fields
from strides.domain.yamltext import LocatedDict, Location, YamlError
from strides.domain.yamltext import load as load_yaml

# A rule set's size is bounded like everything else that costs each tick: 1,000 rules plan a
# day of a small organisation's preview (96 ticks) in about 6 s; 10,000 would take a minute.
MAX_RULES = 1000


@dataclass(frozen=True)
class _Written:
    """A rule as written in its file (whatever the schema made of it)."""

    item: LocatedDict
    text: str

    @property
    def id(self) -> str | None:
        value = self.item.get("id")
        return value if isinstance(value, str) else None

    @property
    def file(self) -> str:
        return self.item.file

    def at(self, node: LocatedDict, key: str, offset: int) -> Location:
        """Where character `offset` of the scalar `node[key]` is written."""
        value = node[key]
        span = node.value_spans.get(key)
        found = span.locate(self.text, value, offset, node.file) if span is not None else None
        return found or node.where(key)


def _written(document: Any, text: str) -> list[_Written]:
    rules = document.get("rules") if isinstance(document, LocatedDict) else None
    return (
        [_Written(item, text) for item in rules if isinstance(item, LocatedDict)]
        if isinstance(rules, list)
        else []
    )


def _texts(item: LocatedDict) -> Iterator[tuple[LocatedDict, str]]:
    """The templates of a rule as written: the action's title and body, each ladder step's."""
    places: list[Any] = [item.get("action")]
    trigger = item.get("trigger")
    if isinstance(trigger, LocatedDict) and isinstance(trigger.get("steps"), list):
        places += trigger["steps"]
    for node in places:
        if isinstance(node, LocatedDict):
            for key in ("title", "body"):
                if isinstance(node.get(key), str):
                    yield node, key


def _template_problems(rule: _Written) -> Iterator[RuleError]:
    for node, key in _texts(rule.item):
        for offset, path in placeholders(node[key]):
            root, *parts = path
            if root not in TEMPLATE_NAMES:
                hint = suggest(root, sorted(TEMPLATE_NAMES)) or f"use one of: {', '.join(TEMPLATE_NAMES)}"
                message = f"unknown name '{{{'.'.join(path)}}}' in {key}"
                yield RuleError(rule.at(node, key, offset), rule.id, message, hint)
                continue
            problem = field_problem(TEMPLATE_NAMES[root], root, parts, key, template_fields)
            if problem is not None:
                yield RuleError(rule.at(node, key, offset), rule.id, *problem)


def _condition_problems(rule: _Written) -> Iterator[RuleError]:
    when = rule.item.get("when")
    if isinstance(when, str):
        for problem in path_problems(when):
            where = rule.at(rule.item, "when", problem.offset)
            yield RuleError(where, rule.id, f"when: {problem.message}", problem.hint)


def _written_problems(written: Sequence[_Written]) -> list[RuleError]:
    """What the rules as written get wrong, whether or not the schema accepted them."""
    errors: list[RuleError] = []
    first: dict[str, Location] = {}
    for rule in written:
        errors += _condition_problems(rule)
        errors += _template_problems(rule)
        if rule.id is None:
            continue
        here = rule.item.where("id")
        if rule.id in first:
            errors.append(RuleError(here, rule.id, f"duplicate rule id (first defined at {first[rule.id]})"))
        else:
            first[rule.id] = here
    ids = sorted(first)
    for rule in written:
        inhibits = rule.item.get("inhibits")
        for target in inhibits if isinstance(inhibits, list) else []:
            if isinstance(target, str) and target not in first:
                close = difflib.get_close_matches(target, ids, n=1)
                errors.append(
                    RuleError(
                        rule.item.where("inhibits"),
                        rule.id,
                        f"inhibits unknown rule '{target}'",
                        f"did you mean '{close[0]}'?" if close else f"known rules: {', '.join(ids)}",
                    )
                )
    return errors


def _loops(rules: Sequence[Rule]) -> list[list[str]]:
    """Cycles in the `inhibits` graph (A inhibits B inhibits A)."""
    graph = {r.id: list(r.inhibits) for r in rules}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])
    return cycles


def check_files(files: Iterable[tuple[str, str]]) -> tuple[RuleSet | None, list[RuleError]]:
    """Check (filename, text) pairs; the rule set only when there is no problem at all."""
    ruleset, errors, _ = check_all(files)
    return ruleset, errors


def check_all(
    files: Iterable[tuple[str, str]],
) -> tuple[RuleSet | None, list[RuleError], list[RuleError]]:
    """Check (filename, text) pairs, each file parsed once: the rule set only when there is no
    problem at all, every problem, and the warnings (`check_warnings`)."""
    errors: list[RuleError] = []
    rules: list[Rule] = []
    written: list[_Written] = []
    for filename, text in files:
        try:
            document = load_yaml(text, filename)
        except YamlError as exc:
            errors.append(RuleError(exc.location, None, exc.message))
            continue
        written += _written(document, text)
        try:
            rules += rules_of(document, text, filename)
        except RuleSetError as exc:
            errors.extend(exc.errors)
    found = _written_problems(written)
    if len(written) > MAX_RULES:
        extra = written[MAX_RULES]
        found.append(
            RuleError(
                extra.item.where(),
                extra.id,
                f"more than {MAX_RULES:,} rules ({len(written):,}): every tick plans every rule",
                "merge rules that differ only in their text, or split the organisation",
            )
        )
    # The schema reports a condition's first unknown field too, with its hint inline: the same
    # problem is said once, with the hint apart.
    again = {(e.location, e.message) for e in found}
    errors = [e for e in errors if (e.location, e.message.split(" (")[0]) not in again] + found
    where = {r.id: r.item.where("id") for r in reversed(written) if r.id is not None}
    unique = {rule.id: rule for rule in rules}
    for cycle in _loops(list(unique.values())):
        errors.append(
            RuleError(
                where.get(cycle[0]),
                cycle[0],
                f"inhibitions loop: {' -> '.join(cycle)}",
                "an escalation inhibits plain reminders, never the other way round",
            )
        )
    errors.sort(
        key=lambda e: (e.location.file, e.location.line, e.location.column) if e.location else ("", 0, 0)
    )
    return (None if errors else RuleSet(tuple(rules))), errors, _warnings(written)


def check_warnings(files: Iterable[tuple[str, str]]) -> list[RuleError]:
    """What still works but should be written differently: event names with an older spelling."""
    _, _, warnings = check_all(files)
    return warnings


def _warnings(written: Sequence[_Written]) -> list[RuleError]:
    warnings: list[RuleError] = []
    for rule in written:
        trigger = rule.item.get("trigger")
        event = trigger.get("event") if isinstance(trigger, LocatedDict) else None
        if isinstance(event, str) and event in DEPRECATED_EVENT_NAMES:
            assert isinstance(trigger, LocatedDict)
            new = DEPRECATED_EVENT_NAMES[event]
            message = f"event '{event}' is now called '{new}'"
            warnings.append(
                RuleError(rule.at(trigger, "event", 0), rule.id, message, "the old name still works")
            )
    return warnings


def load_checked(files: Iterable[tuple[str, str]]) -> RuleSet:
    """The rule set of these files, or RuleSetError with every problem."""
    ruleset, errors = check_files(files)
    if ruleset is None:
        raise RuleSetError(errors)
    return ruleset
