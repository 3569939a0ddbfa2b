"""POST /inbound/replies/{secret}: attendees' replies forwarded by SendGrid's Inbound Parse.

Inbound Parse signs nothing, so the URL carries a secret (`STRIDES_INBOUND_SECRET`); without
one configured the endpoint does not exist (404). Every post is answered 200 with what became
of each reply, including rejections, because SendGrid would retry any other answer for days.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from fastapi import APIRouter, HTTPException, Request

from strides.config import Settings
from strides.domain.responses import Reply
from strides.http.clock import request_now
from strides.http.limits import read_body
from strides.integrations.itip_reply import ReplyError, parse_form_data, replies_from_inbound_parse
from strides.store import Store, invites

router = APIRouter(tags=["inbound email"])
MAX_BODY = 30 * 1024 * 1024  # Inbound Parse's own limit on a message


def _unauthenticated(fields: Mapping[str, str], replies: list[Reply]) -> str | None:
    """Why a reply by email cannot be trusted: no sender, or the mail path says the sender's
    domain did not vouch for it (Inbound Parse's SPF and DKIM results, when it gives them)."""
    if any(not reply.sender for reply in replies):
        return "the message names no sender"
    spf, dkim = fields.get("SPF", "").strip().lower(), fields.get("dkim", "").lower()
    if (spf or dkim) and spf != "pass" and "pass" not in dkim:
        return f"the sender's domain did not vouch for it (SPF {spf or 'none'}, DKIM {dkim or 'none'})"
    return None


@router.post("/inbound/replies/{secret}")
async def inbound_replies(secret: str, request: Request) -> dict[str, object]:
    settings: Settings = request.app.state.settings
    expected = settings.inbound_secret.get_secret_value() if settings.inbound_secret else ""
    if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise HTTPException(status_code=404, detail="not found")
    body = await read_body(request, MAX_BODY)
    try:
        fields, files = parse_form_data(body, request.headers.get("content-type", ""))
        replies = replies_from_inbound_parse(fields, files, "inbound-parse")
    except (ReplyError, ValueError) as exc:
        return {"recorded": 0, "rejected": [{"reason": str(exc)}]}
    if refused := _unauthenticated(fields, replies):
        return {"recorded": 0, "rejected": [{"reason": refused}]}
    store = Store(settings.db_url)
    with store.session() as session:
        outcomes = [invites.record_reply(session, reply, request_now(request)) for reply in replies]
    return {
        "recorded": sum(o.applied for o in outcomes),
        "replies": [
            {
                "uid": o.reply.uid,
                "attendee": o.reply.attendee,
                "partstat": o.reply.partstat,
                "recorded": o.applied,
                "reason": o.reason,
            }
            for o in outcomes
        ],
    }
