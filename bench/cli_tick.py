"""How long `strides run` takes when there is nothing to send: the shape a cron job or a user at a
terminal waits on every quarter hour.

    .venv/bin/python bench/cli_tick.py [--runs 5] [--out results.json]

On a scratch state folder with the sample organisation, after one first tick (which starts the
local Prefect server and sends the day's mail), each of these runs as a new process, interleaved
round by round so all see the same load:

- floor: `python -c "import strides.flows.tick"`: Python, Prefect and the tick flow imported,
  what any command that runs a flow pays before it does anything;
- kept: `strides run --now T` again at the first tick's moment (planned 0, sent 0), against the
  local server the first tick started (strides' default);
- peer: the same tick as a flow call in a process with no server to use, so Prefect starts (and
  migrates) a temporary server of its own in a home of its own, as every command did before the
  server was kept.

- with `--version-peer STRIDES`: another version's `strides run --now T` (an earlier commit's
  virtualenv), against a kept server and state folder of its own, after its own first tick.

Reported: the median and best of each, kept ÷ floor, peer ÷ kept, and kept ÷ the other version.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRIDES = str(Path(sys.executable).with_name("strides"))
NOW = "2026-12-01T12:00:00+00:00"
PEER = f"""
from datetime import datetime
from strides.config import Settings
from strides.flows.environment import no_heartbeats, prepare
settings = Settings()
prepare(settings)
from strides.flows.tick import tick
with no_heartbeats():
    tick(now=datetime.fromisoformat("{NOW}"), settings=settings.model_dump(mode="json"))
"""


def once(command: list[str], env: dict[str, str]) -> float:
    """Seconds from starting the process to its exit (it must succeed)."""
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command")
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    parser.add_argument("--version-peer", type=Path, help="another version's strides to time beside this one")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="strides-bench-cli-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "STRIDES_"))}
    env |= {"STRIDES_STATE_DIR": str(scratch / "state"), "STRIDES_ORGANISATION": str(ROOT / "examples/org")}
    commands = {
        "floor": ([sys.executable, "-c", "import strides.flows.tick"], env),
        "kept": ([STRIDES, "run", "--now", NOW], env),
        # A home of its own: the kept server holds the state folder's Prefect database.
        "peer": ([sys.executable, "-c", PEER], {**env, "PREFECT_HOME": str(scratch / "peer-prefect")}),
    }
    other_env = {**env, "STRIDES_STATE_DIR": str(scratch / "other-state")}
    if args.version_peer:
        commands["other version"] = ([str(args.version_peer), "run", "--now", NOW], other_env)
    try:
        first = once([STRIDES, "run", "--now", NOW], env)
        print(f"first tick (starts the server, sends the day's mail): {first:.2f} s")
        if args.version_peer:
            once([str(args.version_peer), "run", "--now", NOW], other_env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for round_ in range(args.runs):
            order = list(commands) if round_ % 2 == 0 else list(reversed(commands))
            for name in order:
                command, command_env = commands[name]
                times[name].append(once(command, command_env))
    finally:
        subprocess.run([STRIDES, "server", "stop"], env=env, stdout=subprocess.DEVNULL, check=False)
        if args.version_peer:
            stop = [str(args.version_peer), "server", "stop"]
            subprocess.run(stop, env=other_env, stdout=subprocess.DEVNULL, check=False)
    print(f"load average (1, 5, 15 min): {os.getloadavg()}; {args.runs} runs each")
    results: dict[str, dict[str, float]] = {}
    for name, values in times.items():
        results[name] = {"median_s": statistics.median(values), "best_s": min(values)}
        print(f"{name + ':':7} median {statistics.median(values):6.2f} s, best {min(values):6.2f} s")
    kept, floor, peer = (results[n]["median_s"] for n in ("kept", "floor", "peer"))
    print(f"kept ÷ floor: {kept / floor:.2f}; peer ÷ kept: {peer / kept:.2f}")
    if "other version" in results:
        ratio = kept / results["other version"]["median_s"]
        print(f"kept ÷ the other version's kept tick: {ratio:.2f}")
        results["kept_to_other_version"] = {"ratio": ratio}
    if args.out:
        payload = {"runs": args.runs, "first_s": first, "load": os.getloadavg(), **results}
        payload |= {"kept_to_floor": kept / floor, "peer_to_kept": peer / kept}
        args.out.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
