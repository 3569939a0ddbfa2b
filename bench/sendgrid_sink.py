"""A SendGrid-compatible sink for benchmarks: answers every POST /v3/mail/send with 202 and counts.

Run as its own process (`python bench/sendgrid_sink.py PORT`) so it does not share the client's GIL.
GET /stats answers {"requests": n, "messages": m} (messages = personalizations received).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

# orjson's and json's `loads` differ in their full signatures; the sink only parses request bodies.
loads: Callable[[bytes], Any]
try:  # the sink should cost the client's machine as little as it can
    from orjson import loads
except ImportError:  # pragma: no cover
    from json import loads

STATS = {"requests": 0, "messages": 0}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            headers = {
                k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if method == "GET" and path == "/stats":
                data = json.dumps(STATS).encode()
                status = b"200 OK"
            else:
                STATS["requests"] += 1
                STATS["messages"] += len(loads(body)["personalizations"])
                data, status = b"", b"202 Accepted"
            keep = headers.get("connection", "").lower() != "close"
            writer.write(
                b"HTTP/1.1 "
                + status
                + b"\r\nContent-Length: "
                + str(len(data)).encode()
                + b"\r\nX-Message-Id: bench"
                + str(STATS["requests"]).encode()
                + (b"\r\n" if keep else b"\r\nConnection: close\r\n")
                + b"\r\n"
                + data
            )
            await writer.drain()
            if not keep:
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
