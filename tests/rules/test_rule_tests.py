"""Every rule test file under tests/rules (the `strides rules test` format) runs under pytest too."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from strides.cli import app
from strides.cli.rules import rule_test_files, run_rule_tests

HERE = Path(__file__).resolve().parent
FILES = rule_test_files(HERE)
runner = CliRunner()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(HERE)))
def test_rule_test_file_passes(path: Path) -> None:
    lines, ok = run_rule_tests([path])
    assert ok, "\n".join(lines)


def test_every_builtin_rule_has_tests() -> None:
    from strides.integrations.rule_files import load_rules

    tested = "\n".join(p.read_text() for p in (HERE / "pack").glob("*.yaml"))
    untested = [r.id for r in load_rules().rules if f"rule: {r.id}" not in tested]
    assert untested == []


FAILING = """
rule_files: [builtin]
org:
  people:
    - {id: ada, name: Ada, email: ada@example.com, timezone: Europe/Berlin, country: DE}
tests:
  - name: wrong time
    from: 2026-12-03T00:00:00Z
    until: 2026-12-05T00:00:00Z
    only: [weekly-self-review]
    expect:
      - {rule: weekly-self-review, to: ada, at: "2026-12-04 15:00"}
"""


def test_a_failing_test_shows_a_readable_diff_and_exits_non_zero(tmp_path: Path) -> None:
    path = tmp_path / "failing.yaml"
    path.write_text(FAILING)
    result = runner.invoke(app, ["rules", "test", str(path)])
    assert result.exit_code == 1
    assert "FAIL" in result.stdout
    assert "  - expected, not produced: weekly-self-review invite to ada at 2026-12-04 15:00" in result.stdout
    assert "  + produced, not expected: weekly-self-review invite to ada at 2026-12-04 16:00" in result.stdout
