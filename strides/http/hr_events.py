"""HR event intake: an HR system posts changes as JSON; each accepted change becomes a Prefect
event about its goal or person.

Authentication is an HMAC-SHA256 over the timestamp and the raw body with a shared secret
(`STRIDES_HR_SECRET`), like Stripe's and Slack's webhooks:

    X-Strides-Timestamp: 1764583200                       (Unix seconds)
    X-Strides-Signature: sha256=<hex of HMAC(secret, "<timestamp>." + body)>

A request older or newer than `hr_max_skew` (default 5 minutes) is refused as stale, so a
captured request cannot be replayed later; a replay inside the window only repeats events, and
strides' reactions are idempotent (one message per key).

    POST /hr/events
    {"changes": [{"event": "milestone.completed", "goal": "g00003",
                  "data": {"milestone": "m000007", "completed_at": "2026-12-03T15:30:00Z"}}]}
    -> 202 {"accepted": 1, "events": ["<event id>"]}
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from strides.config import Settings
from strides.http.limits import HR_BODY, read_body
from strides.integrations.events import EventError, StridesEvent, event_name

SIGNATURE_PREFIX = "sha256="
MAX_CHANGES = 1000

Publisher = Callable[[list[StridesEvent]], Awaitable[list[str]]]


class SignatureError(Exception):
    """Why a request's signature is not accepted (the response says it, never the secret)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp` (what the HR system computes)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: datetime, max_skew: timedelta
) -> None:
    """Raise SignatureError unless `signature` signs `body` at a `timestamp` close to `now`."""
    if not timestamp or not signature:
        raise SignatureError("missing X-Strides-Timestamp or X-Strides-Signature")
    try:
        sent = datetime.fromtimestamp(int(timestamp), UTC)
    except (ValueError, OverflowError, OSError):
        raise SignatureError("X-Strides-Timestamp is not Unix seconds") from None
    if abs(now - sent) > max_skew:
        raise SignatureError(f"stale request: signed at {sent.isoformat()}, now {now.isoformat()}")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip()):
        raise SignatureError("signature does not match")


class HRChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(description="e.g. milestone.completed, goal.deadline-moved")
    goal: str | None = None
    person: str | None = None
    data: dict[str, str | None] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_subject(self) -> HRChange:
        if (self.goal is None) == (self.person is None):
            raise ValueError("a change concerns exactly one of goal and person")
        try:
            # An earlier spelling is read as the name it is now.
            self.event, _ = event_name(self.event)
        except EventError as exc:
            raise ValueError(str(exc)) from None
        return self

    def as_event(self) -> StridesEvent:
        about = f"goal:{self.goal}" if self.goal is not None else f"person:{self.person}"
        return StridesEvent(self.event, about, dict(self.data))


class HRBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changes: list[HRChange] = Field(min_length=1, max_length=MAX_CHANGES)


async def prefect_publisher(events: list[StridesEvent]) -> list[str]:
    from strides.flows.events import publish

    return await publish(events)


def get_publisher() -> Publisher:
    """Where accepted changes go; tests and other buses override this dependency."""
    return prefect_publisher


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


router = APIRouter(prefix="/hr", tags=["hr"])


@router.post("/events", status_code=status.HTTP_202_ACCEPTED)
async def hr_events(
    request: Request,
    publish: Annotated[Publisher, Depends(get_publisher)],
    x_strides_timestamp: Annotated[str | None, Header()] = None,
    x_strides_signature: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    settings = _settings(request)
    if settings.hr_secret is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "HR intake is off: set STRIDES_HR_SECRET")
    body = await read_body(request, HR_BODY)
    try:
        verify(
            settings.hr_secret.get_secret_value(),
            x_strides_timestamp,
            x_strides_signature,
            body,
            datetime.now(UTC),  # the edge reads the clock; verify() takes it as an input
            settings.hr_max_skew,
        )
    except SignatureError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None
    try:
        batch = HRBatch.model_validate_json(body)
        events = [change.as_event() for change in batch.changes]
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            # Without the input: it may be any bytes, which need not be text to be answered with.
            exc.errors(include_url=False, include_context=False, include_input=False),
        ) from None
    except EventError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    try:
        ids = await publish(events)
    except OSError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"cannot reach Prefect: {exc}") from None
    return {"accepted": len(events), "events": ids}
