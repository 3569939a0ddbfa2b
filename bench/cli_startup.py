"""How long `strides --help` takes to answer, against starting Python itself.

    .venv/bin/python bench/cli_startup.py [--runs 30] [--out results.json]

Each command runs as a new process, as a user at a terminal runs it (output to /dev/null):

- floor: `python -c pass` with the same interpreter and virtualenv (site-packages, the editable
  install's path hooks): what any Python command pays before it does anything;
- import: `python -c "import strides.cli"`: the Typer application and every command's registration;
- `strides --help` and `strides rules --help` through the installed console script (a sub-command's
  help first runs the global options' callback, whose values Typer coerces with pydantic);
- with `--stores DIR`: `strides status`, `strides outbox` and `strides plan` of one day, on the store
  of the sample organisation's first tick (made in DIR first); with `--peer STRIDES` as well, the
  same commands of another version (an earlier commit's virtualenv) on a store of its own, and each
  command's time as a ratio of the peer's.

One warm-up run of each first (not counted: it fills the page cache), then the rounds interleaved
(floor, import, help, rules help; the next round in reverse order) so all see the same load. Reported:
the median and best of each, the median as a ratio of the floor's, and what the help costs above the
floor. The target is `strides --help` under 0.5 s on a warm machine (its median here); a busy machine
shows in the load average printed first. tests/test_cli_startup.py checks what the CLI imports (never
how long it takes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import percentile  # noqa: E402

STRIDES = str(Path(sys.executable).with_name("strides"))
COMMANDS = {
    "floor": [sys.executable, "-c", "pass"],
    "import": [sys.executable, "-c", "import strides.cli"],
    "help": [STRIDES, "--help"],
    "rules help": [STRIDES, "rules", "--help"],
}
TARGET = 0.5


def once(command: list[str]) -> float:
    """Seconds from starting the process to its exit (it must succeed)."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def store_commands(strides: str, state: Path, label: str = "") -> dict[str, list[str]]:
    """The commands that read a store, on the sample organisation's first tick in `state` (made
    here by `strides run` when it holds no store yet)."""
    where = ["--state-dir", str(state)]
    if not (state / "strides.db").exists():
        first_tick = [strides, *where, "run", "--now", "2026-12-01T12:00:00Z"]
        subprocess.run(first_tick, capture_output=True, check=True)
        subprocess.run([strides, *where, "server", "stop"], capture_output=True, check=True)
    return {
        f"{label}status": [strides, *where, "status"],
        f"{label}outbox": [strides, *where, "outbox"],
        f"{label}plan 1 day": [strides, *where, "plan", "--from", "2026-12-01", "--days", "1"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each command")
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    parser.add_argument(
        "--stores",
        type=Path,
        help="also time status, outbox and a day's plan, on a store made in this folder",
    )
    parser.add_argument(
        "--peer",
        type=Path,
        help="another version's strides (say, an earlier commit's .venv/bin/strides) to time beside this one",
    )
    args = parser.parse_args()
    if not Path(STRIDES).exists():
        sys.exit(f"no {STRIDES}: run `make install` first")
    if args.stores:
        COMMANDS.update(store_commands(STRIDES, args.stores / "this"))
        if args.peer:
            COMMANDS["peer help"] = [str(args.peer), "--help"]
            COMMANDS.update(store_commands(str(args.peer), args.stores / "peer", "peer "))
    for command in COMMANDS.values():
        once(command)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for round_ in range(args.runs):
        order = list(COMMANDS) if round_ % 2 == 0 else list(reversed(COMMANDS))
        for name in order:
            times[name].append(once(COMMANDS[name]))
    print(f"load average (1, 5, 15 min): {os.getloadavg()}; {args.runs} runs each")
    floor = statistics.median(times["floor"])
    results: dict[str, dict[str, float]] = {}
    for name, values in times.items():
        median = statistics.median(values)
        results[name] = {
            "median_s": median,
            "best_s": min(values),
            "p90_s": percentile(values, 0.9),
            "ratio_to_floor": median / floor,
            "above_floor_s": median - floor,
        }
        print(
            f"{name + ':':12} median {median * 1000:6.1f} ms, best {min(values) * 1000:6.1f} ms, "
            f"p90 {percentile(values, 0.9) * 1000:6.1f} ms; {median / floor:5.2f}x the floor "
            f"({(median - floor) * 1000:+.1f} ms)"
        )
    help_ = results["help"]
    verdict = "under" if help_["median_s"] < TARGET else "NOT under"
    print(
        f"strides --help: median {help_['median_s'] * 1000:.0f} ms (p90 {help_['p90_s'] * 1000:.0f} ms), "
        f"{verdict} the {TARGET * 1000:.0f} ms target"
    )
    for name in [n for n in results if f"peer {n}" in results]:
        ratio = results[name]["median_s"] / results[f"peer {name}"]["median_s"]
        print(f"{name}: {ratio:.2f} of the peer's time")
    if args.out:
        args.out.write_text(json.dumps({"runs": args.runs, "target_s": TARGET, **results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
