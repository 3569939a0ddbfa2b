"""A rule's fixed address is delivered like a person: plan, ledger, outbox, a mail client's view."""

from __future__ import annotations

import email
from datetime import timedelta
from email.message import Message
from email.policy import default
from pathlib import Path

import pytest
from icalendar import Calendar

from strides import engine
from strides.integrations.org_files import load_organisation
from strides.integrations.outbox import OutboxTransport
from strides.integrations.rule_files import load_rules
from strides.rules import Window
from strides.store import Store, ledger, snapshot, suppressions

from ..conftest import FIXTURES, at
from .conftest import SENDER

RULES = FIXTURES / "rules-fixed"
# g-ben (owner ben, America/New_York) is due 2026-12-18: the review on Dec 11 at 10:00 New York,
# invited 3 days ahead; the heads-up on Dec 15 at 09:00 New York.
START, END = at("2026-12-07 00:00"), at("2026-12-16 00:00")


@pytest.fixture
def small_store(store: Store) -> Store:
    loaded = load_organisation(FIXTURES / "org-small")
    assert loaded.ok, loaded.rejected
    with store.session() as session:
        snapshot.save_organisation(session, loaded.organisation)
    return store


def _plan_and_deliver(store: Store, outbox: Path) -> engine.DeliveryOutcome:
    engine.plan_window(store, load_rules(RULES), Window(START, END), END)
    return engine.deliver_due(store, OutboxTransport(outbox), SENDER, END, limit=100)


def _read(path: str) -> Message:
    return email.message_from_bytes(Path(path).read_bytes(), policy=default)


def _calendar(message: Message) -> Calendar:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return Calendar.from_ical(part.get_payload(decode=True))


def test_a_fixed_address_gets_the_invite_as_an_attendee_and_the_notice_in_the_owners_time(
    small_store: Store, tmp_path: Path
) -> None:
    outcome = _plan_and_deliver(small_store, tmp_path / "outbox")
    assert outcome.failed == []
    sent = {(s.rule_id, s.recipient): s for s in outcome.sent}
    assert set(sent) == {
        ("talk-review", "ben"),
        ("talk-review", "growth-team@example.com"),
        ("hr-heads-up", "hr.people@example.com"),
    }

    invite = _read(sent["talk-review", "growth-team@example.com"].ref)
    assert invite["To"] == "Growth Team <growth-team@example.com>"
    assert invite["Subject"] == "Invitation: Review: Give a tech talk"
    event = _calendar(invite).walk("VEVENT")[0]
    attendees = {str(a): a.params for a in event.get("ATTENDEE")}
    assert set(attendees) == {"mailto:ben@example.com", "mailto:growth-team@example.com"}
    team = attendees["mailto:growth-team@example.com"]
    assert (team["CN"], team["RSVP"], team["PARTSTAT"]) == ("Growth Team", "TRUE", "NEEDS-ACTION")
    # The team sees the meeting at the owner's local time, in the owner's zone.
    text = invite.get_body(("plain",)).get_content()
    assert "Friday 11 December 2026, 10:00 (America/New_York)" in text

    notice = _read(sent["hr-heads-up", "hr.people@example.com"].ref)
    assert notice["To"] == "Hr People <hr.people@example.com>"
    assert notice["X-Strides-Person"] == "hr.people@example.com"
    assert notice["Subject"] == "Heads-up: Give a tech talk is due soon"
    with small_store.session() as session:
        (row,) = ledger.messages(session, rule="hr-heads-up")
    assert row.send_at == at("2026-12-15 14:00")  # 09:00 in New York
    assert row.payload["owner"] == "ben"


def test_a_suppressed_fixed_address_is_not_mailed_and_says_why(small_store: Store, tmp_path: Path) -> None:
    with small_store.session() as session:
        suppressions.suppress(session, "HR.People@example.com", "bounce", "mailbox full", None, START)
    outcome = _plan_and_deliver(small_store, tmp_path / "outbox")
    (held,) = outcome.held_back
    assert held[1].startswith("suppressed: bounce on 2026-12-07") and outcome.failed == []
    assert {s.recipient for s in outcome.sent} == {"ben", "growth-team@example.com"}


def test_a_bad_fixed_address_in_the_ledger_is_dead_not_sent(small_store: Store, tmp_path: Path) -> None:
    engine.plan_window(small_store, load_rules(RULES), Window(START, END), END)
    with small_store.session() as session:
        (row,) = ledger.messages(session, rule="hr-heads-up")
        # A hand-edited store (or an older schema) can hold anything: compose checks again.
        row.recipient = row.recipient_email = "hr..people@example.com"
    outcome = engine.deliver_due(small_store, OutboxTransport(tmp_path), SENDER, END, limit=100)
    (failed,) = outcome.failed
    assert failed[1].startswith("cannot build: invalid address for hr..people@example.com")
    assert len(outcome.sent) == 2


def test_a_moved_deadline_updates_the_fixed_address_too(small_store: Store, tmp_path: Path) -> None:
    rules, outbox = load_rules(RULES), OutboxTransport(tmp_path)
    first = at("2026-12-10 00:00")
    engine.plan_window(small_store, rules, Window(START, first), first)
    engine.deliver_due(small_store, outbox, SENDER, first, limit=100)
    with small_store.session() as session:
        org = snapshot.load_organisation(session)
        goal = org.goals["g-ben"]
        # Three days later: the review moves from Friday to Monday (a day later would be a
        # Saturday, which placement keeps on Friday, where the meeting already is).
        moved = goal.model_copy(update={"deadline": goal.deadline + timedelta(days=3)})
        snapshot.save_organisation(session, org.model_copy(update={"goals": {**org.goals, "g-ben": moved}}))
    later = first + timedelta(hours=1)
    engine.plan_window(small_store, rules, Window(first, later), later)
    outcome = engine.deliver_due(small_store, outbox, SENDER, later, limit=100)
    updates = {s.recipient: _calendar(_read(s.ref)) for s in outcome.sent if s.rule_id == "talk-review"}
    assert set(updates) == {"ben", "growth-team@example.com"}
    events = [c.walk("VEVENT")[0] for c in updates.values()]
    assert {int(e["SEQUENCE"]) for e in events} == {1}
    assert {e.decoded("DTSTART").isoformat() for e in events} == {"2026-12-14T10:00:00-05:00"}
