"""Invites and their MIME: parsed back with the standard library and icalendar."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from strides.domain.schema import Kind
from strides.integrations.calendar_invite import InviteSpec, Party, build_ics
from strides.integrations.compose import Sender, compose
from strides.integrations.outbox import OutboxTransport
from strides.rules import Window, plan
from strides.rules.digest import compose_digest

from .conftest import at

SENDER = Sender("growth@acme.example", "Acme Growth", "Room 4 / https://meet.example/acme")


def parse_calendar(data: bytes) -> icalendar.Calendar:
    calendar = icalendar.Calendar.from_ical(data)
    errors = [(c.name, c.errors) for c in calendar.walk() if c.errors]
    assert errors == [], f"icalendar found component errors: {errors}"
    return calendar


@pytest.fixture(scope="module")
def invite_intent(sample_org, builtin_rules):
    window = Window(at("2026-12-01 00:00"), at("2026-12-02 00:00"))
    intents = [
        i for i in plan(builtin_rules, sample_org, window).intents if i.rule_id == "monthly-mentor-checkin"
    ]
    assert intents
    return intents[0]


def test_invite_email_has_the_shape_real_organisers_send(sample_org, invite_intent, tmp_path):
    message = compose(invite_intent, sample_org, SENDER, at("2026-12-01 06:00"))
    ref = OutboxTransport(tmp_path).send(invite_intent.key, message, "invite")
    parsed = email.message_from_bytes(Path(ref).read_bytes(), policy=policy.default)

    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    calendar_part = alternative.get_payload()[2]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_charset() == "utf-8"
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content() == calendar_part.get_content().encode()
    assert parsed["Message-ID"] == f"<{invite_intent.key}@acme.example>"
    assert parsed["To"].addresses[0].addr_spec == str(sample_org.people[invite_intent.recipient].email)


def test_invite_calendar_is_a_valid_itip_request(sample_org, invite_intent):
    message = compose(invite_intent, sample_org, SENDER, at("2026-12-01 06:00"))
    ics = next(p for p in message.walk() if p.get_content_type() == "text/calendar").get_content().encode()
    calendar = parse_calendar(ics)
    assert calendar["METHOD"] == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    meeting = invite_intent.meeting
    assert str(event["UID"]) == meeting.uid
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
    start = event.decoded("DTSTART")
    assert start == meeting.start and start.tzinfo.key == meeting.timezone
    assert event["DTSTART"].params["TZID"] == meeting.timezone
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == [meeting.timezone]
    assert str(event["ORGANIZER"]) == "mailto:growth@acme.example"
    attendees = event["ATTENDEE"]
    assert len(attendees) == len(meeting.attendees) == 2
    for attendee in attendees:
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["RSVP"] == "TRUE"
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
        assert attendee.params["CN"]
    assert str(event["LOCATION"]) == SENDER.location
    assert "monthly conversation" in str(event["DESCRIPTION"])


def test_every_attendee_gets_the_same_uid(sample_org, builtin_rules):
    window = Window(at("2026-12-01 00:00"), at("2026-12-02 00:00"))
    checkins = [
        i for i in plan(builtin_rules, sample_org, window).intents if i.rule_id == "monthly-mentor-checkin"
    ]
    by_uid: dict[str, set[str]] = {}
    for intent in checkins:
        by_uid.setdefault(intent.meeting.uid, set()).add(intent.recipient)
    assert all(len(people) == 2 for people in by_uid.values())


def test_an_invite_without_an_iana_zone_is_refused():
    start = at("2026-12-01 10:00")  # a plain UTC offset, no IANA zone
    spec = InviteSpec("u@x", "s", "", start, start + timedelta(minutes=30), Party("o", "o@x.example"), ())
    with pytest.raises(ValueError, match="IANA zone"):
        build_ics(spec, stamp=start)


def test_vtimezone_is_narrow():
    berlin = ZoneInfo("Europe/Berlin")
    start = at("2026-12-01 10:00").astimezone(berlin)
    spec = InviteSpec("u@x", "s", "", start, start + timedelta(minutes=30), Party("o", "o@x.example"), ())
    calendar = parse_calendar(build_ics(spec, stamp=start))
    (zone,) = calendar.walk("VTIMEZONE")
    # A two-year range, not 1970-2038: a handful of transitions.
    assert 2 <= len(zone.subcomponents) <= 8


def test_digest_and_notice_are_text_and_html(sample_org, builtin_rules):
    window = Window(at("2026-11-30 00:00"), at("2026-12-07 00:00"))
    intents = plan(builtin_rules, sample_org, window).intents
    for kind in (Kind.DIGEST, Kind.EMAIL):
        intent = next(i for i in intents if i.kind is kind)
        person = sample_org.people[intent.recipient]
        digest = compose_digest(person, sample_org, intent.occurrence) if kind is Kind.DIGEST else None
        message = compose(intent, sample_org, SENDER, intent.send_at, digest=digest)
        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.get_payload()] == ["text/plain", "text/html"]


def test_html_in_a_goal_title_is_escaped(sample_org, builtin_rules):
    window = Window(at("2026-11-30 00:00"), at("2026-12-07 00:00"))
    intent = next(i for i in plan(builtin_rules, sample_org, window).intents if i.kind is Kind.DIGEST)
    person = sample_org.people[intent.recipient]
    goal = next(g for g in sample_org.goals.values() if g.owner == person.id and g.status.value == "active")
    evil = goal.model_copy(update={"title": "<script>alert(1)</script> & more"})
    org = sample_org.model_copy(update={"goals": {**sample_org.goals, goal.id: evil}})
    digest = compose_digest(org.people[person.id], org, intent.occurrence)
    message = compose(intent, org, SENDER, intent.send_at, digest=digest)
    html = message.get_payload()[1].get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
