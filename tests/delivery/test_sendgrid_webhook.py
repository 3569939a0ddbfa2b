"""The Event Webhook: only SendGrid's signed, fresh requests count; bounces and complaints suppress."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from strides import engine
from strides.http.app import create_app
from strides.integrations.outbox import OutboxTransport
from strides.rules import Window
from strides.store import ledger, suppressions

from ..conftest import FIXTURES
from .conftest import SENDER

BATCH = (FIXTURES / "sendgrid" / "events.json").read_bytes()
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


class Signer:
    """What SendGrid does: ECDSA P-256 over timestamp + raw body; the public key as base64 DER."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public = base64.b64encode(der).decode()

    def headers(self, body: bytes, at: datetime) -> dict[str, str]:
        stamp = str(int(at.timestamp()))
        signature = self.key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
            "Content-Type": "application/json",
        }


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def client(settings, store, signer):
    app = create_app(settings.derived(sendgrid_webhook_public_key=signer.public))
    app.state.clock = lambda: NOW
    return TestClient(app)


URL = "/webhooks/sendgrid/events"


def test_a_signed_batch_records_each_event_by_message_key_and_suppresses(client, signer, store):
    answer = client.post(URL, content=BATCH, headers=signer.headers(BATCH, NOW - timedelta(seconds=5)))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "recorded": 9,
        "duplicates": 0,
        "suppressed": [
            "quinn.bauer.p002@example.com",
            "sara.tanaka.p004@example.com",
            "p006@example.com",
        ],
        "skipped": [],
    }
    with store.session() as session:
        assert suppressions.delivery_status(session, "k-digest-p001") == "delivered"
        assert suppressions.delivery_status(session, "k-invite-p002") == "bounced"
        assert suppressions.delivery_status(session, "k-note-p003") == "blocked"
        assert suppressions.delivery_status(session, "k-note-p004") == "complained"
        assert suppressions.delivery_status(session, "k-note-p005") == "rejected"
        assert suppressions.delivery_status(session, "k-note-p007") == "group_unsubscribed"
        listed = {row.email: row.reason for row in suppressions.suppressions(session)}
    # A block is temporary and a group unsubscribe concerns one group: neither suppresses.
    assert listed == {
        "quinn.bauer.p002@example.com": "bounce",
        "sara.tanaka.p004@example.com": "spamreport",
        "p006@example.com": "unsubscribe",
    }


def test_a_redelivered_batch_is_recorded_once(client, signer):
    headers = signer.headers(BATCH, NOW)
    client.post(URL, content=BATCH, headers=headers)
    again = client.post(URL, content=BATCH, headers=headers)
    assert again.json() == {"recorded": 0, "duplicates": 9, "suppressed": [], "skipped": []}


def test_a_bad_item_is_skipped_and_the_rest_of_the_batch_recorded(client, signer):
    events = json.loads(BATCH)
    bad = [{**events[0], "timestamp": "yesterday"}, {**events[1], "timestamp": 1e20}, "not an event"]
    body = json.dumps(bad + events[2:]).encode()
    answer = client.post(URL, content=body, headers=signer.headers(body, NOW))
    assert answer.status_code == 200, answer.text
    assert answer.json()["recorded"] == len(events) - 2
    assert answer.json()["skipped"] == [
        "item 0: bad timestamp 'yesterday'",
        "item 1: bad timestamp '1e+20'",
        "item 2: not an event: not an event",
    ]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s, h, b: (b.replace(b"bounce", b"deliver"), h), id="body changed"),
        pytest.param(
            lambda s, h, b: (b, {**h, "X-Twilio-Email-Event-Webhook-Timestamp": "1795939999"}),
            id="time changed",
        ),
        pytest.param(lambda s, h, b: (b, Signer().headers(b, NOW)), id="someone else's key"),
        pytest.param(lambda s, h, b: (b, {"Content-Type": "application/json"}), id="unsigned"),
        pytest.param(
            lambda s, h, b: (b, {**h, "X-Twilio-Email-Event-Webhook-Signature": "bm9wZQ=="}), id="garbage"
        ),
        pytest.param(lambda s, h, b: (b, s.headers(b, NOW - timedelta(hours=1))), id="stale"),
    ],
)
def test_forged_and_stale_requests_are_rejected_and_change_nothing(client, signer, store, tamper):
    body, headers = tamper(signer, signer.headers(BATCH, NOW), BATCH)
    answer = client.post(URL, content=body, headers=headers)
    assert answer.status_code == 403
    assert answer.json()["detail"].startswith("rejected: ")
    with store.session() as session:
        assert suppressions.suppressions(session) == []


def test_without_a_verification_key_the_endpoint_refuses(settings, store):
    answer = TestClient(create_app(settings)).post(URL, content=BATCH)
    assert answer.status_code == 503


def test_delivery_skips_suppressed_addresses_and_says_why(loaded_store, builtin_rules, tmp_path):
    window = Window(NOW - timedelta(days=7), NOW)
    engine.plan_window(loaded_store, builtin_rules, window, NOW)
    with loaded_store.session() as session:
        rows = ledger.messages(session)
        target = rows[0].recipient_email
        suppressions.suppress(session, target.upper(), "bounce", "550 no such user", None, NOW)
    outcome = engine.deliver_due(loaded_store, OutboxTransport(tmp_path / "out"), SENDER, NOW, limit=40)
    with loaded_store.session() as session:
        skipped = [r for r in ledger.messages(session, recipient=target) if r.status == "dead"]
    assert skipped and all(
        r.last_error == "suppressed: bounce on 2026-11-30 (550 no such user)" for r in skipped
    )
    assert {k for k, _ in outcome.held_back} == {r.key for r in skipped} and outcome.failed == []
    assert not any(target in p.read_text() for p in (tmp_path / "out").glob("*.eml"))


def test_admins_list_suppressed_addresses(client, signer, settings):
    from typer.testing import CliRunner

    from strides.cli import app

    client.post(URL, content=BATCH, headers=signer.headers(BATCH, NOW))
    runner = CliRunner()
    state = ["--state-dir", str(settings.state_dir)]
    listed = runner.invoke(app, [*state, "email", "suppressions", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {r["email"]: r["reason"] for r in json.loads(listed.output)} == {
        "quinn.bauer.p002@example.com": "bounce",
        "sara.tanaka.p004@example.com": "spamreport",
        "p006@example.com": "unsubscribe",
    }
    assert runner.invoke(app, [*state, "email", "unsuppress", "P006@example.com"]).exit_code == 0
    assert runner.invoke(app, [*state, "email", "unsuppress", "p006@example.com"]).exit_code == 1
    events = runner.invoke(app, [*state, "email", "events", "k-invite-p002", "--json"])
    assert [e["event"] for e in json.loads(events.output)] == ["bounced"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("email", "events", "no-such-key"), "no message has the key 'no-such-key'"),
        (("email", "opt-out", "nobody", "digest"), "unknown person 'nobody'"),
        (("email", "opt-in", "nobody", "digest"), "unknown person 'nobody'"),
        (("email", "pause", "nobody", "--until", "2027-01-01T00:00:00+00:00"), "unknown person 'nobody'"),
        (("email", "resume", "nobody"), "unknown person 'nobody'"),
        (("email", "suppress", "not-an-email"), "is not an email address"),
        (("outbox", "--status", "bogus"), "is not a status"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else "says",
)
def test_admin_commands_refuse_what_does_not_exist_as_bad_usage(settings, loaded_store, args, said):
    from typer.testing import CliRunner

    from strides.cli import app

    result = CliRunner().invoke(app, ["--state-dir", str(settings.state_dir), *args])
    assert result.exit_code == 2, result.output
    assert said in " ".join(result.output.split())
