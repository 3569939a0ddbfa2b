"""POST /webhooks/sendgrid/events: SendGrid's signed Event Webhook.

Forged, unsigned and stale requests get 403 and change nothing; a signed batch is recorded once per
event (SendGrid redelivers), and hard bounces, spam reports and unsubscribes suppress the address.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from strides.config import Settings
from strides.http.clock import request_now
from strides.http.limits import SENDGRID_BODY, read_body
from strides.integrations.sendgrid_events import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Verifier,
    WebhookError,
    parse_events,
)
from strides.store import Store, suppressions

router = APIRouter(prefix="/webhooks/sendgrid", tags=["sendgrid"])


@router.post("/events")
async def sendgrid_events(request: Request) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    if not settings.sendgrid_webhook_public_key:
        raise HTTPException(503, "the SendGrid Event Webhook is not configured (sendgrid_webhook_public_key)")
    body = await read_body(request, SENDGRID_BODY)
    now = request_now(request)
    try:
        verifier = Verifier(settings.sendgrid_webhook_public_key, settings.sendgrid_webhook_tolerance)
        verifier.verify(
            body, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER), now
        )
    except WebhookError as exc:
        raise HTTPException(403, f"rejected: {exc}") from None
    try:
        events, skipped = parse_events(body)
    except WebhookError as exc:
        raise HTTPException(400, str(exc)) from None

    def record() -> suppressions.Recorded:
        with Store(settings.db_url).session() as session:
            return suppressions.record_events(session, events, now)

    outcome = await run_in_threadpool(record)
    return {
        "recorded": outcome.recorded,
        "duplicates": outcome.duplicates,
        "suppressed": list(outcome.suppressed),
        "skipped": skipped,
    }
