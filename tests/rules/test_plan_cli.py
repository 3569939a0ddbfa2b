"""`strides plan`: a dry run of the rules over a horizon, as a table, JSON or .ics, or as a diff."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from icalendar import Calendar
from typer.testing import CliRunner

from strides.cli import app

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "examples" / "org"
CHANGED = ROOT / "tests" / "fixtures" / "rules-changed"
runner = CliRunner()


def _plan(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["plan", "--org", str(ORG), "--from", "2026-12-01", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_lists_every_message_of_the_horizon_for_one_person() -> None:
    messages = _plan("--days", "7", "--person", "p001")["messages"]
    assert {m["recipient"] for m in messages} == {"p001"}
    reviews = [m["local_time"] for m in messages if m["rule"] == "weekly-self-review"]
    # On 4 December p001 has a goal review with a report in New York at 16:00 (10:00 there,
    # placed first: the same moment, and rules in order of id), so the self-review is at 15:45.
    assert reviews == ["2026-12-04 15:45 CET", "2026-12-11 16:00 CET"]
    [moved] = [m["meeting"] for m in messages if m["local_time"] == "2026-12-04 15:45 CET"]
    assert moved["intended"] == "2026-12-04T16:00:00+01:00" and moved["moved"] == ["busy: p001"]
    assert all(m["meeting"]["attendees"] == ["p001"] for m in messages if m["rule"] == "weekly-self-review")


def test_against_other_rules_shows_what_moves_and_what_is_added() -> None:
    messages = _plan("--days", "7", "--person", "p001", "--against", str(CHANGED))["messages"]
    changes = sorted((m["change"], m["rule"], m["local_time"]) for m in messages)
    # The folder given is the proposed change: it moves the self-review to Thursdays and drops
    # the digest.
    assert changes == [
        ("moved", "weekly-self-review", "2026-12-03 16:00 CET"),
        ("moved", "weekly-self-review", "2026-12-10 16:00 CET"),
        ("removed", "weekly-digest", "2026-12-07 08:00 CET"),
    ]
    text = runner.invoke(
        app,
        [
            "plan",
            "--org",
            str(ORG),
            "--from",
            "2026-12-01",
            "--days",
            "7",
            "--person",
            "p001",
            "--against",
            str(CHANGED),
        ],
    ).stdout
    assert "weekly-digest: 1 removed\nweekly-self-review: 2 moved\n" in text


def test_ics_holds_one_event_per_planned_meeting(tmp_path: Path) -> None:
    target = tmp_path / "plan.ics"
    payload = _plan("--days", "7", "--ics", str(target))
    meetings = {m["meeting"]["uid"] for m in payload["messages"] if "meeting" in m}
    calendar = Calendar.from_ical(target.read_bytes())
    events = calendar.walk("VEVENT")
    assert {str(e["UID"]) for e in events} == meetings
    assert all(e.get("DTSTART").dt.tzinfo is not None for e in events)


def test_broken_rules_are_reported_not_planned(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("rules:\n  - id: x\n    trigger: {every: FREQ=WEEKLY;BYSETPOS=1}\n")
    result = runner.invoke(app, ["plan", "--org", str(ORG), "--from", "2026-12-01", "--rules", str(tmp_path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_the_plan_lists_messages_in_time_order() -> None:
    messages = _plan("--days", "14")["messages"]
    assert len({m["rule"] for m in messages}) > 1
    moments = [m["occurrence"] for m in messages]
    assert moments == sorted(moments, key=datetime.fromisoformat)
