"""`strides emit` checks what it is asked to announce before talking to Prefect."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from strides.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_prefect_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


def emit(*args: str):
    return runner.invoke(app, ["emit", *args], catch_exceptions=False)


def test_without_a_prefect_server_it_refuses_rather_than_lose_the_event():
    result = emit("milestone.completed", "--goal", "g00003", "--set", "milestone=m000007")
    assert result.exit_code == 2
    assert "PREFECT_API_URL" in result.output


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["goal.exploded", "--goal", "g1"], "unknown event"),
        (["goal.created"], "exactly one of --goal and --person"),
        (["goal.created", "--goal", "g1", "--person", "p1"], "exactly one of --goal and --person"),
        (["goal.created", "--goal", "g1", "--set", "oops"], "key=value"),
    ],
)
def test_bad_requests_are_usage_errors(args: list[str], why: str):
    result = emit(*args, "--api-url", "http://127.0.0.1:9/api")
    assert result.exit_code == 2
    assert why in result.output


def test_listen_without_a_prefect_server_refuses_too():
    result = runner.invoke(app, ["listen"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "PREFECT_API_URL" in result.output


def test_listen_to_a_server_that_is_not_there_fails_plainly():
    result = runner.invoke(app, ["listen", "--api-url", "http://127.0.0.1:9/api"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "no healthy Prefect server" in result.output


def test_an_earlier_event_spelling_is_accepted_with_a_warning():
    # Past the name check: it then refuses only for want of a Prefect server.
    result = emit("goal.deadline_moved", "--goal", "g1")
    assert "event 'goal.deadline_moved' is now called 'goal.deadline-moved'" in " ".join(
        result.output.split()
    )
    assert "PREFECT_API_URL" in result.output
