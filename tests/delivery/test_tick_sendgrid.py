"""One flow-level test: the tick picks the configured transport, with the API key from a Secret block."""

from __future__ import annotations

import pytest

from strides.config import Settings
from strides.integrations.org_files import load_organisation
from strides.store import Store, ledger, snapshot

from ..conftest import ROOT, SAMPLE_ORG, at
from .faulty_sendgrid import faulty_sendgrid


@pytest.mark.flow
def test_the_tick_sends_through_sendgrid_with_the_key_from_a_prefect_secret_block(
    prefect_harness, tmp_path, monkeypatch
):
    from prefect.blocks.system import Secret

    from strides.flows.tick import tick

    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    Secret(value="SG.from-the-block").save("strides-test-sendgrid", overwrite=True)
    settings = Settings(state_dir=tmp_path / "state", organisation=SAMPLE_ORG)
    store = Store(settings.db_url)
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, load_organisation(SAMPLE_ORG, base=ROOT).organisation)
    with faulty_sendgrid() as server:
        server.script("503", "drop")
        parameters = {
            "state_dir": str(settings.state_dir),
            "organisation": str(SAMPLE_ORG),
            "transport": "sendgrid",
            "sendgrid_host": server.url,
            "sendgrid_api_key_block": "strides-test-sendgrid",
            "chunk_size": 40,
        }
        result = tick(now=at("2026-11-30 12:00"), settings=parameters, since=at("2026-11-29 12:00"))
    with store.session() as session:
        sent = ledger.messages(session, status="sent")
    assert result["sent"] == len(sent) > 0 and result["failed"] == 0
    assert sorted(server.keys()) == sorted(r.key for r in sent)
    assert set(server.authorizations) == {"Bearer SG.from-the-block"}
    assert {r.transport for r in sent} == {"sendgrid"}
