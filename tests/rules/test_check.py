"""`strides rules check`: every problem in one run, located, with a hint, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from strides.cli import app
from strides.domain.check import check_files, check_warnings
from strides.domain.schema import EventKind, json_schema

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "fixtures" / "rules-bad"
runner = CliRunner()


def _problems(name: str) -> list[str]:
    path = BAD / name
    _, errors = check_files([(path.name, path.read_text())])
    return [str(e) for e in errors]


def test_the_committed_json_schema_is_what_strides_rules_schema_prints() -> None:
    committed = json.loads((ROOT / "docs" / "rules.schema.json").read_text())
    assert committed == json.loads(json.dumps(json_schema())), (
        "run: strides rules schema -o docs/rules.schema.json"
    )


def test_rules_schema_prints_json_schema() -> None:
    result = runner.invoke(app, ["rules", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "strides rule file"


def test_every_problem_of_a_file_is_reported_in_one_run_with_its_location() -> None:
    assert _problems("many-problems.yaml") == [
        "many-problems.yaml:4:7: rule one: trigger.every: an RRULE may not have both COUNT and UNTIL"
        " (RFC 5545 3.3.10)",
        "many-problems.yaml:6:37: rule one: action.to: unknown recipient 'ownr'",
        "many-problems.yaml:8:11: rule two: when: unknown field 'goal.stauts' in condition",
        "many-problems.yaml:8:38: rule two: when: unknown field 'person.level' in condition",
        "many-problems.yaml:9:38: rule two: trigger.offsets: bad duration '-3x'",
        "many-problems.yaml:10:37: rule two: unknown key 'colour'",
        "many-problems.yaml:12:24: rule three: when: CEL syntax error at 1:14: Syntax error: mismatched input"
        " '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT,"
        " NUM_UINT, STRING, BYTES, IDENTIFIER}",
        "many-problems.yaml:13:15: rule three: trigger.every: BYSETPOS needs another BYxxx part to select"
        " from (RFC 5545 3.3.10)",
        "many-problems.yaml:14:38: rule three: action.duration: bad duration 10: write a unit, for example"
        " 10d or 10m",
        "many-problems.yaml:16:5: rule four: trigger: escalation ladder loops: step 3 goes back to the"
        " recipients of step 1 (owner)",
        "many-problems.yaml:18:16: rule four: calendar.country: unknown country code 'XX' (ISO 3166-1"
        " alpha-2, for example 'DE')",
        "many-problems.yaml:20:35: rule five: trigger.timezone: unknown IANA timezone 'Mars/Base' (for"
        " example 'Europe/Berlin')",
        "many-problems.yaml:23:5: rule six: trigger: a trigger needs one of: anchor (with offsets), every,"
        " event, escalate",
    ]


def test_a_misspelt_field_gets_a_did_you_mean_hint() -> None:
    path = BAD / "many-problems.yaml"
    _, errors = check_files([(path.name, path.read_text())])
    hints = {e.message: e.hint for e in errors}
    assert hints["when: unknown field 'goal.stauts' in condition"] == "did you mean 'status'?"
    assert hints["action.to: unknown recipient 'ownr'"].startswith("did you mean 'owner'?")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            # The unclosed brace of line 3 is where the mistake is, not line 4 where YAML noticed it.
            "syntax.yaml",
            [
                "syntax.yaml:3:14: YAML syntax error: expected ',' or '}', but got ':' (line 4, column 11)"
                " while parsing a flow mapping that starts here"
            ],
        ),
        ("duplicate-key.yaml", ["duplicate-key.yaml:5:5: duplicate key 'action' (first defined on line 4)"]),
        (
            "organiser.yaml",
            [
                "organiser.yaml:4:37: rule notice-with-organiser: action.organiser: only invites have an"
                " organiser (this action is kind: email)",
                "organiser.yaml:7:59: rule misspelt-organiser: action.organiser: unknown recipient 'mentr'",
                "organiser.yaml:10:38: rule two-organisers: unknown key 'organizer'",
            ],
        ),
        (
            "inhibits.yaml",
            [
                "inhibits.yaml:2:5: rule ladder-a: inhibitions loop: ladder-a -> ladder-b -> ladder-a",
                "inhibits.yaml:7:5: rule ladder-a: inhibits unknown rule 'deadline-remindr'",
            ],
        ),
    ],
)
def test_syntax_duplicates_and_cross_rule_problems_are_located(name: str, expected: list[str]) -> None:
    assert _problems(name) == expected


def test_check_exits_non_zero_and_prints_file_line_col_without_a_traceback() -> None:
    result = runner.invoke(app, ["rules", "check", str(BAD)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (
        f"{BAD / 'inhibits.yaml'}:7:5: rule ladder-a: inhibits unknown rule 'deadline-remindr'"
        in result.stdout
    )
    assert "    hint: did you mean 'deadline-reminder'?" in result.stdout


def test_check_passes_the_builtin_pack() -> None:
    result = runner.invoke(app, ["rules", "check", str(ROOT / "rules" / "builtin"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["problems"] == []


def test_a_rule_that_is_not_a_mapping_and_a_misspelt_freq_are_explained() -> None:
    problems = _problems("not-a-mapping.yaml")
    assert problems[0] == (
        "not-a-mapping.yaml:1:1: rule 1 of the file is not a mapping (a rule has id, trigger and action)"
    )
    assert (
        "not-a-mapping.yaml:8:15: rule x: trigger.every: bad RRULE 'FREQ=MONTHY': unknown FREQ=MONTHY"
        in problems
    )


def test_a_file_that_is_not_text_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    result = runner.invoke(app, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert "bin.yaml:1:1: cannot read: not UTF-8 text" in result.stdout
    assert "Traceback" not in result.output


def test_problems_inside_multi_line_conditions_point_at_their_own_line_and_column() -> None:
    # Block scalars (| and >), a folded plain scalar and a quoted one: CEL's line:col inside the
    # expression is mapped back to the file (the block's first line + indentation).
    path = BAD / "multiline-conditions.yaml"
    _, errors = check_files([(path.name, path.read_text())])
    assert [(str(e.location), e.rule_id, e.message.split(": Syntax")[0]) for e in errors] == [
        (
            "multiline-conditions.yaml:5:12",
            "literal-block",
            "when: unknown field 'goal.metric.progres' in condition",
        ),
        ("multiline-conditions.yaml:12:20", "folded-block", "when: CEL syntax error at 1:67"),
        (
            "multiline-conditions.yaml:19:10",
            "literal-syntax",
            "when: unknown field 'person.level' in condition",
        ),
        ("multiline-conditions.yaml:19:27", "literal-syntax", "when: CEL syntax error at 3:21"),
        ("multiline-conditions.yaml:24:10", "plain-multiline", "when: unknown variable 'mentr' in condition"),
        (
            "multiline-conditions.yaml:29:10",
            "quoted-multiline",
            "when: unknown field 'person.timezon' in condition",
        ),
    ]


def test_one_pass_finds_what_a_newcomer_would_otherwise_find_in_three() -> None:
    # Template fields, a second unknown field in one condition, an unknown inhibited rule in a
    # file whose other rules fail the schema, and a duplicate id, located at the later definition.
    path = BAD / "first-pass.yaml"
    _, errors = check_files([(path.name, path.read_text())])
    assert [(str(e.location), e.message, e.hint) for e in errors] == [
        (
            "first-pass.yaml:7:11",
            "when: unknown field 'person.contry' in condition",
            "did you mean 'country'?",
        ),
        ("first-pass.yaml:7:36", "when: unknown field 'goal.titel' in condition", "did you mean 'title'?"),
        ("first-pass.yaml:11:22", "unknown field 'milestone.titel' in title", "did you mean 'title'?"),
        ("first-pass.yaml:12:20", "unknown field 'owner.nam' in body", "did you mean 'name'?"),
        ("first-pass.yaml:14:5", "an escalation names recipients per step; remove action.to", None),
        (
            "first-pass.yaml:22:5",
            "inhibits unknown rule 'no-such-rule'",
            "known rules: finish-reminder, overdue-ladder",
        ),
        ("first-pass.yaml:28:5", "duplicate rule id (first defined at first-pass.yaml:2:5)", None),
        (
            "first-pass.yaml:33:11",
            "when: unknown field 'person.colour' in condition",
            "person has: country, declined, digest, email, hired_on, id, locale, manager, mentors, name,"
            " reports, subdivision, timezone, working_hours",
        ),
    ]


def test_template_placeholders_are_checked_against_what_a_message_can_show() -> None:
    text = (
        "rules:\n"
        "  - id: r\n"
        "    trigger: {anchor: goal.deadline, offsets: [-3d]}\n"
        '    action: {kind: email, title: "{goal.title} {goal.why} {days_left} {mentor.email}",'
        ' body: "{goal.progress} {colleague.name} {goal.model_dump} {owner.tz} {owner.model_config}"}\n'
    )
    _, errors = check_files([("t.yaml", text)])
    assert [e.message for e in errors] == [
        "unknown field 'goal.progress' in body",
        "unknown name '{colleague.name}' in body",
        "unknown field 'goal.model_dump' in body",
        "unknown field 'owner.tz' in body",
        "unknown field 'owner.model_config' in body",
    ]


def test_no_rule_reads_or_prints_a_persons_calendar_address() -> None:
    text = (
        "rules:\n"
        "  - id: r\n"
        "    trigger: {anchor: goal.deadline, offsets: [-3d]}\n"
        "    when: person.calendar != null\n"
        '    action: {kind: email, title: "{owner.calendar}", body: "{mentor.calendar.ics}"}\n'
    )
    _, errors = check_files([("t.yaml", text)])
    assert [e.message for e in errors] == [
        "when: unknown field 'person.calendar' in condition",
        "unknown field 'owner.calendar' in title",
        "unknown field 'mentor.calendar' in body",
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('rules:\n  - id: a\n    title: "abc\n  - id: b\n', "f.yaml:3:12"),  # unclosed quote
        ("rules:\n  - {id: a, title: x\n  - id: b\n", "f.yaml:2:5"),  # unclosed brace
        ("rules:\n  - id: a\n    title: Review: weekly\n", "f.yaml:3:18"),  # a colon in a plain value
    ],
    ids=["quote", "brace", "colon"],
)
def test_a_yaml_syntax_error_is_located_on_the_line_where_it_was_made(text: str, where: str) -> None:
    _, errors = check_files([("f.yaml", text)])
    assert [str(e.location) for e in errors] == [where]


def test_an_earlier_event_spelling_still_works_and_the_checker_warns_where_it_is() -> None:
    text = (
        "rules:\n"
        "  - id: moved\n"
        "    trigger: {event: goal.deadline_moved}\n"
        "    action: {kind: email, to: [manager], title: Moved}\n"
    )
    ruleset, errors = check_files([("old.yaml", text)])
    assert errors == [] and ruleset is not None
    assert ruleset.rules[0].trigger.event is EventKind.GOAL_DEADLINE_MOVED  # type: ignore[union-attr]
    (warning,) = check_warnings([("old.yaml", text)])
    assert (
        str(warning)
        == "old.yaml:3:22: rule moved: event 'goal.deadline_moved' is now called 'goal.deadline-moved'"
    )


def test_a_rule_title_with_a_line_break_is_refused_at_check_not_at_delivery() -> None:
    text = (
        'rules:\n  - id: r\n    trigger: {every: "FREQ=WEEKLY"}\n'
        '    action: {kind: email, title: "a\\r\\nBcc: x"}\n'
    )
    _, errors = check_files([("r.yaml", text)])
    assert [e.message for e in errors] == [
        "action: a title is one line of text (no line breaks or control characters), 500 at most"
    ]
