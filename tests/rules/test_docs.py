"""docs/rules.md cannot drift: it lists every key of the schema, and its examples run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

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


class _EditorLoader(yaml.SafeLoader):
    """YAML as an editor's language server reads it (YAML 1.2: a date is text, as strides reads it)."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SCHEMA = jsonschema.Draft202012Validator(json.loads((DOC.parent / "rules.schema.json").read_text()))
RULE_BLOCKS = [b for b in BLOCKS if b.startswith("rules:")]
SHIPPED = sorted((DOC.parents[1] / "rules" / "builtin").glob("*.yaml"))


@pytest.mark.parametrize(
    "text",
    [p.read_text() for p in SHIPPED] + [b for b in BLOCKS if b.startswith("rules:")],
    ids=[p.name for p in SHIPPED]
    + [b.split("id: ")[1].split("\n")[0] for b in BLOCKS if b.startswith("rules:")],
)
def test_shipped_rules_and_every_example_validate_against_the_published_json_schema(text: str) -> None:
    document = yaml.load(text, Loader=_EditorLoader)
    assert [f"{list(e.absolute_path)}: {e.message}" for e in SCHEMA.iter_errors(document)] == []
