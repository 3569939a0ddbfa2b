"""Weekly digests for N people handed to a local SendGrid-compatible server, three ways, same run.

- floor:            compose and render each digest (Jinja2, inlined CSS, text); nothing sent;
- rendered:         the floor plus one SendGrid request per message (payload from the structured
                    content, official client, bounded pool of 8);
- dynamic-template: digest data only, 1000 personalizations per request (SendGrid renders).

Each mode runs in its own process (clean peak-memory figures), streaming people in chunks of 1000.
Usage: .venv/bin/python bench/email_throughput.py [--people 10000 100000] [--out docs/email-bench.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
CHUNK = 1000
TEMPLATE = "d-0123456789abcdef0123456789abcdef"


def run_mode(mode: str, people: int, host: str) -> dict[str, float]:
    from strides.integrations.compose import Sender, outgoing
    from strides.integrations.sendgrid_mail import SendGridTransport
    from strides.integrations.sendgrid_payload import Options
    from strides.rules.intents import Intent
    from strides.rules.keys import message_key
    from strides.rules.schema import Kind
    from strides.synthetic import Shape, generate

    started = time.perf_counter()
    org = generate(Shape(people=people))
    generated = time.perf_counter() - started
    sender = Sender("growth@strides.example", "strides")
    transport = SendGridTransport(
        "SG.bench",
        host=host,
        options=Options(),
        mode="dynamic-template" if mode == "dynamic-template" else "rendered",
        template_id=TEMPLATE,
        concurrency=8,
    )
    ids = sorted(org.people)
    sent = failed = 0
    start = time.perf_counter()
    for first in range(0, len(ids), CHUNK):
        chunk = []
        for person_id in ids[first : first + CHUNK]:
            intent = Intent(
                key=message_key("weekly-digest", person_id, NOW, person_id),
                rule_id="weekly-digest",
                kind=Kind.DIGEST,
                subject=person_id,
                occurrence=NOW,
                recipient=person_id,
                send_at=NOW,
                title="Weekly digest",
            )
            # What the deliver step does for SendGrid: structured content (no MIME), or digest data.
            chunk.append(
                outgoing(intent, org, sender, NOW, [], with_data=mode == "dynamic-template", structured=True)
            )
        if mode == "floor":
            sent += len(chunk)
            continue
        for result in transport.send_many(chunk):
            if isinstance(result, str):
                sent += 1
            else:
                failed += 1
    elapsed = time.perf_counter() - start
    return {
        "mode": mode,
        "people": people,
        "sent": sent,
        "failed": failed,
        "requests": transport.requests,
        "seconds": round(elapsed, 2),
        "per_second": round(sent / elapsed, 1),
        "generate_seconds": round(generated, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--modes", nargs="+", default=["floor", "rendered", "dynamic-template"])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "PEOPLE", "HOST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, people, host = args.child
        print(json.dumps(run_mode(mode, int(people), host)))
        return
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "sendgrid_sink.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    results = []
    try:
        for people in args.people:
            for mode in args.modes:
                child = subprocess.run(
                    [sys.executable, __file__, "--child", mode, str(people), f"http://127.0.0.1:{port}"],
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=3600,
                )
                result = json.loads(child.stdout.strip().splitlines()[-1])
                results.append(result)
                print(json.dumps(result), flush=True)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    for people in args.people:
        floor = next((r for r in results if r["people"] == people and r["mode"] == "floor"), None)
        for r in results:
            if r["people"] == people and floor:
                r["vs_floor"] = round(r["per_second"] / floor["per_second"], 2)
    if args.out:
        args.out.write_text(
            json.dumps({"at": datetime.now(UTC).isoformat(), "results": results}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
