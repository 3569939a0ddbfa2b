"""GET /feeds/{token}.ics: a person's upcoming strides meetings as a calendar subscription.

The token is the only credential (as with every webcal feed): unknown and revoked tokens both
answer 404. The body is deterministic for a given state, so its hash is a strong ETag and a
client that sends If-None-Match gets 304 until a meeting changes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, HTTPException, Request, Response

from strides.config import Settings
from strides.http.clock import request_now
from strides.integrations.calendar_feed import REFRESH, FeedEvent, build_feed
from strides.rules.reconcile import ACTIVE
from strides.store import Store, feed_tokens, invites, slices

router = APIRouter(tags=["calendar feed"])
# Meetings that began up to this long ago stay in the feed (today's meeting stays visible).
KEEP_PAST = timedelta(days=1)


def feed_bytes(store: Store, person_id: str, now: datetime, location: str | None) -> bytes | None:
    with store.session() as session:
        # Only this person's record and meetings: a feed request costs the same in any organisation.
        person = slices.load_person(session, person_id)
        if person is None:
            return None
        rows = invites.meetings(session, person=person_id, after=now - KEEP_PAST)
    events = [
        FeedEvent(
            uid=row.uid,
            summary=row.title,
            description=row.body,
            start=row.start.astimezone(ZoneInfo(row.timezone)),
            end=row.end.astimezone(ZoneInfo(row.timezone)),
            sequence=row.sequence,
            changed=row.updated_at,
        )
        for row in rows
        if row.status == ACTIVE
    ]
    return build_feed(f"strides: {person.name}", events, location=location)


@router.get("/feeds/{token}.ics", response_class=Response)
def person_feed(token: str, request: Request, if_none_match: str | None = Header(default=None)) -> Response:
    settings: Settings = request.app.state.settings
    store = Store(settings.db_url)
    with store.session() as session:
        person_id = feed_tokens.person_of(session, token)
    body = (
        None
        if person_id is None
        else feed_bytes(store, person_id, request_now(request), settings.meeting_location)
    )
    if body is None:
        raise HTTPException(status_code=404, detail="no such feed")
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"private, max-age={int(REFRESH.total_seconds())}",
        "X-Robots-Tag": "noindex",
    }
    if if_none_match and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = 'inline; filename="strides.ics"'
    return Response(content=body, media_type="text/calendar; charset=utf-8", headers=headers)
