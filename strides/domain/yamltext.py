"""Safe YAML that remembers where things are and refuses duplicate keys.

Parsing text is pure: both the organisation sources and the rule language use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import SafeConstructor
from yaml.error import Mark
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.resolver import Resolver


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Span:
    """Where a scalar value lies in the text (0-based lines and columns, end exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int
    style: str | None = None

    def locate(self, text: str, value: str, offset: int, filename: str) -> Location | None:
        """The file location of character `offset` of the scalar's `value` (as YAML parsed it).

        Block scalars (`|`, `>`) start on the line after their indicator and lose their
        indentation; folded and multi-line plain scalars join lines with a space. Each source
        line's content is found in `value` in order, so an offset maps back to its own line
        and column whatever the folding did.
        """
        lines = text.splitlines()
        quoted = self.style in ("'", '"')
        pieces: list[tuple[int, int, str]] = []  # (line, column, content), 0-based
        first = self.line + 1 if self.style in ("|", ">") else self.line
        for number in range(first, min(self.end_line, len(lines) - 1) + 1):
            line = lines[number]
            if number == self.end_line:
                line = line[: self.end_column - (1 if quoted else 0)]
            start = (
                self.column + (1 if quoted else 0) if number == self.line else len(line) - len(line.lstrip())
            )
            content = line[start:].rstrip()
            if content:
                pieces.append((number, start, content))
        found: list[tuple[int, int, int]] = []  # (offset in value, line, column)
        position = 0
        for number, start, content in pieces:
            # The longest start of the line's content found from here on (comments and escapes
            # are not in the value).
            for size in range(len(content), 0, -1):
                at = value.find(content[:size], position)
                if at >= 0:
                    found.append((at, number, start))
                    position = at + size
                    break
        before = [f for f in found if f[0] <= offset]
        if not before:
            return None
        at, number, start = before[-1]
        return Location(filename, number + 1, start + (offset - at) + 1)


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
    # Where each scalar value lies in the text: (line, column, end line, end column), 0-based, and its
    # style (None plain, "'" or '"' quoted, "|" literal, ">" folded); see `Span`.
    value_spans: dict[str, Span]

    def where(self, key: str | None = None) -> Location:
        if key is not None and key in self.key_lines:
            line, col = self.key_lines[key]
            return Location(self.file, line, col)
        return Location(self.file, self.line, self.column)


# Limits on what one YAML document may ask of strides: an alias "bomb" (aliases of aliases) would
# otherwise expand to gigabytes once validated (with k aliases at most about e^(k/e) copies: 20
# allow some 1,600), and nesting thousands deep exhausts Python's stack. Organisation and rule
# files need neither.
MAX_ALIASES = 20
MAX_DEPTH = 64
MAX_SIZE = 50 * 1024 * 1024
_LIMITS = (f"more than {MAX_ALIASES} aliases", f"nested more than {MAX_DEPTH} deep")


# libyaml's scanner and parser (in C), when PyYAML was built with it (its wheels are).
_CParser: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)
_Base: type[Any] = yaml.SafeLoader
if _CParser is not None:

    class _FastBase(Composer, _CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        """libyaml's scanner and parser under PyYAML's own composer, constructor and resolver: the
        composer's limits (aliases, depth) and the constructors below apply as with the pure
        Python loader. Measured on a 10,000-rule file (1.2 MB): 1.9 s against 5.1 s."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    _Base = _FastBase


def load(text: str, filename: str) -> Any:
    """Parse one YAML document; mappings come back as LocatedDict."""
    if len(text) > MAX_SIZE:
        raise YamlError(Location(filename, 1), f"file over {MAX_SIZE // (1024 * 1024)} MB")
    try:
        return yaml.load(text, Loader=_loader(_Base, filename))
    except yaml.MarkedYAMLError as exc:
        error = exc
    if _Base is not yaml.SafeLoader:
        # libyaml words a syntax error less helpfully than PyYAML ("did not find expected ','"
        # against "expected ',' or '}', but got ':'"): the pure loader reads the text again to say it.
        try:
            return yaml.load(text, Loader=_loader(yaml.SafeLoader, filename))
        except yaml.MarkedYAMLError as exc:
            error = exc
    raise _syntax_error(error, filename) from error


def _loader(base: type[Any], filename: str) -> type[Any]:
    """A loader class on `base` with strides' limits and constructors."""

    class _Loader(base):  # type: ignore[misc]
        aliases = 0
        depth = 0

        def compose_node(self, parent: Node | None, index: Any) -> Node | None:
            event = self.peek_event()
            mark = cast(Mark, event.start_mark)
            if isinstance(event, AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    raise ComposerError(None, None, f"more than {MAX_ALIASES} aliases", mark)
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise ComposerError(None, None, f"nested more than {MAX_DEPTH} deep", mark)
                node: Node | None = super().compose_node(parent, index)
                return node
            finally:
                self.depth -= 1

    def construct_mapping(loader: _Loader, node: Node) -> LocatedDict:
        assert isinstance(node, MappingNode)
        loader.flatten_mapping(node)
        result = LocatedDict()
        result.file = filename
        result.line = node.start_mark.line + 1
        result.column = node.start_mark.column + 1
        result.key_lines = {}
        result.value_spans = {}
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
            if isinstance(value_node, ScalarNode):
                start, end = value_node.start_mark, value_node.end_mark
                result.value_spans[key] = Span(
                    start.line, start.column, end.line, end.column, value_node.style
                )
        return result

    def construct_number(loader: _Loader, node: Node) -> Any:
        # YAML 1.1 reads an unquoted 12:00 as the base-60 number 720 (which a time field would
        # take as 00:12): a number written with colons is kept as written, a time of day.
        assert isinstance(node, ScalarNode)
        if ":" in node.value:
            return node.value
        if node.tag.endswith(":int"):
            return loader.construct_yaml_int(node)
        return loader.construct_yaml_float(node)

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    _Loader.add_constructor("tag:yaml.org,2002:int", construct_number)
    _Loader.add_constructor("tag:yaml.org,2002:float", construct_number)
    return _Loader


def _syntax_error(exc: yaml.MarkedYAMLError, filename: str) -> YamlError:
    """A syntax error where it was made: an unclosed bracket or quote is noticed lines later (at
    the next key or the end of the file), so it is located where the unclosed part begins."""
    problem, context = exc.problem or exc.context or "not YAML", exc.context
    at, began = exc.problem_mark, exc.context_mark
    if at is not None and began is not None and context and began.line < at.line:
        noticed = f"line {at.line + 1}, column {at.column + 1}"
        where = Location(filename, began.line + 1, began.column + 1)
        return YamlError(where, f"YAML syntax error: {problem} ({noticed}) {context} that starts here")
    mark = at or began
    where = Location(filename, mark.line + 1, mark.column + 1) if mark else Location(filename, 1)
    if problem.startswith(_LIMITS):
        return YamlError(where, f"YAML refused: {problem} (strides reads no more from one file)")
    return YamlError(where, f"YAML syntax error: {problem}")
