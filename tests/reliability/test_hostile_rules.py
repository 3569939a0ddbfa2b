"""Rules that could not be planned in bounded time are refused by the checker with their location,
never a traceback: cadences more often than daily, intervals out of range, durations past ten years,
conditions over the cost budget, more rules than a tick can plan."""

from __future__ import annotations

import pytest

from strides.domain.check import check_files


@pytest.mark.parametrize(
    ("every", "said"),
    [
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL is a whole number from 1 to 1000"),
        ("FREQ=DAILY;INTERVAL=-2", "INTERVAL is a whole number from 1 to 1000"),
        ("FREQ=SECONDLY", "a cadence is at most daily"),
        ("FREQ=MINUTELY;COUNT=100000000", "a cadence is at most daily"),
        ("FREQ=WEEKLY;BYHOUR=9", "BYHOUR has no place in a daily cadence"),
    ],
)
def test_a_cadence_that_could_not_be_planned_in_bounded_time_is_refused(every: str, said: str) -> None:
    text = f'rules:\n  - id: r\n    trigger: {{every: "{every}"}}\n    action: {{kind: email, title: x}}\n'
    _, errors = check_files([("r.yaml", text)])
    assert len(errors) == 1 and said in errors[0].message


@pytest.mark.parametrize("duration", ["5000000d", "99999999999999w", "1000000000d"])
def test_a_duration_past_ten_years_is_refused_without_a_traceback(duration: str) -> None:
    text = (
        "rules:\n  - id: r\n"
        f"    trigger: {{anchor: goal.deadline, offsets: [-1d], max_lateness: {duration}}}\n"
        f"    action: {{kind: invite, title: x, lead: {duration}}}\n"
    )
    _, errors = check_files([("r.yaml", text)])
    assert [e.message for e in errors] == [
        f"trigger.max_lateness: bad duration '{duration}': at most 3660 days",
        f"action.lead: bad duration '{duration}': at most 3660 days",
    ]


NESTED = "[1, 2, 3].map(a, [1, 2, 3].map(b, [1, 2, 3].map(c, person.mentors.map(d, d)))).size() > 0"


@pytest.mark.parametrize(
    ("when", "refused"),
    [
        ('person.mentors.exists(m, m == "p001")', False),
        ("person.mentors.exists(m, person.mentors.exists(n, m != n))", False),
        (NESTED, True),
        ("[" + ", ".join(["1"] * 1500) + "].exists(x, [1, 2].exists(y, x == y))", True),
    ],
    ids=["one-macro", "two-nested", "four-nested", "a-long-literal-list"],
)
def test_a_condition_over_the_cost_budget_is_refused_where_it_is_written(when: str, refused: bool) -> None:
    text = (
        f"rules:\n  - id: r\n    trigger: {{every: FREQ=WEEKLY}}\n    when: '{when}'\n"
        "    action: {kind: email, title: x}\n"
    )
    _, errors = check_files([("r.yaml", text)])
    if not refused:
        assert errors == []
        return
    assert len(errors) == 1
    assert str(errors[0]).startswith("r.yaml:4:")
    assert "condition too costly" in errors[0].message and "over the budget of 1,000,000" in errors[0].message


def test_more_rules_than_a_tick_can_plan_is_one_located_problem() -> None:
    from strides.domain.check import MAX_RULES

    rule = '  - id: r{n}\n    trigger: {{every: "FREQ=WEEKLY"}}\n    action: {{kind: email, title: "R{n}"}}\n'
    text = "rules:\n" + "".join(rule.format(n=n) for n in range(MAX_RULES + 1))
    ruleset, errors = check_files([("many.yaml", text)])
    assert ruleset is None
    where = f"many.yaml:{2 + 3 * MAX_RULES}:5: rule r{MAX_RULES}"
    said = "more than 1,000 rules (1,001): every tick plans every rule"
    assert [str(e) for e in errors] == [f"{where}: {said}"]


HOSTILE = {
    "interval-zero.yaml": 'rules:\n  - id: r\n    trigger: {every: "FREQ=DAILY;INTERVAL=0"}\n'
    "    action: {kind: email, title: x}\n",
    "secondly.yaml": 'rules:\n  - id: r\n    trigger: {every: "FREQ=SECONDLY"}\n'
    "    action: {kind: email, title: x}\n",
    "lateness.yaml": "rules:\n  - id: r\n    trigger: {anchor: goal.deadline, offsets: [-1d], "
    "max_lateness: 99999999999999w}\n    action: {kind: invite, title: x, lead: 1000000000d}\n",
    "deep.yaml": "rules:\n  - id: r\n    trigger: " + "[" * 5000 + "]" * 5000 + "\n",
    "costly.yaml": f"rules:\n  - id: r\n    trigger: {{every: FREQ=WEEKLY}}\n    when: '{NESTED}'\n"
    "    action: {kind: email, title: x}\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_strides_rules_check_refuses_each_hostile_file_with_a_location_and_no_traceback(
    name: str, tmp_path
) -> None:
    from typer.testing import CliRunner

    from strides.cli import app

    (tmp_path / name).write_text(HOSTILE[name], encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{name}:" in result.output.replace(str(tmp_path) + "/", "")
