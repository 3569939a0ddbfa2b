"""The command line as a newcomer meets it."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from strides.cli import app
from strides.cli.output import EXIT_REJECTED

from .conftest import FIXTURES, ROOT

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("demo", "run", "outbox", "http"):
        assert command in result.output


def test_version_prints_the_version_without_a_command():
    from strides import __version__

    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"strides {__version__}"


def test_outbox_without_a_store_says_what_to_do(tmp_path):
    result = invoke("--state-dir", str(tmp_path), "outbox")
    assert result.exit_code == 1
    assert "run `strides run` or `strides demo` first" in result.output


def test_a_store_from_a_development_version_says_how_to_start_afresh(tmp_path):
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(tmp_path / "strides.db")) as connection, connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('0012')")
    result = invoke("--state-dir", str(tmp_path), "outbox")
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "made by an unreleased development version of strides" in said
    assert "strides.db in the state folder" in said
    assert "Traceback" not in result.output


@pytest.mark.flow
def test_run_reports_bad_records_processes_the_rest_and_never_sends_twice(prefect_harness, tmp_path):
    state = str(tmp_path / "state")
    args = (
        "--state-dir",
        state,
        "run",
        "--org",
        str(FIXTURES / "org-bad"),
        "--now",
        "2026-12-01T00:00:00+00:00",
    )
    first = invoke(*args, "--json")
    assert first.exit_code == EXIT_REJECTED
    assert "org-bad/people.csv:3: person bob: field 'timezone'" in first.output
    report = json.loads(first.stdout[first.stdout.index("{") :])
    assert report["sent"] >= 1 and len(report["rejected"]) == 11

    # Over half of its records rejected again: a broken export is not applied a second time; the
    # tick plans from the last good organisation and the command fails, saying why.
    second = invoke(*args, "--json")
    assert second.exit_code == 1
    assert "the organisation was not updated" in " ".join(second.output.split())
    assert json.loads(second.stdout[second.stdout.index("{") :])["sent"] == 0

    third = invoke(*args, "--accept-mass-change")
    assert third.exit_code == EXIT_REJECTED
    said = " ".join(third.stdout.split())
    assert "sent 0, held back by preferences 0, failed 0, skipped" in said and "(outbox: " in said

    listed = invoke("--state-dir", state, "outbox", "--json")
    rows = json.loads(listed.stdout)
    assert len(rows) == report["sent"]
    loaded = {f"{name}@example.com" for name in ("alice", "dan", "erin", "fay", "gus", "hana")}
    assert {row["email"] for row in rows} <= loaded
    assert all(row["status"] == "sent" and row["file"].endswith(".eml") for row in rows)


@pytest.mark.flow
def test_demo_runs_the_sample_and_prints_a_summary(prefect_harness, tmp_path):
    result = invoke("--state-dir", str(tmp_path), "demo", "--days", "3", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["organisation"]["people"] >= 40
    kinds = {line["kind"] for line in summary["rules"]}
    assert {"invite", "email", "digest"} <= kinds
    assert summary["files"] == sum(line["messages"] for line in summary["rules"])
    assert summary["outbox"].startswith(str(tmp_path))
    assert not (ROOT / "tmp").exists()
    # Every digest and reminder carries one-click unsubscribe, pointing at `strides http --demo`
    # (invites are meetings, not mailings: integrations/compose.py).
    outbox = Path(summary["outbox"]).glob("*.eml")
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox]
    mailings = [m for m in messages if "text/calendar" not in {part.get_content_type() for part in m.walk()}]
    assert mailings
    for message in mailings:
        assert message["List-Unsubscribe"].strip().startswith("<http://127.0.0.1:8765/"), message["Subject"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", message["Subject"]
    _each_message_is_dated_when_a_15_minute_tick_would_send_it(tmp_path / "demo", messages)


def _each_message_is_dated_when_a_15_minute_tick_would_send_it(state: Path, messages: list) -> None:
    """The demo as a deployment ticking every 15 minutes: each message is dated at the first tick
    at or after its send time (its quarter hour, a second after), and each digest at its
    recipient's local digest day and time."""
    import csv
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from strides.store import Store, ledger

    with Store(f"sqlite:///{state / 'strides.db'}").session() as session:
        rows = ledger.messages(session, status=ledger.SENT)
        due = {row.key: row.send_at for row in rows}
        planned = {row.key: row.planned_at for row in rows}
    people = {r["email"]: r for r in csv.DictReader((ROOT / "examples/org/people.csv").open())}
    begin = datetime(2026, 11, 30, tzinfo=UTC)  # the demo's start: earlier send times go out then
    for message in messages:
        key = message["X-Strides-Key"]
        sent, send_at = message["Date"].datetime, due[key]
        late = sent - max(send_at, begin)
        # An invite whose meeting placement moved earlier than its lead allows goes out at once: by
        # the tick that planned it (its send time is that tick's window start, which the demo's
        # ticks, only where something is due, may put more than a quarter hour back).
        at_once = send_at < planned[key] == sent
        assert timedelta(0) < late <= timedelta(minutes=15, seconds=1) or at_once, (
            message["Subject"],
            send_at,
            sent,
        )
        if message["X-Strides-Rule"] == "weekly-digest":
            person = people[message["To"].addresses[0].addr_spec]
            local = sent.astimezone(ZoneInfo(person["timezone"]))
            expected = (person["digest_weekday"], person["digest_at"])
            assert (f"{local:%a}".lower(), f"{local:%H:%M}") == expected


def test_demo_piped_keeps_each_scripted_change_on_one_line(prefect_harness, tmp_path):
    result = invoke("--state-dir", str(tmp_path), "demo", "--days", "6")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    changed = [line for line in lines if "changed 2026-12-05" in line]
    assert len(changed) == 1
    assert changed[0].rstrip().endswith("is updated to Dec 23)")
    assert any(line.startswith("strides demo: ") and line.endswith("/demo)") for line in lines)


def test_org_check_names_every_problem_and_exits_3_without_sending(tmp_path):
    result = invoke("--state-dir", str(tmp_path), "org", "check", str(FIXTURES / "org-hr-export"), "--json")
    assert result.exit_code == EXIT_REJECTED
    report = json.loads(result.stdout)
    assert report["loaded"] == {"people": 5, "goals": 0, "milestones": 0}
    assert [(r["record_id"], r["field"], r["kept"]) for r in report["rejected"]] == [
        ("ada", "manager", True),
        ("ben", "manager", True),
        ("dee", "mentors", True),
    ]
    assert [w["field"] for w in report["warnings"]] == ["department", "work_email"]
    assert not (tmp_path / "outbox").exists()


def test_org_check_of_a_clean_folder_says_ok_and_a_bad_mapping_is_bad_usage(tmp_path):
    clean = invoke("--state-dir", str(tmp_path), "org", "check", str(ROOT / "examples" / "org"))
    assert clean.exit_code == 0 and "48 people, 100 goals, 303 milestones loaded; OK" in clean.stdout
    bad = invoke("org", "check", str(FIXTURES / "org-hr-export"), "--map", "work_email")
    assert bad.exit_code == 2 and "write SOURCE=FIELD" in bad.output


def test_retry_brings_dead_messages_back_and_asks_which(tmp_path, sample_org, builtin_rules):
    from datetime import UTC, datetime, timedelta

    from strides import engine
    from strides.rules import Window
    from strides.store import Store, ledger, snapshot

    store = Store(f"sqlite:///{tmp_path / 'strides.db'}")
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, sample_org)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    engine.plan_window(store, builtin_rules, Window(now - timedelta(days=1), now), now)
    with store.session() as session:
        (row,) = ledger.messages(session, limit=1)
        row.status, row.last_error = ledger.DEAD, "421 gave up after 27 tries"
    assert invoke("--state-dir", str(tmp_path), "retry").exit_code == 2
    result = invoke("--state-dir", str(tmp_path), "retry", "--rule", row.rule_id)
    assert result.exit_code == 0 and result.stdout.startswith("1 dead message(s) due again")
    with store.session() as session:
        assert ledger.messages(session, status=ledger.DEAD) == []
