"""Rule files from text to validated rules, with every problem located in one pass."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from strides.domain import schema
from strides.domain.errors import RuleError, RuleSetError
from strides.domain.rule_calendar import RuleModel
from strides.domain.schema import Rule, RuleFile
from strides.domain.yamltext import LocatedDict, Location, YamlError
from strides.domain.yamltext import load as load_yaml

_MODELS = [
    getattr(schema, name)
    for name in dir(schema)
    if isinstance(getattr(schema, name), type) and issubclass(getattr(schema, name), RuleModel)
]


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    @property
    def enabled(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.enabled)

    def __len__(self) -> int:
        return len(self.rules)


def _locate(document: Any, loc: tuple[int | str, ...], filename: str) -> tuple[Location, str | None]:
    """Follow a pydantic error path through the located YAML to the nearest line."""
    node: Any = document
    where = document.where() if isinstance(document, LocatedDict) else Location(filename, 1)
    rule_id: str | None = None
    for part in loc:
        if isinstance(node, LocatedDict) and isinstance(part, str) and part in node:
            where = node.where(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            if isinstance(node, LocatedDict):
                where = node.where()
                if rule_id is None and isinstance(node.get("id"), str):
                    rule_id = node["id"]
        elif isinstance(node, LocatedDict) and isinstance(part, str):
            continue  # a union member's name, or a missing key: stay on the mapping
        else:
            break
    return where, rule_id


_HINTED = re.compile(r"^(.*?)(?:: | \()((?:did you mean|use |conditions are)[^)]*?)\)?$", re.S)


@functools.cache
def _known_keys() -> tuple[str, ...]:
    names: set[str] = set()
    for model in _MODELS:
        names.update(f.alias or n for n, f in model.model_fields.items())
    return tuple(sorted(names))


def _split_hint(message: str) -> tuple[str, str | None]:
    match = _HINTED.match(message)
    if match and match.group(1):
        return match.group(1), match.group(2)
    return message, None


def _hint_for(error: Any) -> str | None:
    if error["type"] == "extra_forbidden" and error["loc"]:
        close = difflib.get_close_matches(str(error["loc"][-1]), _known_keys(), n=1, cutoff=0.6)
        return f"did you mean '{close[0]}'?" if close else "see docs/rules.md for the keys of each part"
    if error["type"] == "missing" and error["loc"]:
        return f"add `{error['loc'][-1]}:`"
    return None


def _message(error: Any) -> str:
    loc = [str(p) for p in error["loc"] if not str(p)[0].isupper() and "[" not in str(p)]
    field = ".".join(p for p in loc if not p.isdigit() and p != "rules")
    msg = str(error["msg"]).removeprefix("Value error, ")
    msg = re.sub(r" or instance of \w+", "", msg).replace("a valid tuple", "a list")
    raw = tuple(error["loc"])
    if raw == () and error["type"] == "model_type":
        return "a rule file is a mapping with a `rules:` list"
    if raw == ("rules",):
        return f"rules: {msg[0].lower()}{msg[1:]}"
    if len(raw) == 2 and raw[0] == "rules" and error["type"] == "model_type":
        return f"rule {int(raw[1]) + 1} of the file is not a mapping (a rule has id, trigger and action)"
    if error["type"] == "extra_forbidden":
        msg = f"unknown key '{loc[-1]}'" if loc else "unknown key"
    elif error["type"] == "missing":
        msg = f"missing required key '{loc[-1]}'" if loc else msg
    elif field:
        msg = f"{field}: {msg}"
    return msg


_CEL_AT = re.compile(r"CEL syntax error at (\d+):(\d+)")
_FIELD = re.compile(r"unknown (?:field|variable) '([^']+)'")


def _inside_condition(
    text: str, document: Any, loc: tuple[int | str, ...], where: Location, message: str
) -> Location:
    """Point at the spot inside a condition instead of at its `when:` key.

    CEL counts lines and columns in the expression; the expression is a YAML scalar that may be a
    block (`when: |`), folded or quoted, so each position is mapped back through the scalar's span.
    """
    node: Any = document
    for part in loc[:-1]:
        in_mapping = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_mapping or in_list):
            return where
        node = node[part]
    key = str(loc[-1])
    value = node.get(key) if isinstance(node, LocatedDict) else None
    if not isinstance(value, str) or key not in node.value_spans:
        return where
    offset: int | None = None
    if found := _CEL_AT.search(message):
        line, column = int(found.group(1)), int(found.group(2))
        lines = value.split("\n")
        if 0 < line <= len(lines):
            offset = sum(len(earlier) + 1 for earlier in lines[: line - 1]) + column - 1
    elif found := _FIELD.search(message):
        parts = [re.escape(p) for p in found.group(1).split(".")]
        match = re.search(r"(?<![\w.])" + r"\s*\.\s*".join(parts) + r"(?!\w)", value)
        offset = match.start() if match else None
    if offset is None:
        return where
    return node.value_spans[key].locate(text, value, offset, where.file) or where


def parse_rules(text: str, filename: str) -> tuple[Rule, ...]:
    """Parse one rule file; raise RuleSetError listing every problem found."""
    try:
        document = load_yaml(text, filename)
    except YamlError as exc:
        raise RuleSetError([RuleError(exc.location, None, exc.message)]) from exc
    return rules_of(document, text, filename)


def rules_of(document: Any, text: str, filename: str) -> tuple[Rule, ...]:
    """The rules of a rule file's parsed YAML (`text` is what it was parsed from, to locate
    problems inside conditions); raise RuleSetError listing every problem found."""
    if document is None:
        return ()
    try:
        return RuleFile.model_validate(document).rules
    except ValidationError as exc:
        errors = []
        seen: set[tuple[str, str]] = set()
        problems = exc.errors()
        failed = {tuple(e["loc"]) for e in problems if e["type"] != "too_short"}
        for error in problems:
            loc = tuple(error["loc"])
            if error["type"] == "too_short" and any(f[: len(loc)] == loc for f in failed):
                continue  # an item was refused: the list being short follows from it
            where, rule_id = _locate(document, error["loc"], filename)
            message, hint = _split_hint(_message(error))
            if error["loc"] and error["loc"][-1] == "when":
                where = _inside_condition(text, document, tuple(error["loc"]), where, message)
            if (str(where), message) in seen:
                continue
            seen.add((str(where), message))
            errors.append(RuleError(where, rule_id, message, hint or _hint_for(error)))
        raise RuleSetError(errors) from None


def combine(files: Iterable[tuple[str, tuple[Rule, ...]]]) -> RuleSet:
    """Join parsed files into one set; rule ids are unique across files."""
    seen: dict[str, str] = {}
    errors: list[RuleError] = []
    rules: list[Rule] = []
    for filename, parsed in files:
        for rule in parsed:
            if rule.id in seen:
                errors.append(
                    RuleError(Location(filename, 1), rule.id, f"duplicate rule id (also in {seen[rule.id]})")
                )
                continue
            seen[rule.id] = filename
            rules.append(rule)
    if errors:
        raise RuleSetError(errors)
    return RuleSet(tuple(rules))
