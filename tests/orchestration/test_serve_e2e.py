"""End to end: `strides serve` receives a `milestone.completed` event from `strides emit`, and the
congratulation lands in the outbox, through its listener (the default) and through the served
deployment's event trigger (the fallback); and events emitted while it was down are caught up when
it starts again, without a second message.

Slow (a Prefect server starts in each): the only tests of their kind.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from strides.flows.shutdown import FORCED_EXIT_STATUS
from tests.conftest import FIXTURES, ROOT, SAMPLE_ORG

STRIDES = [str(Path(sys.executable).with_name("strides"))]


def clean_environment(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "STRIDES_"))}
    return {
        **env,
        "STRIDES_STATE_DIR": str(state),
        "STRIDES_ORGANISATION": str(SAMPLE_ORG),
        # The pack's congratulation minus quiet hours: the served flows read the real clock.
        "STRIDES_RULES_DIR": str(FIXTURES / "rules-congratulate"),
    }


def wait_for(condition, what: str, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


def started(log: Path, server: subprocess.Popen[bytes], listening: bool = True) -> str:
    """Wait until `strides serve` listens (unless it triggers) and serves; the API URL it serves against."""

    def ready() -> bool:
        assert server.poll() is None, log.read_text()[-3000:]
        text = log.read_text(errors="replace")
        return ("strides: listening for" in text or not listening) and "being served" in text

    wait_for(ready, "the listener and the deployments", 180)
    return re.search(r"against (http://\S+/api)", log.read_text()).group(1)  # type: ignore[union-attr]


def just_now() -> datetime:
    """A moment just past: the served flows plan at the real clock, and a completion "in the
    future" would not count as done yet."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)


def emit(env: dict[str, str], api_url: str, goal: str, milestone: str, completed_at: datetime) -> None:
    command = [
        *STRIDES,
        "emit",
        "milestone.completed",
        f"--goal={goal}",
        f"--set=milestone={milestone}",
        f"--set=completed_at={completed_at.isoformat()}",
        f"--api-url={api_url}",
    ]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)


def congratulations(outbox: Path, person: str = "*") -> list[Path]:
    return sorted(outbox.glob(f"*milestone-congratulation-{person}-*.eml"))


def stop(server: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM, handled by strides' own handler (not the one Prefect's runner installs), and the
    process ends: gracefully, or forced once the grace is over (flows/shutdown.py)."""
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    assert "strides: SIGTERM received" in log.read_text(errors="replace"), log.read_text()[-3000:]
    assert server.returncode in (0, FORCED_EXIT_STATUS), log.read_text()[-3000:]


@pytest.mark.flow
def test_a_served_deployment_congratulates_a_completed_milestone_announced_by_an_event(tmp_path: Path):
    """What `strides serve` does by default: its listener runs the on-event flow in-process, a
    flow run the server records."""
    state = tmp_path / "state"
    env = clean_environment(state)
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*STRIDES, "serve"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        api_url = started(log, server)
        # One event, sent once: the listener is subscribed before it says it listens.
        emit(env, api_url, "g00003", "m000007", just_now())
        outbox = state / "outbox"
        wait_for(lambda: bool(congratulations(outbox, "p002")), "the congratulation", 60)
        assert "Subject: Well done:" in congratulations(outbox, "p002")[0].read_text()

        # A real flow run, recorded by the server, named after the event (the message is written
        # just before the run completes).
        def runs() -> list[tuple[str, str]]:
            query = {"flows": {"name": {"any_": ["on-event"]}}}
            found = httpx.post(f"{api_url}/flow_runs/filter", json=query, timeout=10).json()
            return [(r["name"], r["state_type"]) for r in found]

        expected = [("on milestone.completed goal.g00003", "COMPLETED")]
        wait_for(lambda: runs() != [("on milestone.completed goal.g00003", "RUNNING")], "the run's end", 30)
        assert runs() == expected
    finally:
        stop(server, log)
    # The local server went with it.
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api_url}/health", timeout=2)


@pytest.mark.flow
def test_with_the_trigger_path_the_served_on_event_deployment_is_triggered_by_the_event(tmp_path: Path):
    """The fallback (`STRIDES_EVENT_PATH=trigger`): the deployment's event trigger starts an
    `on-event` run of the served deployment, in a new process, as prefect.yaml declares it."""
    state = tmp_path / "state"
    env = {**clean_environment(state), "STRIDES_EVENT_PATH": "trigger"}
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*STRIDES, "serve"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        api_url = started(log, server, listening=False)
        assert "strides: listening for" not in log.read_text(errors="replace")
        outbox = state / "outbox"
        completed_at = just_now()
        # The server loads new triggers on its own schedule: announce again until one fires. The
        # same completion is the same message, so repeats cannot double it.
        for _ in range(12):
            emit(env, api_url, "g00003", "m000007", completed_at)
            try:
                wait_for(lambda: bool(congratulations(outbox, "p002")), "the congratulation", 10)
                break
            except AssertionError:
                continue
        assert len(congratulations(outbox, "p002")) == 1, log.read_text()[-3000:]

        def runs() -> list[dict[str, object]]:
            query = {"flows": {"name": {"any_": ["on-event"]}}}
            return httpx.post(f"{api_url}/flow_runs/filter", json=query, timeout=10).json()

        # The message is written before its run finishes: wait for the run to complete.
        wait_for(lambda: any(r["state_type"] == "COMPLETED" for r in runs()), "a completed run", 60)
        # Runs of the served deployment, started by its trigger (not in this process).
        assert all(r["deployment_id"] for r in runs())
    finally:
        stop(server, log)


@pytest.mark.flow
def test_events_sent_while_strides_serve_was_down_are_handled_when_it_starts_again(tmp_path: Path):
    """The Prefect server stays up (as in production) while `strides serve` restarts: an event
    emitted in between is caught up from Prefect's stored events, and one announced again (the
    HR system retrying) is not a second message."""
    from strides.config import Settings
    from strides.flows.serve import local_server

    state = tmp_path / "state"
    env = clean_environment(state)
    outbox = state / "outbox"
    with local_server(Settings(state_dir=tmp_path / "prefect-server")) as api_url:
        logs = [tmp_path / "serve-1.log", tmp_path / "serve-2.log"]

        def serve(log: Path) -> subprocess.Popen[bytes]:
            with log.open("wb") as output:
                return subprocess.Popen(
                    [*STRIDES, "serve", f"--api-url={api_url}"],
                    cwd=ROOT,
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )

        first = just_now()
        server = serve(logs[0])
        try:
            started(logs[0], server)
            emit(env, api_url, "g00003", "m000007", first)
            wait_for(lambda: bool(congratulations(outbox, "p002")), "the first congratulation", 60)
        finally:
            stop(server, logs[0])
        # While nothing listens: a new completion, and the first one announced again.
        emit(env, api_url, "g00004", "m000013", just_now())
        emit(env, api_url, "g00003", "m000007", first)
        assert not congratulations(outbox, "p003")
        server = serve(logs[1])
        try:
            started(logs[1], server)

            def both_handled() -> bool:
                return logs[1].read_text().count("strides listen: handled strides.milestone.completed") == 2

            # By the catch-up when it starts, or (an event the server had not stored yet) by the
            # sweep 10 s later.
            wait_for(both_handled, "both events handled", 60)
            # Both from Prefect's stored events, not from the stream (they came before it opened).
            caught = re.findall(r"caught up (\d+) event", logs[1].read_text())
            assert sum(map(int, caught)) == 2, logs[1].read_text()[-3000:]
            assert congratulations(outbox, "p003")
        finally:
            stop(server, logs[1])
    assert [p.name.split("-congratulation-")[1][:4] for p in congratulations(outbox)] == ["p002", "p003"]
