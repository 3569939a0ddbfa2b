"""Rule conditions in CEL: compiled once per expression, checked statically against the model.

CEL's `&&` and `||` swallow an error when the other side decides the result, so a misspelt
field can hide at run time (shared/FIELD-NOTES.md). Every field path is therefore checked
here, before any record is seen, against the same views the planner evaluates with.

The variables are `goal`, `milestone`, `person`, `manager`, `mentor` (the first mentor) and
`now` (a timestamp). Calendar days (deadlines, due dates, hire dates) become timestamps at
midnight in the owner's timezone, so `goal.deadline - now < duration("336h")` works.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import Enum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import cel

# `cel` is imported where a condition is compiled or evaluated: its package imports its own
# command line (prompt_toolkit), about 0.13 s that commands reading only the store need not pay.

from strides.domain.model import DigestPreferences, Goal, Metric, Milestone, Person, WorkingHours

ROOTS: dict[str, type[Any] | None] = {
    "goal": Goal,
    "milestone": Milestone,
    "person": Person,
    "manager": Person,
    "mentor": Person,
    "now": None,
}
# Computed fields the views add to a model's own fields.
_EXTRA: dict[type[Any], dict[str, type[Any] | None]] = {
    Goal: {"smart": None, "progress": None, "overdue": None},
    Milestone: {"done": None, "overdue": None},
    Metric: {"progress": None},
    Person: {"reports": None},
}
_NESTED: dict[str, type[Any]] = {
    "metric": Metric,
    "working_hours": WorkingHours,
    "digest": DigestPreferences,
}
_MACROS = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_STRING = re.compile(r"""[rRbB]*('''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")""", re.S)
_CHAIN = re.compile(r"(?<![\w.])([A-Za-z_]\w*)((?:\s*\.\s*[A-Za-z_]\w*)*)(\s*\()?")
_KEYWORDS = frozenset({"true", "false", "null", "in"})
_MACRO_CALL = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(")
# The cost budget, as Kubernetes bounds its CEL (its per-expression limit is 10^6 as well): an
# estimate of the steps one evaluation takes, from the expression's length and its list macros,
# each assumed to run over LIST_BOUND elements (or the longest list written in the expression).
COST_BUDGET = 1_000_000
LIST_BOUND = 100


class ConditionError(ValueError):
    """A condition that does not compile or names a field that does not exist."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


# Fields no rule may read or print: a person's calendar source holds a secret address or login.
HIDDEN_FIELDS = frozenset({"calendar"})


def fields_of(model: type[Any]) -> dict[str, type[Any] | None]:
    """The field names a condition may use on a model, with the model of nested ones."""
    names: dict[str, type[Any] | None] = {}
    for name in getattr(model, "model_fields", {}):
        if name not in HIDDEN_FIELDS:
            names[name] = _NESTED.get(name)
    names.update(_EXTRA.get(model, {}))
    return names


def suggest(word: str, choices: list[str]) -> str | None:
    """`did you mean 'x'?` for a close choice, else None."""
    # 0.75: a typo (contry, titel, nam) is close; a different word (colour/country, 0.62) is not.
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else None


@dataclass(frozen=True)
class PathProblem:
    """An unknown variable or field in an expression, at `offset` (0-based) in its text."""

    offset: int
    message: str
    hint: str | None


def path_problems(expression: str) -> list[PathProblem]:
    """Every unknown variable and field path of a condition, in order, each with a suggestion."""
    problems: list[PathProblem] = []
    bound = set(_MACROS.findall(expression))
    # Blank out string literals so that text inside quotes is never read as a path.
    code = _STRING.sub(lambda m: " " * len(m.group(0)), expression)
    for match in _CHAIN.finditer(code):
        root, rest, call = match.group(1), match.group(2), match.group(3)
        parts = [p.strip() for p in rest.split(".")[1:]]
        if call and not parts:
            continue  # a function: size(...), duration(...)
        if call:
            parts = parts[:-1]  # a method: goal.title.startsWith(...)
        if root in _KEYWORDS or root in bound:
            continue
        if root not in ROOTS:
            hint = suggest(root, list(ROOTS)) or f"use one of: {', '.join(ROOTS)}"
            problems.append(PathProblem(match.start(), f"unknown variable '{root}' in condition", hint))
            continue
        problem = field_problem(ROOTS[root], root, parts, "condition")
        if problem is not None:
            problems.append(PathProblem(match.start(), *problem))
    return problems


def field_problem(
    model: type[Any] | None, path: str, parts: list[str], where: str, fields: Any = None
) -> tuple[str, str | None] | None:
    """The first unknown field of `path.parts...` on `model` (message, hint), or None."""
    for part in parts:
        if model is None:
            return None  # a scalar or a list: CEL itself checks what follows
        known = (fields or fields_of)(model)
        if part not in known:
            hint = suggest(part, sorted(known)) or f"{path} has: {', '.join(sorted(known))}"
            return f"unknown field '{path}.{part}' in {where}", hint
        path = f"{path}.{part}"
        model = known[part]
    return None


def check_paths(expression: str) -> None:
    """Raise ConditionError for the first unknown variable or field path, with a suggestion."""
    for problem in path_problems(expression):
        raise ConditionError(problem.message, problem.hint)


def _closing(code: str, start: int) -> int:
    """The index of the parenthesis closing the one at `start` (the end when none does)."""
    depth = 0
    for index in range(start, len(code)):
        if code[index] == "(":
            depth += 1
        elif code[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    return len(code)


def _longest_list(code: str) -> int:
    """Elements of the longest list literal written in the expression (0 when none)."""
    longest = 0
    stack: list[tuple[bool, list[int]]] = []  # (a literal, not an index; its elements so far)
    for index, char in enumerate(code):
        if char == "[":
            before = code[:index].rstrip()[-1:]
            literal = not before or not (before.isalnum() or before in "_])")  # x[0] is an index
            stack.append((literal, [1 if code[index + 1 :].lstrip()[:1] not in ("]", "") else 0]))
        elif char == "]" and stack:
            literal, count = stack.pop()
            if literal:
                longest = max(longest, count[0])
        elif char == "," and stack:
            stack[-1][1][0] += 1
    return longest


def condition_cost(expression: str) -> int:
    """The estimated steps of one evaluation: one per character, and for each list macro
    (map, filter, all, exists, exists_one) the list bound to the power of its nesting depth."""
    code = _STRING.sub(lambda m: " " * len(m.group(0)), expression)
    bound = max(LIST_BOUND, _longest_list(code))
    spans = [(m.end() - 1, _closing(code, m.end() - 1)) for m in _MACRO_CALL.finditer(code)]
    cost = len(code)
    for start, _ in spans:
        depth = 1 + sum(1 for outer, end in spans if outer < start < end)
        cost += bound**depth
    return cost


def check_cost(expression: str) -> None:
    """Raise ConditionError when one evaluation could cost more than COST_BUDGET steps."""
    cost = condition_cost(expression)
    if cost > COST_BUDGET:
        raise ConditionError(
            f"condition too costly: about {cost:,} steps per record, over the budget of {COST_BUDGET:,}",
            "nest at most two list macros (map, filter, all, exists, exists_one) and keep lists short",
        )


@functools.lru_cache(maxsize=1024)
def compile_condition(expression: str) -> cel.Program:
    """Compile once (cached by text) after checking its cost and every field path; raise
    ConditionError."""
    import cel

    check_cost(expression)
    try:
        program = cel.compile(expression)
    except ValueError as exc:
        text = str(exc)
        detail = text.split("ERROR: <input>:", 1)[-1] if "ERROR: <input>:" in text else text
        raise ConditionError(
            f"CEL syntax error at {detail.splitlines()[0]}",
            'conditions are CEL expressions, for example: goal.status == "active" && goal.metric == null',
        ) from None
    check_paths(expression)
    return program


def condition_roots(expression: str) -> frozenset[str]:
    """The variables (goal, person, ...) a valid condition uses."""
    variables = compile_condition(expression).references()["variables"]
    return frozenset(v for v in variables if v in ROOTS)


# -- values -------------------------------------------------------------------------------------


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(UTC)


def _value(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        # The CEL binding converts fixed offsets only, not IANA zones: hand it UTC.
        return value.astimezone(UTC)
    if isinstance(value, date):
        return _midnight(value, tz)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, tuple | list):
        return [_value(v, tz) for v in value]
    if hasattr(value, "model_dump"):
        fields = type(value).model_fields
        return {name: _value(getattr(value, name), tz) for name in fields if name not in HIDDEN_FIELDS}
    return value


def person_view(person: Person | None, reports: int = 0) -> dict[str, Any] | None:
    if person is None:
        return None
    view: dict[str, Any] = _value(person, person.tz)
    view["reports"] = reports
    return view


def goal_view(goal: Goal | None, tz: ZoneInfo, today: date) -> dict[str, Any] | None:
    if goal is None:
        return None
    view: dict[str, Any] = _value(goal, tz)
    view["smart"] = goal.is_smart
    view["progress"] = goal.metric.progress if goal.metric else 0.0
    view["overdue"] = goal.deadline is not None and goal.deadline < today and goal.completed_at is None
    if goal.metric is not None:
        view["metric"]["progress"] = goal.metric.progress
    return view


def milestone_view(milestone: Milestone | None, tz: ZoneInfo, today: date) -> dict[str, Any] | None:
    if milestone is None:
        return None
    view: dict[str, Any] = _value(milestone, tz)
    view["done"] = milestone.done
    view["overdue"] = not milestone.done and milestone.due < today
    return view


def build_context(variables: Mapping[str, Any]) -> cel.Context:
    """One context per record, reused by every rule's condition."""
    import cel

    return cel.Context({k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in variables.items()})


def evaluate(program: cel.Program, context: cel.Context) -> tuple[bool, str | None]:
    """(result, problem): a condition that fails at run time counts as false and says why."""
    try:
        result = program.execute(context)
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        return False, f"condition failed: {type(exc).__name__}: {exc}"
    if not isinstance(result, bool):
        return False, f"condition gave {type(result).__name__}, not a boolean"
    return result, None
