"""Hostile or broken input: refused with a clear record, or escaped; never half-sent."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest

from strides import engine
from strides.domain.model import GoalStatus, Organisation
from strides.domain.schema import Kind
from strides.integrations.compose import outgoing
from strides.integrations.outbox import OutboxTransport
from strides.rules import Window
from strides.store import ledger, snapshot

from ..conftest import at
from .conftest import NOW as FIXED_NOW
from .conftest import SENDER, composed, intent

NOW = at("2026-11-30 12:00")
HOSTILE_TITLE = "<img src=x onerror=alert(1)> {{ 7*7 }} {% raw %}{{ config }}"
INJECTED_NAME = "Quinn\r\nBcc: everyone@corp.example"


def hostile(org: Organisation) -> Organisation:
    """The sample organisation with a header injection in a name and markup in a goal title."""
    goal = next(g for g in org.goals_of("p003") if g.status is GoalStatus.ACTIVE)
    people = {**org.people, "p002": org.people["p002"].model_copy(update={"name": INJECTED_NAME})}
    goals = {**org.goals, goal.id: goal.model_copy(update={"title": HOSTILE_TITLE})}
    # A new Organisation, not model_copy: its per-owner indexes are cached on the instance.
    return Organisation(people=people, goals=goals, milestones=org.milestones)


@pytest.fixture
def delivered(store, sample_org, builtin_rules, tmp_path):
    with store.session() as session:
        snapshot.save_organisation(session, hostile(sample_org))
    engine.plan_window(store, builtin_rules, Window(NOW - timedelta(days=7), NOW), NOW)
    outbox = tmp_path / "outbox"
    outcome = engine.deliver_due(store, OutboxTransport(outbox), SENDER, NOW, limit=10_000)
    with store.session() as session:
        rows = ledger.messages(session)
    return outcome, rows, outbox


def test_a_line_break_in_a_name_kills_that_message_with_the_reason_and_sends_nothing_for_it(delivered):
    _, rows, outbox = delivered
    to_quinn = [r for r in rows if r.recipient == "p002"]
    assert to_quinn and {r.status for r in to_quinn} == {"dead"}
    assert {r.last_error for r in to_quinn} == {
        f"cannot build: line break in the name of p002: {INJECTED_NAME!r}"
    }
    assert not [p for p in outbox.glob("*.eml") if "p002" in p.name]
    # Invites that merely name Quinn as an attendee go out: the name is body text and an escaped
    # calendar parameter (CN="Quinn^nBcc..."), never a header.
    others = [r for r in rows if r.recipient != "p002"]
    assert others and {r.status for r in others} == {"sent"}
    for path in outbox.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=default)
        assert message["Bcc"] is None
        assert not any("everyone@corp" in str(value) for value in message.values())


def test_markup_and_template_syntax_in_a_goal_title_arrive_as_text(sample_org):
    org = hostile(sample_org)
    digest = intent(Kind.DIGEST, "p003", "weekly-digest", "x")
    contents = composed(digest, org)
    item = outgoing(digest, org, SENDER, FIXED_NOW, digest=contents)
    data = outgoing(digest, org, SENDER, FIXED_NOW, with_data=True, digest=contents).template_data
    html = item.message.get_body(("html",)).get_content()
    text = item.message.get_body(("plain",)).get_content()
    assert "&lt;img src=x onerror=alert(1)&gt; {{ 7*7 }} {% raw %}{{ config }}" in html
    assert "<img src=x" not in html and "&gt; 49" not in html
    assert HOSTILE_TITLE in text
    assert any(goal["title"] == HOSTILE_TITLE for goal in (data or {})["goals"])


@pytest.mark.parametrize("address", ["bob@@example.com", "bob@exa mple.com", "bob@example"])
def test_an_invalid_address_is_refused_at_build_time(sample_org, address):
    person = sample_org.people["p003"].model_copy(update={"email": address})
    org = Organisation.model_construct(
        **{**dict(sample_org), "people": {**sample_org.people, "p003": person}}
    )
    with pytest.raises(ValueError, match="invalid address for p003"):
        outgoing(intent(Kind.EMAIL, "p003", "review-reminder", "Review"), org, SENDER, FIXED_NOW)


def test_an_oversized_message_is_dead_before_any_transport_sees_it(loaded_store, builtin_rules, tmp_path):
    engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=7), NOW), NOW)
    outbox = tmp_path / "outbox"
    outcome = engine.deliver_due(
        loaded_store, OutboxTransport(outbox), SENDER, NOW, limit=50, max_bytes=3_000
    )
    with loaded_store.session() as session:
        dead = ledger.messages(session, status="dead")
    assert dead and all("bytes, over the 3000-byte limit" in r.last_error for r in dead)
    assert len(outcome.failed) == len(dead)
    assert len(dead) == 50 and outcome.sent == [] and not outbox.exists()
