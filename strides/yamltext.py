"""Safe YAML that remembers where things are and refuses duplicate keys.

Parsing text is pure: both the organisation sources and the rule language use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class YamlError(ValueError):
    """A YAML document could not be read; carries its location."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


class LocatedDict(dict[str, Any]):
    """A mapping that knows its own line and the line of each key."""

    file: str
    line: int
    column: int
    key_lines: dict[str, tuple[int, int]]

    def where(self, key: str | None = None) -> Location:
        if key is not None and key in self.key_lines:
            line, col = self.key_lines[key]
            return Location(self.file, line, col)
        return Location(self.file, self.line, self.column)


def load(text: str, filename: str) -> Any:
    """Parse one YAML document; mappings come back as LocatedDict."""

    class _Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: _Loader, node: Node) -> LocatedDict:
        assert isinstance(node, MappingNode)
        loader.flatten_mapping(node)
        result = LocatedDict()
        result.file = filename
        result.line = node.start_mark.line + 1
        result.column = node.start_mark.column + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                first = result.key_lines[key][0]
                raise YamlError(
                    Location(filename, *where), f"duplicate key {key!r} (first defined on line {first})"
                )
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_lines[key] = where
        return result

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(filename, mark.line + 1, mark.column + 1) if mark else Location(filename, 1)
        raise YamlError(loc, f"YAML syntax error: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:  # pragma: no cover - non-marked errors are rare
        raise YamlError(Location(filename, 1), f"YAML error: {exc}") from exc
