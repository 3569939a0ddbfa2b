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
    assert reviews == ["2026-12-04 16:00 CET", "2026-12-11 16:00 CET"]
    # A goal review p001 holds with a report in New York is due on Saturday 5 December at 10:00
    # there: placement brings it to Friday, the nearest working day of both, after p001's
    # self-review (16:00-16:15 CET), and says so.
    [review] = [m["meeting"] for m in messages if m["local_time"] == "2026-12-04 16:15 CET"]
    assert review["intended"] == "2026-12-05T10:00:00-05:00"
    assert review["moved"] == ["day off: p007", "day off: p001"]
    assert all(m["meeting"]["attendees"] == ["p001"] for m in messages if m["rule"] == "weekly-self-review")


def test_against_other_rules_shows_what_moves_and_what_is_added() -> None:
    messages = _plan("--days", "7", "--person", "p001", "--against", str(CHANGED))["messages"]
    changes = sorted((m["change"], m["rule"], m["local_time"]) for m in messages)
    # The folder given is the proposed change: it moves the self-review to Thursdays and drops
    # the digest. With Friday's self-review gone, the goal review placed after it on Friday
    # (16:15 CET) takes the time nearest its own: 16:00 CET, 10:00 in New York.
    assert changes == [
        ("moved", "deadline-review-meeting", "2026-12-04 16:00 CET"),
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
    assert "deadline-review-meeting: 1 moved\nweekly-digest: 1 removed\nweekly-self-review: 2 moved\n" in text


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
