"""docs/rules.md cannot drift: it lists every key of the schema, and its examples run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from strides.cli.rules import rule_test_loader
from strides.domain.check import check_files
from strides.domain.schema import json_schema
from strides.rules.testing import run_test_file

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
TEXT = DOC.read_text()
BLOCKS = re.findall(r"```yaml\n(.*?)```", TEXT, re.S)


def _section(model: str) -> str:
    marker = f"<!-- model: {model} -->"
    assert marker in TEXT, f"docs/rules.md has no section for {model} (add `{marker}`)"
    body = TEXT.split(marker, 1)[1]
    return body.split("<!-- model:", 1)[0]


MODELS = {name: sorted(d["properties"]) for name, d in json_schema()["$defs"].items() if "properties" in d}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_key_of_every_part_is_documented_in_its_section(model: str) -> None:
    section = _section(model)
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))
    assert documented == set(MODELS[model])


def test_every_key_has_an_example() -> None:
    examples = "\n".join(BLOCKS)
    keys = {key for keys in MODELS.values() for key in keys}
    missing = sorted(k for k in keys if not re.search(rf"\b{k}:", examples))
    assert missing == []


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.startswith("rules:")], ids=lambda b: b.split("id: ")[1].split("\n")[0]
)
def test_every_rule_example_checks_clean(block: str) -> None:
    _, errors = check_files([("docs/rules.md", block)])
    assert [str(e) for e in errors] == []


def test_the_rule_test_example_passes() -> None:
    [block] = [b for b in BLOCKS if b.startswith("rule_files:")]
    result = run_test_file(block, "docs/rules.md", rule_test_loader(DOC.parent))
    assert result.ok, [c.diff() for c in result.cases]
