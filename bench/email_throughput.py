"""Weekly digests for N people, through the real delivery path, three ways in the same run.

The organisation is stored in a SQLite store and one weekly digest per person is pending in the
ledger (set up once per size, in its own process). Each mode then runs in a fresh process on a copy
of that store and drains the ledger exactly as a tick does (`strides.engine.drain`: claim a chunk,
load only the slice of the organisation it needs, build, send, record each outcome):

- floor:            compose and render each digest (Jinja2, CSS inlined, text); the transport accepts
                    without any network (rendering alone, plus the ledger's own work);
- rendered:         the peer: one SendGrid request per message (official client, bounded pool)
                    to a SendGrid-compatible sink running in its own process;
- dynamic-template: digest data only, 1000 personalizations per request (SendGrid renders).

Peak memory is the delivering process's peak resident set size (`ru_maxrss`, everything the process
ever held: interpreter, libraries, SQLite cache, messages), not tracemalloc (Python objects only).
Rounds are interleaved (floor, rendered, dynamic, floor, ...); each mode's best round is reported.

Usage: .venv/bin/python bench/email_throughput.py [--people 10000 100000] [--rounds 3]
                                                  [--out docs/email-bench.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
CHUNK = 1000
TEMPLATE = "d-0123456789abcdef0123456789abcdef"
MODES = ("floor", "rendered", "dynamic-template")


def setup(people: int, path: Path) -> dict[str, float]:
    """Store a synthetic organisation and plan one digest per person into the ledger."""
    from strides.rules.intents import Intent
    from strides.rules.keys import message_key
    from strides.rules.schema import Kind
    from strides.store import Store, ledger, snapshot
    from strides.synthetic import Shape, generate

    started = time.perf_counter()
    org = generate(Shape(people=people))
    store = Store(f"sqlite:///{path}")
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, org)
    with store.session() as session:
        intents = [
            Intent(
                key=message_key("weekly-digest", pid, NOW, pid),
                rule_id="weekly-digest",
                kind=Kind.DIGEST,
                subject=pid,
                occurrence=NOW,
                recipient=pid,
                send_at=NOW,
                title="Weekly digest",
            )
            for pid in sorted(org.people)
        ]
        planned = ledger.record(session, intents, org, NOW)
    store.engine.dispose()
    return {
        "people": people,
        "goals": len(org.goals),
        "milestones": len(org.milestones),
        "planned": planned,
        "setup_seconds": round(time.perf_counter() - started, 1),
    }


class FloorTransport:
    """Accepts every message at once without any network: what is left is building them."""

    name = "floor"
    wants_structured = True
    wants_template_data = False
    requests = 0

    def send(self, key: str, message: object, label: str) -> str:
        return f"floor:{key}"

    def send_many(self, items: Sequence[object], on_result: object = None) -> list[str]:
        results = [f"floor:{item.key}" for item in items]  # type: ignore[attr-defined]
        if callable(on_result):  # as a rendered transport would: one result per message
            for index, result in enumerate(results):
                on_result((index,), result)
        return results


def run_mode(mode: str, path: Path, host: str, concurrency: int) -> dict[str, float | str]:
    from strides.engine import drain
    from strides.integrations.compose import Sender
    from strides.integrations.sendgrid_mail import SendGridTransport
    from strides.integrations.sendgrid_payload import Options
    from strides.store import Store

    store = Store(f"sqlite:///{path}")
    sender = Sender("growth@strides.example", "strides")
    transport: FloorTransport | SendGridTransport
    if mode == "floor":
        transport = FloorTransport()
    else:
        transport = SendGridTransport(
            "SG.bench",
            host=host,
            options=Options(),
            mode="dynamic-template" if mode == "dynamic-template" else "rendered",
            template_id=TEMPLATE,
            concurrency=concurrency,
        )

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    start, cpu_start = time.perf_counter(), cpu()
    outcome = drain(store, transport, sender, NOW, CHUNK, max_chunks=10**6)
    elapsed, cpu_used = time.perf_counter() - start, cpu() - cpu_start
    sent = len(outcome.sent)
    return {
        "mode": mode,
        "sent": sent,
        "failed": len(outcome.failed),
        "requests": transport.requests,
        "seconds": round(elapsed, 2),
        "per_second": round(sent / elapsed, 1),
        # CPU time of the delivering process (all its threads): less sensitive to a busy machine.
        "cpu_seconds": round(cpu_used, 2),
        "per_cpu_second": round(sent / cpu_used, 1),
        # Linux reports ru_maxrss in KiB.
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def commit() -> str | None:
    """The measured code's commit, when run from a git checkout."""
    found = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return found.stdout.strip() or None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, timeout=7200, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{done.stderr[-4000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def sink_stats(port: int) -> dict[str, int]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as answer:
        stats: dict[str, int] = json.loads(answer.read())
        return stats


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--rounds", type=int, default=3)
    # Requests in flight in rendered mode. 4 did best against the local sink (8 for SendGrid itself,
    # whose answers take longer: the setting `sendgrid_concurrency`).
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--setup", nargs=2, metavar=("PEOPLE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=4, metavar=("MODE", "PATH", "HOST", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        print(json.dumps(setup(int(args.setup[0]), Path(args.setup[1]))))
        return
    if args.child:
        mode, path, host, concurrency = args.child
        print(json.dumps(run_mode(mode, Path(path), host, int(concurrency))))
        return
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "sendgrid_sink.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    work = Path(tempfile.mkdtemp(prefix="strides-email-bench-"))
    results: list[dict[str, object]] = []
    stores: list[dict[str, object]] = []
    try:
        for people in args.people:
            base = work / f"base-{people}.db"
            built = child("--setup", str(people), str(base))
            stores.append(built)
            print(json.dumps(built), flush=True)
            for round_ in range(1, args.rounds + 1):
                for mode in args.modes:
                    copy = work / f"run-{people}-{mode}.db"
                    shutil.copyfile(base, copy)
                    before = sink_stats(port)
                    result = child(
                        "--child", mode, str(copy), f"http://127.0.0.1:{port}", str(args.concurrency)
                    )
                    after = sink_stats(port)
                    result.update(
                        people=people,
                        round=round_,
                        sink_requests=after["requests"] - before["requests"],
                        sink_messages=after["messages"] - before["messages"],
                        load=os.getloadavg()[0],
                    )
                    copy.unlink()
                    results.append(result)
                    print(json.dumps(result), flush=True)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    best: list[dict[str, object]] = []
    for people in args.people:
        for mode in args.modes:
            rounds = [r for r in results if r["people"] == people and r["mode"] == mode]
            best.append(max(rounds, key=lambda r: float(r["per_second"])))  # type: ignore[arg-type]
        floor = next((b for b in best if b["people"] == people and b["mode"] == "floor"), None)
        for b in best:
            if b["people"] == people and floor:
                b["vs_floor"] = round(float(b["per_second"]) / float(floor["per_second"]), 2)  # type: ignore[arg-type]
    for b in best:
        print(
            f"{b['people']:>7} {b['mode']:<17} {b['per_second']:>9} /s "
            f"({b['per_cpu_second']:>9} /CPU-s)  vs floor {b.get('vs_floor', '-'):>5}  "
            f"requests {b['requests']:>6}  {b['seconds']:>7} s  peak {b['peak_rss_mib']:>6} MiB  "
            f"load {b['load']:.2f}"
        )
    if args.out:
        args.out.write_text(
            json.dumps(
                {
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "commit": commit(),
                    "cores": os.cpu_count(),
                    "stores": stores,
                    "best": best,
                    "rounds": results,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
