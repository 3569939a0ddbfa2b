"""Request bodies read with a limit, before anything else is done with them (a signature check
included): an endpoint never holds more than its limit of whatever anyone sends."""

from __future__ import annotations

from fastapi import HTTPException, Request

# The HR intake's changes and SendGrid's event batches (SendGrid posts batches of up to a few MB).
HR_BODY = 1024 * 1024
SENDGRID_BODY = 8 * 1024 * 1024
# A preference page's form: a few settings and a ticked box per optional rule.
FORM_BODY = 64 * 1024


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or 413 as soon as it is known to be over `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
