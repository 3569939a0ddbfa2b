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
# tools/ (the synthetic organisation) sits beside bench/, outside the installed package.
sys.path.insert(0, str(ROOT))
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
CHUNK = 1000
TEMPLATE = "d-0123456789abcdef0123456789abcdef"
MODES = ("floor", "rendered", "dynamic-template")


def setup(people: int, path: Path) -> dict[str, float]:
    """Store a synthetic organisation and plan one digest per person into the ledger."""
    from strides.domain.schema import Kind
    from strides.rules.intents import Intent
    from strides.rules.keys import message_key
    from strides.store import Store, ledger, snapshot
    from tools.synthetic import Shape, generate

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


def run_mode(
    mode: str, path: Path, host: str, concurrency: int, go: Path | None = None
) -> dict[str, float | str]:
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

    if go is not None:  # several delivery processes start together: ready, then wait for the go-file
        print("ready", flush=True)
        while not go.exists():
            time.sleep(0.001)
    started_at = time.time()
    start, cpu_start = time.perf_counter(), cpu()
    outcome = drain(store, transport, sender, NOW, CHUNK, max_chunks=10**6)
    elapsed, cpu_used = time.perf_counter() - start, cpu() - cpu_start
    sent = len(outcome.sent)
    return {
        "mode": mode,
        "started_at": started_at,
        "ended_at": started_at + elapsed,
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


def deliver(mode: str, path: Path, host: str, concurrency: int, processes: int) -> dict[str, object]:
    """Drain the ledger with `processes` delivery processes at once (ledger claims keep them apart).

    Digests per second count from the first process's start to the last one's end; CPU seconds are
    the processes' sum; peak RSS is the largest process's (and the sum over them)."""
    if processes == 1:
        one = child("--child", mode, str(path), host, str(concurrency), "-")
        one.update(processes=1, peak_rss_total_mib=one["peak_rss_mib"])
        return one
    go = path.with_suffix(".go")
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", mode, str(path), host, str(concurrency), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"child failed:\n{proc.communicate()[1][-4000:]}")
    go.touch()
    parts = []
    for proc in procs:
        out, err = proc.communicate(timeout=7200)
        if proc.returncode != 0:
            raise SystemExit(f"child failed:\n{err[-4000:]}")
        parts.append(json.loads(out.strip().splitlines()[-1]))
    go.unlink()
    seconds = max(float(p["ended_at"]) for p in parts) - min(float(p["started_at"]) for p in parts)
    sent = sum(int(p["sent"]) for p in parts)
    cpu_used = sum(float(p["cpu_seconds"]) for p in parts)
    return {
        "mode": mode,
        "processes": processes,
        "sent": sent,
        "failed": sum(int(p["failed"]) for p in parts),
        "requests": sum(int(p["requests"]) for p in parts),
        "seconds": round(seconds, 2),
        "per_second": round(sent / seconds, 1),
        "cpu_seconds": round(cpu_used, 2),
        "per_cpu_second": round(sent / cpu_used, 1),
        "peak_rss_mib": max(float(p["peak_rss_mib"]) for p in parts),
        "peak_rss_total_mib": round(sum(float(p["peak_rss_mib"]) for p in parts), 1),
        "sent_per_process": [int(p["sent"]) for p in parts],
    }


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
    # Delivery processes draining the same ledger at once (each mode is run with each count).
    parser.add_argument("--processes", type=int, nargs="+", default=[1])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--setup", nargs=2, metavar=("PEOPLE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--child", nargs=5, metavar=("MODE", "PATH", "HOST", "N", "GO"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.setup:
        print(json.dumps(setup(int(args.setup[0]), Path(args.setup[1]))))
        return
    if args.child:
        mode, path, host, concurrency, go = args.child
        print(json.dumps(run_mode(mode, Path(path), host, int(concurrency), None if go == "-" else Path(go))))
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
                for processes in args.processes:
                    for mode in args.modes:
                        copy = work / f"run-{people}-{mode}.db"
                        shutil.copyfile(base, copy)
                        before = sink_stats(port)
                        result = deliver(mode, copy, f"http://127.0.0.1:{port}", args.concurrency, processes)
                        after = sink_stats(port)
                        result.update(
                            people=people,
                            round=round_,
                            sink_requests=after["requests"] - before["requests"],
                            sink_messages=after["messages"] - before["messages"],
                            load=os.getloadavg()[0],
                        )
                        for extra in (copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
                            extra.unlink(missing_ok=True)
                        copy.unlink()
                        results.append(result)
                        print(json.dumps(result), flush=True)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    best: list[dict[str, object]] = []
    for people in args.people:
        for processes in args.processes:
            group = []
            for mode in args.modes:
                rounds = [
                    r
                    for r in results
                    if r["people"] == people and r["mode"] == mode and r["processes"] == processes
                ]
                group.append(max(rounds, key=lambda r: float(r["per_second"])))  # type: ignore[arg-type]
            # Against the floor with as many processes (rendering alone, as parallel).
            floor = next((b for b in group if b["mode"] == "floor"), None)
            for b in group:
                if floor:
                    b["vs_floor"] = round(float(b["per_second"]) / float(floor["per_second"]), 2)  # type: ignore[arg-type]
            best.extend(group)
    for b in best:
        print(
            f"{b['people']:>7} {b['mode']:<17} x{b['processes']} {b['per_second']:>9} /s "
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
