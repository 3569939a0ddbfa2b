"""`strides rules check`: every problem of a set of rule files in one pass, located.

Per file: YAML syntax, duplicate keys, the strict schema, RRULEs, durations, CEL conditions,
timezones and countries, escalation ladders (rules.parse and rules.schema). Across files:
duplicate rule ids, inhibitions of rules that do not exist, and inhibitions that loop.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from strides.domain.errors import RuleError, RuleSetError
from strides.domain.parse import RuleSet, parse_rules
from strides.domain.schema import Rule
from strides.domain.yamltext import LocatedDict, Location, YamlError
from strides.domain.yamltext import load as load_yaml


def _rule_locations(text: str, filename: str) -> dict[str, Location]:
    try:
        document = load_yaml(text, filename)
    except YamlError:
        return {}
    found: dict[str, Location] = {}
    rules = document.get("rules") if isinstance(document, LocatedDict) else None
    for item in rules if isinstance(rules, list) else []:
        if isinstance(item, LocatedDict) and isinstance(item.get("id"), str):
            found.setdefault(item["id"], item.where("id"))
    return found


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
    errors: list[RuleError] = []
    rules: list[Rule] = []
    where: dict[str, Location] = {}
    for filename, text in files:
        locations = _rule_locations(text, filename)
        try:
            parsed = parse_rules(text, filename)
        except RuleSetError as exc:
            errors.extend(exc.errors)
            continue
        for rule in parsed:
            here = locations.get(rule.id, Location(filename, 1))
            if rule.id in where:
                errors.append(
                    RuleError(here, rule.id, f"duplicate rule id (first defined at {where[rule.id]})")
                )
                continue
            where[rule.id] = here
            rules.append(rule)
    ids = sorted(where)
    for rule in rules:
        for target in rule.inhibits:
            if target not in where:
                close = difflib.get_close_matches(target, ids, n=1)
                errors.append(
                    RuleError(
                        where[rule.id],
                        rule.id,
                        f"inhibits unknown rule '{target}'",
                        f"did you mean '{close[0]}'?" if close else f"known rules: {', '.join(ids)}",
                    )
                )
    for cycle in _loops(rules):
        errors.append(
            RuleError(
                where[cycle[0]],
                cycle[0],
                f"inhibitions loop: {' -> '.join(cycle)}",
                "an escalation inhibits plain reminders, never the other way round",
            )
        )
    errors.sort(
        key=lambda e: (e.location.file, e.location.line, e.location.column) if e.location else ("", 0, 0)
    )
    return (None if errors else RuleSet(tuple(rules))), errors


def load_checked(files: Iterable[tuple[str, str]]) -> RuleSet:
    """The rule set of these files, or RuleSetError with every problem."""
    ruleset, errors = check_files(files)
    if ruleset is None:
        raise RuleSetError(errors)
    return ruleset
