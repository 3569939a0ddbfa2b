"""Skips are recorded once, with their cause, and listed by `strides skips` and `strides status`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from strides import engine
from strides.cli import app
from strides.integrations.org_files import load_organisation
from strides.integrations.rule_files import load_rules
from strides.rules import Window
from strides.rules.intents import Skip
from strides.store import Store, skips, snapshot

from ..conftest import FIXTURES, at

RULES = FIXTURES / "rules-skips"
WINDOW = Window(at("2026-12-07 00:00"), at("2026-12-12 00:00"))


def _load(store: Store) -> None:
    loaded = load_organisation(FIXTURES / "org-small")
    with store.session() as session:
        snapshot.save_organisation(session, loaded.organisation)


def test_each_skip_is_recorded_once_with_its_cause_and_owner(any_store: Store) -> None:
    _load(any_store)
    rules = load_rules(RULES)
    first = engine.plan_window(any_store, rules, WINDOW, WINDOW.end)
    # Planning the same window again (a retried tick) finds the same skips and records none.
    again = engine.plan_window(any_store, rules, WINDOW, WINDOW.end)
    assert (first.new_skips, again.new_skips) == (len(first.skips), 0) == (5, 0)
    with any_store.session() as session:
        rows = skips.skips(session)
    assert [(r.rule_id, r.subject, r.person, r.cause) for r in rows] == [
        ("long-ago", "goal:g-ben", "ben", "late"),
        ("to-the-skip-level", "goal:g-ben", "ben", "missing"),
        ("hired-long-ago", "person:cara", "cara", "condition"),
        ("hired-long-ago", "person:ana", "ana", "condition"),
        ("hired-long-ago", "person:ben", "ben", "condition"),
    ]
    assert rows[0].reason == "ben: later than max_lateness, skipped"
    assert rows[0].occurrence == at("2026-12-08 14:00")  # 09:00 in New York
    with any_store.session() as session:
        assert [r.rule_id for r in skips.skips(session, person="ben", since=at("2026-12-09 00:00"))] == [
            "to-the-skip-level",
            "hired-long-ago",
        ]
        assert [r.subject for r in skips.skips(session, rule="hired-long-ago", limit=1)] == ["person:ben"]


@pytest.mark.parametrize(
    ("reason", "cause"),
    [
        ("ben has no mentor", "missing"),
        ("ben: later than max_lateness, skipped", "late"),
        ("inhibited by overdue-milestone-ladder", "inhibited"),
        ("no overlap of working hours (ben, cara)", "no-overlap"),
        ("ana: empty digest", "empty-digest"),
        ("condition failed: KeyError: x", "condition"),
        ("condition gave int, not a boolean", "condition"),
    ],
)
def test_every_reason_the_planner_gives_has_a_cause(reason: str, cause: str) -> None:
    assert Skip("r", "goal:g", at("2026-12-01 00:00"), reason).cause == cause


def test_strides_skips_lists_and_filters_and_status_counts_them(store: Store, tmp_path: Path) -> None:
    _load(store)
    engine.plan_window(store, load_rules(RULES), WINDOW, WINDOW.end)
    engine.record_tick(store, WINDOW.end, WINDOW, 2, engine.DeliveryOutcome())
    runner = CliRunner()
    state = str(Path(store.url.split("///", 1)[1]).parent)

    def invoke(*args: str) -> str:
        result = runner.invoke(app, ["--state-dir", state, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    listed = json.loads(invoke("skips", "--json", "--person", "ben", "--cause", "missing"))
    assert [(r["rule"], r["reason"]) for r in listed] == [("to-the-skip-level", "ben has no skip-level")]
    since = (WINDOW.start + timedelta(days=3)).isoformat()
    assert {r["rule"] for r in json.loads(invoke("skips", "--json", "--since", since))} == {"hired-long-ago"}
    table = invoke("skips", "--rule", "long-ago")
    assert "long-ago" in table and "hired-long-ago" not in table
    status = json.loads(invoke("status", "--json"))
    assert status["skips"] == {"condition": 3, "late": 1, "missing": 1}
    assert status["last_tick"]["planned"] == 2
    assert "Skips: condition 3, late 1, missing 1" in invoke("status")
