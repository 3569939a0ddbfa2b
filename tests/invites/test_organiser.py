"""A rule names the organiser of its invites: a role or an address, else the configured sender."""

from __future__ import annotations

import email
from datetime import timedelta
from email.message import Message
from email.policy import default
from pathlib import Path

import pytest
from icalendar import Calendar

from strides import engine
from strides.domain.model import Organisation
from strides.integrations.org_files import load_organisation
from strides.integrations.outbox import OutboxTransport
from strides.integrations.rule_files import load_rules
from strides.rules import Window, plan
from strides.store import Store, invites, snapshot

from ..conftest import FIXTURES, at
from .conftest import SENDER

RULES = FIXTURES / "rules-organiser"
# g-ben (ben in New York; manager ana, mentor cara) is due 2026-12-18.
START, END = at("2026-12-07 00:00"), at("2026-12-11 00:00")


@pytest.fixture(scope="module")
def small_org() -> Organisation:
    loaded = load_organisation(FIXTURES / "org-small")
    assert loaded.ok, loaded.rejected
    return loaded.organisation


def _for(org: Organisation, rule: str) -> dict[str, object]:
    result = plan(load_rules(RULES), org, Window(START, END))
    return {i.recipient: i.meeting for i in result.intents if i.rule_id == rule and i.subject == "goal:g-ben"}


def test_the_organiser_is_resolved_by_role_and_joins_the_attendees(small_org: Organisation) -> None:
    by_manager = _for(small_org, "review-by-manager")
    assert set(by_manager) == {"ben", "ana"}  # the manager organises, so their calendar holds it
    assert {m.organiser for m in by_manager.values()} == {"ana"}
    assert {m.attendees for m in by_manager.values()} == {("ben", "ana")}
    by_mentor = _for(small_org, "checkin-by-mentor")
    assert {m.attendees for m in by_mentor.values()} == {("ben", "cara")}  # already an attendee
    by_team = _for(small_org, "clinic-by-team")
    assert {m.organiser for m in by_team.values()} == {"growth-team@example.com"}


def test_a_missing_organiser_falls_back_to_the_sender_and_says_so(
    small_org: Organisation, tmp_path: Path
) -> None:
    (tmp_path / "r.yaml").write_text(
        "rules:\n"
        "  - id: solo-review\n"
        "    trigger: {anchor: goal.deadline, offsets: [-7d], at: '10:00'}\n"
        "    action: {kind: invite, to: [owner], organiser: mentor, title: Review, lead: 3d}\n"
    )
    people = {**small_org.people, "ben": small_org.people["ben"].model_copy(update={"mentors": ()})}
    result = plan(load_rules(tmp_path), small_org.model_copy(update={"people": people}), Window(START, END))
    assert [(f.subject, f.reason) for f in result.fallbacks] == [
        ("goal:g-ben", "ben has no mentor to organise the meeting; the sender instead")
    ]
    assert {(i.recipient, i.meeting.organiser) for i in result.intents if i.meeting} == {("ben", None)}


def _calendar(path: str) -> Calendar:
    message: Message = email.message_from_bytes(Path(path).read_bytes(), policy=default)
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return Calendar.from_ical(part.get_payload(decode=True))


@pytest.fixture
def delivered(store: Store, small_org: Organisation, tmp_path: Path) -> dict[tuple[str, str], Calendar]:
    with store.session() as session:
        snapshot.save_organisation(session, small_org)
    engine.plan_window(store, load_rules(RULES), Window(START, END), END)
    found: dict[tuple[str, str], Calendar] = {}
    # Delivered day by day, as ticks would: placement moves the Saturday check-in to Thursday
    # evening, which an invite delivered only at END would reach after it began.
    for days in range(1, 5):
        outcome = engine.deliver_due(
            store, OutboxTransport(tmp_path), SENDER, START + timedelta(days=days), limit=100
        )
        assert outcome.failed == [] and outcome.held_back == []
        found.update({(s.rule_id, s.recipient): _calendar(s.ref) for s in outcome.sent})
    return found


def test_organizer_and_attendees_follow_the_itip_rules(delivered: dict[tuple[str, str], Calendar]) -> None:
    for (rule, _), calendar in delivered.items():
        event = calendar.walk("VEVENT")[0]
        organiser = event["ORGANIZER"]
        attendees = {str(a): a.params for a in event.get("ATTENDEE")}
        expected = {
            "review-by-manager": "mailto:ana@example.com",
            "checkin-by-mentor": "mailto:cara@example.com",
            "clinic-by-team": "mailto:growth-team@example.com",
        }[rule]
        # Replies go to the organiser; the organiser is an attendee who is not asked to answer.
        assert str(organiser) == expected
        assert organiser.params["SENT-BY"] == "mailto:growth@strides.example"  # on their behalf
        assert organiser.params["CN"] == {
            "review-by-manager": "Ana Alves",
            "checkin-by-mentor": "Cara Chiba",
        }.get(rule, "Growth Team")
        chair = attendees[expected]
        assert (chair["ROLE"], chair["PARTSTAT"], chair["RSVP"]) == ("CHAIR", "ACCEPTED", "FALSE")
        others = [p for address, p in attendees.items() if address != expected]
        assert others and all((p["PARTSTAT"], p["RSVP"]) == ("NEEDS-ACTION", "TRUE") for p in others)
    assert set(delivered) == {
        ("review-by-manager", "ben"),
        ("review-by-manager", "ana"),
        ("checkin-by-mentor", "ben"),
        ("checkin-by-mentor", "cara"),
        ("clinic-by-team", "ben"),
        ("clinic-by-team", "growth-team@example.com"),
    }


def test_the_store_remembers_the_organiser_as_accepted_and_a_new_organiser_updates_the_meeting(
    store: Store, small_org: Organisation, delivered: dict[tuple[str, str], Calendar], tmp_path: Path
) -> None:
    with store.session() as session:
        (row,) = [r for r in invites.meetings(session) if r.rule_id == "review-by-manager"]
        assert row.organiser == "ana"
        assert [(a["id"], a["partstat"]) for a in row.attendees] == [
            ("ben", "NEEDS-ACTION"),
            ("ana", "ACCEPTED"),
        ]
    # The rule now says the mentor organises: SEQUENCE 1 to everyone, a CANCEL to the manager.
    changed = tmp_path / "changed"
    changed.mkdir()
    text = (RULES / "organised.yaml").read_text().replace("organiser: manager", "organiser: mentor")
    (changed / "organised.yaml").write_text(text)
    later = END + timedelta(hours=1)
    engine.plan_window(store, load_rules(changed), Window(END, later), later)
    outcome = engine.deliver_due(store, OutboxTransport(tmp_path / "outbox"), SENDER, later, limit=100)
    sent = {s.recipient: _calendar(s.ref) for s in outcome.sent if s.rule_id == "review-by-manager"}
    assert set(sent) == {"ben", "cara", "ana"}
    methods = {who: (str(c["METHOD"]), int(c.walk("VEVENT")[0]["SEQUENCE"])) for who, c in sent.items()}
    assert methods == {"ben": ("REQUEST", 1), "cara": ("REQUEST", 1), "ana": ("CANCEL", 1)}
    assert str(sent["ben"].walk("VEVENT")[0]["ORGANIZER"]) == "mailto:cara@example.com"
