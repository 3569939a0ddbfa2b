"""Every endpoint answers a malformed or hostile request with a short 4xx reason, never 500; an
oversized body is refused before it is read whole; a store that is down is a clear 503."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from strides.config import Settings
from strides.http.app import create_app
from strides.http.hr_events import get_publisher, sign
from strides.http.limits import HR_BODY
from strides.store import Store

HR_SECRET = "correct horse battery staple"
KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC = base64.b64encode(
    KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
).decode()

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
EVENT = st.fixed_dictionaries(
    {"event": st.sampled_from(["bounce", "delivered", "open", "x"]), "email": st.text(max_size=30)},
    optional={
        "timestamp": st.one_of(st.integers(), st.floats(), st.text(max_size=10), st.none()),
        "strides_key": JSONISH,
        "reason": JSONISH,
    },
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSONISH.map(lambda v: json.dumps(v).encode()),
    st.lists(EVENT, max_size=5).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"changes": st.lists(st.dictionaries(st.text(max_size=8), JSONISH), max_size=3)}
    ).map(lambda v: json.dumps(v).encode()),
)

# Path segments as a client can send them (printable; the client quotes what URLs need quoted).
TOKENS = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters="/?#%\x7f"), max_size=40
)
FORM = {"Content-Type": "multipart/form-data; boundary=b"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    state = tmp_path_factory.mktemp("state")
    config = Settings(
        state_dir=state,
        hr_secret=SecretStr(HR_SECRET),
        sendgrid_webhook_public_key=PUBLIC,
        inbound_secret=SecretStr("s3cret"),
        public_url="https://strides.example",
        unsubscribe_secret=SecretStr("u"),
    )
    Store(config.db_url).migrate()
    app = create_app(config)

    async def nowhere(events: list[object]) -> list[str]:
        return [str(n) for n in range(len(events))]

    app.dependency_overrides[get_publisher] = lambda: nowhere
    return TestClient(app, raise_server_exceptions=False)


def _hr_headers(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"X-Strides-Timestamp": stamp, "X-Strides-Signature": sign(HR_SECRET, stamp, body)}


def _sendgrid_headers(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = KEY.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, signed=st.booleans(), token=TOKENS)
def test_no_request_gets_a_500(client: TestClient, body: bytes, signed: bool, token: str) -> None:
    answers = [
        client.post("/hr/events", content=body, headers=_hr_headers(body) if signed else {}),
        client.post(
            "/webhooks/sendgrid/events", content=body, headers=_sendgrid_headers(body) if signed else {}
        ),
        client.post(
            "/inbound/replies/s3cret",
            content=body,
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        ),
        client.post("/inbound/replies/guess", content=body),
        client.get(f"/unsubscribe/{token or 'x'}"),
        client.post(f"/unsubscribe/{token or 'x'}", content=body),
        client.get(f"/feeds/{token or 'x'}.ics"),
    ]
    assert [a.status_code for a in answers if a.status_code >= 500] == []


def test_an_oversized_body_is_refused_before_any_signature_check(client: TestClient) -> None:
    answer = client.post("/hr/events", content=b"x" * (HR_BODY + 1))
    assert answer.status_code == 413


def test_a_store_that_is_down_is_a_clear_503(tmp_path: Path) -> None:
    down = Settings(state_dir=tmp_path, database_url="postgresql+psycopg://strides@127.0.0.1:9/none")
    answer = TestClient(create_app(down), raise_server_exceptions=False).get("/feeds/abc.def.ics")
    assert answer.status_code == 503 and "unavailable" in answer.json()["detail"]
