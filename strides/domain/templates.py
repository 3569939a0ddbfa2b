"""The tiny, safe template language of rule titles and bodies: `{goal.title}`, `{days_left}`."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

from strides.domain.conditions import fields_of
from strides.domain.model import Goal, Milestone, Person

_PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)*)\}")
_MISSING = object()


# The names a rule's title and body may use (rules.planning.messages builds them), with the model
# of those that have fields.
TEMPLATE_NAMES: dict[str, type[Any] | None] = {
    "person": Person,
    "owner": Person,
    "goal": Goal,
    "milestone": Milestone,
    "manager": Person,
    "mentor": Person,
    "days_left": None,
    "days_late": None,
    "date": None,
}


def template_fields(model: type[Any]) -> dict[str, type[Any] | None]:
    """The fields a placeholder may read on a model: its data fields only (not its methods or
    settings, and not the fields only conditions see, such as a goal's `progress`)."""
    return {name: nested for name, nested in fields_of(model).items() if name in _data_fields(model)}


# A type's data fields (pydantic's `model_fields`; None for what is not a model), looked up once.
_FIELDS: dict[type, Any] = {}


def _data_fields(kind: type[Any]) -> Any:
    """A model's data fields (pydantic's `model_fields`); None for what is not a model."""
    if kind not in _FIELDS:
        _FIELDS[kind] = getattr(kind, "model_fields", None)
    return _FIELDS[kind]


def placeholders(template: str) -> list[tuple[int, tuple[str, ...]]]:
    """Each placeholder of a template: where it starts (0-based) and its path."""
    return [(match.start(), tuple(match.group(1).split("."))) for match in _PLACEHOLDER.finditer(template)]


# A piece of a template: literal text (no path), or a placeholder's own text, its path and, when
# the path has one public attribute past its first name, the getter of that attribute.
_Piece = tuple[str, tuple[str, ...] | None, Callable[[Any], Any] | None]
_Placeholder = tuple[str, tuple[str, ...], Callable[[Any], Any] | None]


@functools.lru_cache(maxsize=1024)
def _parsed(template: str) -> tuple[_Piece, ...]:
    """The template as literal pieces and placeholders, split once per template."""
    pieces: list[_Piece] = []
    at = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > at:
            pieces.append((template[at : match.start()], None, None))
        path = tuple(match.group(1).split("."))
        rest = path[1:]
        # One step only: a deeper path may pass through a mapping, which is read by key.
        getter = attrgetter(rest[0]) if len(rest) == 1 and not rest[0].startswith("_") else None
        pieces.append((match.group(0), path, getter))
        at = match.end()
    if at < len(template):
        pieces.append((template[at:], None, None))
    return tuple(pieces)


@functools.lru_cache(maxsize=1024)
def names(template: str) -> frozenset[str]:
    """The top-level names a template reads (`goal` for `{goal.title}`)."""
    return frozenset(path[0] for _, path, _ in _parsed(template) if path is not None)


# Whether values of a type are read by key (mappings) or by attribute, per type: an ABC's
# isinstance check is slow, and a template is rendered for every message.
_BY_KEY: dict[type, bool] = {}


def _lookup(context: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = context
    for part in path:
        if _is_mapping(value):
            value = value.get(part, _MISSING)
        elif part.startswith("_") or not _readable(value, part):
            return _MISSING
        else:
            value = getattr(value, part, _MISSING)
        if value is _MISSING:
            return value
    return value


def _value(context: Mapping[str, Any], path: tuple[str, ...], getter: Callable[[Any], Any] | None) -> Any:
    """`_lookup`, the common case first: a name of a dict, then attributes of a model."""
    if type(context) is not dict:
        return _lookup(context, path)
    value = context.get(path[0], _MISSING)
    if value is _MISSING or len(path) == 1:
        return value
    if getter is not None and not _is_mapping(value) and _readable(value, path[1]):
        try:
            return getter(value)
        except AttributeError:
            pass  # a step that is a mapping, or a name that is not there: the general way
    return _lookup(value, path[1:])


def _readable(value: Any, name: str) -> bool:
    """Whether a placeholder may read `name` of `value`: a model's data fields only (never its
    methods, settings or internals: `{goal.model_dump}` stays as written)."""
    fields = _data_fields(type(value))
    return fields is None or name in fields


def _is_mapping(value: Any) -> bool:
    kind = type(value)
    by_key = _BY_KEY.get(kind)
    if by_key is None:
        by_key = _BY_KEY[kind] = isinstance(value, Mapping)
    return by_key


@functools.lru_cache(maxsize=1024)
def _compiled(template: str) -> tuple[str, tuple[_Placeholder, ...]]:
    """The template as a format string with a positional field per placeholder, and those."""
    pieces = _parsed(template)
    fields = "".join("{}" if path else text.replace("{", "{{").replace("}", "}}") for text, path, _ in pieces)
    return fields, tuple((text, path, getter) for text, path, getter in pieces if path is not None)


def render_text(template: str, context: Mapping[str, Any]) -> str:
    """Replace `{a.b}` with context['a'].b; unknown names stay visible as `{a.b}`."""
    if "{" not in template:
        return template
    fields, placeholders = _compiled(template)
    values: list[str] = []
    for text, path, getter in placeholders:
        value = _value(context, path, getter)
        values.append(text if value is _MISSING else "" if value is None else str(value))
    return fields.format(*values)
