"""A SendGrid-shaped HTTP server in the test process that misbehaves on cue and records what it took.

Each request consumes the next scripted fault (then answers normally, 202 with X-Message-Id):
- "429-reset": 429 with X-RateLimit-Reset = `reset_at` (a Unix time set by the test);
- "429-retry-after": 429 with Retry-After: 7;
- "500" / "503": a server error with SendGrid's error body;
- "400": SendGrid's error body for a bad from address;
- "slow": holds the request `slow_seconds` before reading it, then drops it unprocessed (a front door
  that timed out before the mail service saw the request);
- "drop": closes the connection without reading the request or answering.
While `down` names a fault, every request without a scripted one meets it (an outage).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SENDGRID_400 = {
    "errors": [
        {"message": "The from email does not contain a valid address.", "field": "from.email", "help": None}
    ]
}


class FaultyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.faults: deque[str] = deque()
        self.lock = threading.Lock()
        self.accepted: list[dict[str, Any]] = []
        self.requests = 0
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests the server held at once
        self.authorizations: list[str | None] = []
        self.reset_at = 0.0
        self.slow_seconds = 1.0
        self.down: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def script(self, *faults: str) -> None:
        with self.lock:
            self.faults.extend(faults)

    def next_fault(self) -> str | None:
        with self.lock:
            self.requests += 1
            return self.faults.popleft() if self.faults else self.down

    def keys(self) -> list[str]:
        """Idempotency keys of every message accepted, once per personalization."""
        return [
            p.get("custom_args", {}).get("strides_key", "?")
            for payload in self.accepted
            for p in payload["personalizations"]
        ]


class Handler(BaseHTTPRequestHandler):
    server: FaultyServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def _answer(self, status: int, body: dict[str, Any] | None = None, **headers: str) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(data)))
        if data:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        with self.server.lock:
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        try:
            self._post()
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def _post(self) -> None:
        fault = self.server.next_fault()
        with self.server.lock:
            self.server.authorizations.append(self.headers.get("Authorization"))
        if fault == "drop":
            self.close_connection = True
            self.connection.close()
            return
        if fault == "slow":
            time.sleep(self.server.slow_seconds)
            self.close_connection = True
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if fault == "429-reset":
            self._answer(
                429,
                {"errors": [{"message": "too many requests"}]},
                X_RateLimit_Limit="600",
                X_RateLimit_Remaining="0",
                X_RateLimit_Reset=str(int(self.server.reset_at)),
            )
        elif fault == "429-retry-after":
            self._answer(429, {"errors": [{"message": "too many requests"}]}, Retry_After="7")
        elif fault in ("500", "503"):
            self._answer(int(fault), {"errors": [{"message": "internal error"}]})
        elif fault == "400":
            self._answer(400, SENDGRID_400)
        else:
            with self.server.lock:
                self.server.accepted.append(json.loads(body))
                number = len(self.server.accepted)
            self._answer(202, None, X_Message_Id=f"msg-{number:05d}")


@contextmanager
def faulty_sendgrid() -> Iterator[FaultyServer]:
    server = FaultyServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
