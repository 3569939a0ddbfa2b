"""Positions inside YAML scalars map back to the file, whatever the scalar's style (yamltext.Span)."""

from __future__ import annotations

from datetime import time

from hypothesis import assume, given
from hypothesis import strategies as st

from strides.domain.parse import parse_rules
from strides.domain.yamltext import LocatedDict, load

# Words start with a letter: a plain scalar may not start with YAML's indicators (! * > ...).
WORD = st.builds(
    str.__add__,
    st.sampled_from("abcdefghijklmnopqrstuvwxyz"),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.()<>=!+*", max_size=8),
)
LINE = st.lists(WORD, min_size=1, max_size=5).map(" ".join)
STYLES = st.sampled_from(["|", "|-", ">", ">-", "plain", "double", "single"])


def _document(style: str, lines: list[str], indent: int) -> str:
    pad = " " * indent
    if style in ("|", "|-", ">", ">-"):
        body = "".join(f"{pad}{line}\n" for line in lines)
        return f"rule:\n  when: {style}\n{body}  after: 1\n"
    quote = {"plain": "", "double": '"', "single": "'"}[style]
    rest = "".join(f"\n{pad}{line}" for line in lines[1:])
    return f"rule:\n  when: {quote}{lines[0]}{rest}{quote}\n  after: 1\n"


@given(STYLES, st.lists(LINE, min_size=1, max_size=5), st.integers(min_value=4, max_value=8))
def test_every_character_of_a_scalar_is_located_where_it_is_written(
    style: str, lines: list[str], indent: int
) -> None:
    text = _document(style, lines, indent)
    rule = load(text, "f.yaml")["rule"]
    assert isinstance(rule, LocatedDict)
    value = rule["when"]
    assume(isinstance(value, str))  # a plain `0` or `null` is not text
    source = text.splitlines()
    seen: list[tuple[int, int]] = []
    for offset, char in enumerate(value):
        if char.isspace():
            continue
        where = rule.value_spans["when"].locate(text, value, offset, "f.yaml")
        assert where is not None
        assert source[where.line - 1][where.column - 1] == char, (text, offset)
        seen.append((where.line, where.column))
    # In reading order, each character on its own spot.
    assert seen == sorted(set(seen))
    assert seen[0][0] == (3 if style.startswith(("|", ">")) else 2)


def test_a_time_of_day_written_without_quotes_is_read_as_written() -> None:
    # YAML 1.1 would read 12:00 as the base-60 number 720, and a rule's `at: 12:00` as 00:12.
    rules = parse_rules(
        "rules:\n"
        "  - id: noon-review\n"
        "    trigger:\n"
        "      every: FREQ=WEEKLY;BYDAY=FR\n"
        "      at: 12:00\n"
        "    action:\n"
        "      kind: email\n"
        "      to: [owner]\n"
        "      title: Review\n",
        "noon.yaml",
    )
    assert rules[0].trigger.at == time(12, 0)  # type: ignore[union-attr]
