"""The tiny, safe template language of rule titles and bodies: `{goal.title}`, `{days_left}`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)*)\}")


def render_text(template: str, context: Mapping[str, Any]) -> str:
    """Replace `{a.b}` with context['a'].b; unknown names stay visible as `{a.b}`."""
    if "{" not in template:
        return template

    def lookup(match: re.Match[str]) -> str:
        value: Any = context
        for part in match.group(1).split("."):
            if isinstance(value, Mapping):
                if part not in value:
                    return match.group(0)
                value = value[part]
            elif part.startswith("_") or not hasattr(value, part):
                return match.group(0)
            else:
                value = getattr(value, part)
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(lookup, template)
