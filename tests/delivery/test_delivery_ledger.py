"""The deliver step end to end: ledger rows to a configured transport and back to recorded outcomes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from strides import engine
from strides.config import ConfigError, Settings
from strides.integrations.outbox import OutboxTransport
from strides.integrations.sendgrid_mail import Retry, SendGridTransport
from strides.integrations.sendgrid_payload import Options
from strides.integrations.smtp import SMTPTransport
from strides.integrations.transports import build_transport
from strides.rules import Window
from strides.store import ledger

from ..conftest import at
from .conftest import SENDER
from .faulty_sendgrid import faulty_sendgrid

NOW = at("2026-11-30 12:00")


@pytest.fixture
def planned(loaded_store, builtin_rules):
    """A week of the sample organisation's messages, planned into the ledger."""
    window = Window(NOW - timedelta(days=7), NOW)
    outcome = engine.plan_window(loaded_store, builtin_rules, window, NOW)
    assert outcome.planned > 20
    return loaded_store


def test_every_due_message_is_accepted_once_and_recorded_with_the_providers_id(planned):
    with faulty_sendgrid() as server:
        server.script("500", "drop", "503")
        sender = SendGridTransport(
            "SG.k",
            host=server.url,
            options=Options(),
            timeout=2,
            retry=Retry(base=0.01),
            sleep=lambda s: None,
        )
        outcome = engine.deliver_due(planned, sender, SENDER, NOW, limit=60)
    with planned.session() as session:
        rows = [r for r in ledger.messages(session) if r.status != "pending"]
    assert outcome.failed == [] and len(rows) == 60
    assert {r.status for r in rows} == {"sent"}
    assert sorted(server.keys()) == sorted(r.key for r in rows)
    assert {r.transport for r in rows} == {"sendgrid"}
    assert all(r.transport_ref.startswith("msg-") for r in rows)


def test_a_refused_message_is_dead_with_sendgrids_text_and_the_rest_go(planned):
    with faulty_sendgrid() as server:
        server.script("400")
        sender = SendGridTransport("SG.k", host=server.url, concurrency=1, sleep=lambda s: None)
        outcome = engine.deliver_due(planned, sender, SENDER, NOW, limit=60)
    with planned.session() as session:
        dead = ledger.messages(session, status="dead")
        sent = ledger.messages(session, status="sent")
    assert len(dead) == 1 and len(outcome.failed) == 1
    assert dead[0].last_error == "SendGrid 400: from.email: The from email does not contain a valid address."
    assert len(sent) == len(server.keys())


def test_the_factory_picks_the_configured_transport(tmp_path, monkeypatch):
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    assert isinstance(build_transport(Settings(state_dir=tmp_path)), OutboxTransport)
    assert isinstance(build_transport(Settings(state_dir=tmp_path, transport="smtp")), SMTPTransport)
    with pytest.raises(ConfigError, match="SENDGRID_API_KEY"):
        build_transport(Settings(state_dir=tmp_path, transport="sendgrid"))
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.from-env")
    chosen = build_transport(
        Settings(
            state_dir=tmp_path,
            transport="sendgrid",
            sendgrid_host="http://127.0.0.1:9",
            sendgrid_sandbox=True,
        )
    )
    assert isinstance(chosen, SendGridTransport)
    assert chosen.host == "http://127.0.0.1:9" and chosen.options.sandbox
    assert "from-env" not in repr(chosen)
    with pytest.raises(ConfigError, match="template"):
        build_transport(Settings(state_dir=tmp_path, transport="sendgrid", sendgrid_mode="dynamic-template"))


def test_the_factory_asks_for_sendgrids_key_only_when_sendgrid_is_chosen(tmp_path, monkeypatch):
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    asked: list[str] = []

    def from_a_block() -> str:  # what the flows pass: it reads a Prefect Secret block
        asked.append("key")
        return "SG.from-a-block"

    assert isinstance(build_transport(Settings(state_dir=tmp_path), from_a_block), OutboxTransport)
    assert asked == []
    settings = Settings(state_dir=tmp_path, transport="sendgrid", sendgrid_api_key_block="strides-sendgrid")
    assert isinstance(build_transport(settings, from_a_block), SendGridTransport)
    assert asked == ["key"]
    with pytest.raises(ConfigError, match="only the flows read a Secret block"):
        build_transport(settings)


def test_secrets_survive_the_trip_through_flow_parameters_without_being_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("STRIDES_SENDGRID_API_KEY", "SG.from-env")
    parameters = Settings(state_dir=tmp_path).model_dump(mode="json")
    assert parameters["sendgrid_api_key"] == "**********"  # what Prefect would store
    inside_the_flow = Settings.model_validate(parameters)
    assert inside_the_flow.sendgrid_api_key is not None
    assert inside_the_flow.sendgrid_api_key.get_secret_value() == "SG.from-env"
