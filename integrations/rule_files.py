"""Reading rule files from disk (the rules package itself never touches files).

A broken rule set never half-applies: `load_rules_safely` keeps a copy of the last rule files
that checked clean in the state folder and falls back to it, with a warning, when the current
files have problems.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from strides.domain.check import load_checked
from strides.domain.errors import RuleSetError
from strides.domain.parse import RuleSet

BUILTIN = "builtin"
LAST_GOOD = "rules-last-good.json"
log = logging.getLogger(__name__)


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
    return load_checked(files)


@dataclass(frozen=True)
class LoadedRules:
    rules: RuleSet
    # Set when the current files are broken and the last good set is in use instead.
    warning: str | None = None
    problems: tuple[str, ...] = ()


def load_rules_safely(folder: Path | None, state_dir: Path) -> LoadedRules:
    """The current rules if they check clean (remembered as the last good set), else the last good set.

    Raises RuleSetError only when the current files are broken and no good set was ever seen.
    """
    files = builtin_rule_files() if folder is None else rule_files(folder)
    saved = state_dir / LAST_GOOD
    try:
        rules = load_checked(files)
    except RuleSetError as exc:
        if not saved.exists():
            raise
        data = json.loads(saved.read_text(encoding="utf-8"))
        rules = load_checked((f["name"], f["text"]) for f in data["files"])
        problems = tuple(str(e) for e in exc.errors)
        warning = (
            f"the rule files in {folder or 'the built-in pack'} have {len(problems)} problem(s) "
            f"(first: {problems[0]}); keeping the last good rule set ({len(rules)} rules, saved "
            f"{data['saved']}); run `strides rules check` to see them all"
        )
        log.warning(warning)
        return LoadedRules(rules, warning, problems)
    state_dir.mkdir(parents=True, exist_ok=True)
    payload = {"saved": _stamp(saved), "files": [{"name": n, "text": t} for n, t in files]}
    text = json.dumps(payload, indent=1)
    if not saved.exists() or json.loads(saved.read_text(encoding="utf-8"))["files"] != payload["files"]:
        tmp = saved.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(saved)
    return LoadedRules(rules)


def _stamp(path: Path) -> str:
    from datetime import UTC, datetime

    # The moment of saving is bookkeeping for people reading the warning, not planning logic.
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
