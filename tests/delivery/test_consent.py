"""Consent: signed one-click unsubscribe (RFC 8058), per-category opt-outs and pauses."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from strides import engine
from strides.domain.schema import Kind
from strides.http.app import create_app
from strides.integrations.compose import outgoing
from strides.integrations.outbox import OutboxTransport
from strides.integrations.sendgrid_payload import Options, build_payload
from strides.integrations.unsubscribe import TokenError, UnsubscribeLinks
from strides.rules import Window
from strides.store import ledger, preferences

from ..conftest import at
from .conftest import NOW as FIXED_NOW
from .conftest import SENDER, composed, intent

SECRET = "unsubscribe-signing-secret"
LINKS = UnsubscribeLinks("https://strides.example.com", SECRET)
WITH_LINKS = replace(SENDER, links=LINKS)
NOW = at("2026-11-30 12:00")


def test_a_token_names_the_person_and_category_and_cannot_be_forged():
    token = LINKS.token("p003", "digest")
    assert LINKS.read(token) == ("p003", "digest")
    with pytest.raises(TokenError, match="signature"):
        UnsubscribeLinks("https://strides.example.com", "another secret").read(token)
    forged = LINKS.token("p003", "digest").replace(
        LINKS.token("p003", "digest").split(".")[0], "cDAwMR9kaWdlc3Q"
    )
    with pytest.raises(TokenError):
        LINKS.read(forged)
    assert "unsubscribe-signing-secret" not in repr(LINKS)


@pytest.mark.parametrize(
    ("kind", "has_link"), [(Kind.DIGEST, True), (Kind.EMAIL, True), (Kind.INVITE, False)]
)
def test_mailings_carry_one_click_headers_and_a_footer_link_but_invites_do_not(
    outgoing_by_kind, sample_org, kind, has_link
):
    source = {Kind.DIGEST: "digest", Kind.EMAIL: "notification", Kind.INVITE: "invite"}[kind]
    original = outgoing_by_kind[source]
    item = intent(
        kind,
        original.message["X-Strides-Person"],
        original.message["X-Strides-Rule"],
        "Hello",
        meeting=_meeting_of(sample_org) if kind is Kind.INVITE else None,
    )
    rebuilt = outgoing(item, sample_org, WITH_LINKS, FIXED_NOW, digest=composed(item, sample_org))
    message = rebuilt.message
    if not has_link:
        assert message["List-Unsubscribe"] is None
        return
    url = LINKS.url(message["X-Strides-Person"], kind.value)
    assert message["List-Unsubscribe"] == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.get_body(("html",)).get_content()
    assert url in message.get_body(("plain",)).get_content()
    payload = build_payload(message, Options(asm_groups=(("digest", 11), ("email", 12))))
    assert payload["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert payload["asm"] == {"group_id": 11 if kind is Kind.DIGEST else 12}


def _meeting_of(org):
    from .conftest import meeting

    return meeting(org)


@pytest.fixture
def client(settings, store):
    app = create_app(settings.derived(public_url="https://strides.example.com", unsubscribe_secret=SECRET))
    app.state.clock = lambda: NOW
    return TestClient(app)


def test_one_click_post_opts_out_and_a_get_changes_nothing(client, store):
    path = "/unsubscribe/" + LINKS.token("p003", "digest")
    page = client.get(path)
    assert page.status_code == 200 and "Unsubscribe from the weekly digest?" in page.text
    with store.session() as session:
        assert preferences.get(session, "p003") is None
    done = client.post(
        path,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    with store.session() as session:
        assert preferences.get(session, "p003").opted_out == {"digest": f"{NOW.isoformat()} via one-click"}


def test_a_tampered_link_is_not_found(client):
    assert client.post("/unsubscribe/cDAwMw.AAAAAAAAAAAAAAAAAAAAAA").status_code == 404


def test_opted_out_and_paused_people_are_skipped_with_the_reason(loaded_store, builtin_rules, tmp_path):
    engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=7), NOW), NOW)
    with loaded_store.session() as session:
        rows = ledger.messages(session)
        digest_reader = next(r.recipient for r in rows if r.kind == "digest")
        on_leave = next(r.recipient for r in rows if r.recipient != digest_reader)
        preferences.opt_out(session, digest_reader, "digest", NOW, "admin")
        preferences.pause(session, on_leave, NOW - timedelta(days=1), NOW + timedelta(days=14), NOW)
    engine.deliver_due(loaded_store, OutboxTransport(tmp_path / "out"), SENDER, NOW, limit=10_000)
    with loaded_store.session() as session:
        rows = ledger.messages(session)
    digests = [r for r in rows if r.recipient == digest_reader and r.kind == "digest"]
    assert digests and all(
        r.status == "dead" and r.last_error.startswith("opted out of digest") for r in digests
    )
    others = [r for r in rows if r.recipient == digest_reader and r.kind != "digest"]
    assert all(r.status == "sent" for r in others)
    paused = [r for r in rows if r.recipient == on_leave]
    assert paused and {r.last_error for r in paused} == {"paused until 2026-12-14 12:00 UTC"}


def test_the_demo_signs_its_links_with_a_key_in_its_folder_that_strides_http_demo_checks(settings):
    from strides.config import DEMO_URL, UNSUBSCRIBE_KEY_FILE
    from strides.flows.demo import prepare
    from strides.integrations.unsubscribe import UnsubscribeLinks

    demo = settings.for_demo()
    store = prepare(demo, keep=False)
    key = (demo.state_dir / UNSUBSCRIBE_KEY_FILE).read_text()
    assert demo.public_url == DEMO_URL and demo.unsubscribe_key == key and len(key) >= 32
    app = create_app(settings.for_demo())
    app.state.clock = lambda: NOW
    path = "/unsubscribe/" + UnsubscribeLinks(DEMO_URL, key).token("p003", "email")
    done = TestClient(app).post(path, content="List-Unsubscribe=One-Click")
    assert done.status_code == 200
    with store.session() as session:
        assert "email" in preferences.get(session, "p003").opted_out
    forged = "/unsubscribe/" + UnsubscribeLinks(DEMO_URL, "another key").token("p003", "digest")
    assert TestClient(app).post(forged).status_code == 404
