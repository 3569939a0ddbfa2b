"""The tiny, safe template language of rule titles and bodies: `{goal.title}`, `{days_left}`."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)*)\}")
_MISSING = object()


@functools.lru_cache(maxsize=1024)
def _parsed(template: str) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
    """The template as literal pieces and placeholder paths, split once per template."""
    pieces: list[tuple[str, tuple[str, ...] | None]] = []
    at = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > at:
            pieces.append((template[at : match.start()], None))
        pieces.append((match.group(0), tuple(match.group(1).split("."))))
        at = match.end()
    if at < len(template):
        pieces.append((template[at:], None))
    return tuple(pieces)


@functools.lru_cache(maxsize=1024)
def names(template: str) -> frozenset[str]:
    """The top-level names a template reads (`goal` for `{goal.title}`)."""
    return frozenset(path[0] for _, path in _parsed(template) if path is not None)


# Whether values of a type are read by key (mappings) or by attribute, per type: an ABC's
# isinstance check is slow, and a template is rendered for every message.
_BY_KEY: dict[type, bool] = {}


def _lookup(context: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = context
    for part in path:
        kind = type(value)
        by_key = _BY_KEY.get(kind)
        if by_key is None:
            by_key = _BY_KEY[kind] = isinstance(value, Mapping)
        if by_key:
            value = value.get(part, _MISSING)
        elif part.startswith("_"):
            return _MISSING
        else:
            value = getattr(value, part, _MISSING)
        if value is _MISSING:
            return value
    return value


def render_text(template: str, context: Mapping[str, Any]) -> str:
    """Replace `{a.b}` with context['a'].b; unknown names stay visible as `{a.b}`."""
    if "{" not in template:
        return template
    out: list[str] = []
    for text, path in _parsed(template):
        if path is None:
            out.append(text)
            continue
        value = _lookup(context, path)
        out.append(text if value is _MISSING else "" if value is None else str(value))
    return "".join(out)
