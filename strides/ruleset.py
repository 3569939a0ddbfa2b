"""Reading rule files from disk (the rules package itself never touches files)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from strides.rules import RuleSet, combine, parse_rules

BUILTIN = "builtin"


def builtin_rule_files() -> list[tuple[str, str]]:
    folder = resources.files("strides.rules").joinpath(BUILTIN)
    return sorted(
        (f"builtin/{entry.name}", entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith((".yaml", ".yml"))
    )


def rule_files(folder: Path) -> list[tuple[str, str]]:
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    return [(str(p), p.read_text(encoding="utf-8")) for p in paths]


def load_rules(folder: Path | None = None) -> RuleSet:
    """The rules in `folder`, or the built-in pack; raises RuleSetError listing every problem."""
    files = builtin_rule_files() if folder is None else rule_files(folder)
    return combine((name, parse_rules(text, name)) for name, text in files)
