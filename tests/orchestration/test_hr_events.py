"""The HR intake: signed, fresh requests become strides events; stale or forged ones do not."""

from __future__ import annotations

import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from strides.config import Settings
from strides.http.app import create_app
from strides.http.hr_events import SignatureError, get_publisher, sign, verify
from strides.integrations.events import StridesEvent
from tests.conftest import FIXTURES

with warnings.catch_warnings():
    # starlette announces a move to `httpx2`, which this project does not use (yet).
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

SECRET = "correct horse battery staple"
BODY = (FIXTURES / "hr" / "milestone-completed.json").read_bytes()
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SKEW = timedelta(minutes=5)


@pytest.fixture
def published() -> list[StridesEvent]:
    return []


@pytest.fixture
def client(tmp_path: Path, published: list[StridesEvent]) -> TestClient:
    app = create_app(Settings(state_dir=tmp_path, hr_secret=SECRET))

    async def record(events: list[StridesEvent]) -> list[str]:
        published.extend(events)
        return [f"id-{n}" for n in range(len(events))]

    app.dependency_overrides[get_publisher] = lambda: record
    return TestClient(app)


def headers(body: bytes, *, at: float | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time() if at is None else at))
    return {"X-Strides-Timestamp": stamp, "X-Strides-Signature": sign(secret, stamp, body)}


def test_a_fresh_signature_over_body_and_timestamp_verifies():
    stamp = str(int(NOW.timestamp()))
    verify(SECRET, stamp, sign(SECRET, stamp, BODY), BODY, NOW + timedelta(minutes=4), SKEW)


@pytest.mark.parametrize(
    ("stamp_offset", "secret", "body", "why"),
    [
        (timedelta(minutes=6), SECRET, BODY, "stale"),
        (-timedelta(minutes=6), SECRET, BODY, "stale"),
        (timedelta(0), "guessed secret", BODY, "does not match"),
        (timedelta(0), SECRET, BODY.replace(b"g00003", b"g00004"), "does not match"),
    ],
    ids=["old", "from-the-future", "forged", "tampered-body"],
)
def test_stale_forged_or_tampered_requests_are_refused(stamp_offset, secret, body, why):
    stamp = str(int((NOW - stamp_offset).timestamp()))
    with pytest.raises(SignatureError, match=why):
        verify(SECRET, stamp, sign(secret, stamp, BODY), body, NOW, SKEW)


def test_each_accepted_change_becomes_an_event_about_its_goal(client, published):
    answer = client.post("/hr/events", content=BODY, headers=headers(BODY))
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": 2, "events": ["id-0", "id-1"]}
    assert [(e.name, e.resource()["prefect.resource.id"]) for e in published] == [
        ("strides.milestone.completed", "strides.goal.g00003"),
        ("strides.goal.deadline-moved", "strides.goal.g00002"),
    ]
    assert published[0].payload == {"milestone": "m000007", "completed_at": "2026-12-03T15:30:00+00:00"}


def test_an_unsigned_or_stale_request_is_401_and_emits_nothing(client, published):
    assert client.post("/hr/events", content=BODY).status_code == 401
    old = client.post("/hr/events", content=BODY, headers=headers(BODY, at=time.time() - 3600))
    assert old.status_code == 401
    assert "stale" in old.json()["detail"]
    assert published == []


def test_a_signed_but_invalid_change_is_422_and_emits_nothing(client, published):
    body = b'{"changes": [{"event": "goal.exploded", "goal": "g1"}]}'
    assert client.post("/hr/events", content=body, headers=headers(body)).status_code == 422
    body = b'{"changes": [{"event": "goal.created", "goal": "g1", "person": "p1"}]}'
    assert client.post("/hr/events", content=body, headers=headers(body)).status_code == 422
    assert published == []


def test_without_a_secret_the_intake_is_off(tmp_path: Path):
    answer = TestClient(create_app(Settings(state_dir=tmp_path))).post("/hr/events", content=BODY)
    assert answer.status_code == 503


def test_an_earlier_event_spelling_is_read_as_the_name_it_is_now(client, published):
    body = (
        b'{"changes": [{"event": "goal.deadline_moved", "goal": "g2", "data": {"deadline": "2027-01-31"}}]}'
    )
    assert client.post("/hr/events", content=body, headers=headers(body)).status_code == 202
    assert [e.name for e in published] == ["strides.goal.deadline-moved"]
