"""Attendees' replies (iMIP REPLY) are recorded on the right meeting, or rejected with a reason."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from strides.engine.deliver import upcoming_meetings
from strides.integrations.itip_reply import ReplyError, replies_from_file
from strides.integrations.org_changes import OrgChange
from strides.store import invites, snapshot
from strides.store.tables import InviteRow

from ..conftest import FIXTURES

REPLIES = FIXTURES / "invites"
UID = "4a8fd24a8d743eddc1b1127ef91c16a7@strides"  # the goal review of g00002 (deadline-review-meeting)


@pytest.fixture
def moved_review(simulation):
    """The review of g00002 invited on Dec 1 and moved (SEQUENCE 1) on Dec 5."""
    simulation.tick(5)
    simulation.change(OrgChange(day=date(2026, 12, 5), goal="g00002", set={"deadline": "2026-12-30"}))
    simulation.tick(1)
    return simulation


def record(simulation, name: str) -> list[invites.ReplyOutcome]:
    replies = replies_from_file((REPLIES / name).read_bytes(), name)
    with simulation.store.session() as session:
        return [invites.record_reply(session, reply) for reply in replies]


def partstats(simulation) -> dict[str, str]:
    with simulation.store.session() as session:
        row = session.get(InviteRow, UID)
        assert row is not None
        return {a["id"]: a["partstat"] for a in row.attendees}


@pytest.mark.parametrize(
    ("name", "attendee", "partstat"),
    [
        ("reply-declined-gmail.eml", "quinn.bauer.p002@example.com", "DECLINED"),
        ("reply-accepted-outlook.eml", "chen.laurent.p001@example.com", "ACCEPTED"),
        ("inbound-parse-raw.form", "quinn.bauer.p002@example.com", "DECLINED"),
        ("inbound-parse-parsed.form", "chen.laurent.p001@example.com", "TENTATIVE"),
    ],
)
def test_replies_are_read_from_emails_and_inbound_parse_posts(name, attendee, partstat):
    [reply] = replies_from_file((REPLIES / name).read_bytes(), name)
    assert (reply.uid, reply.sequence, reply.attendee, reply.partstat) == (UID, 1, attendee, partstat)


def test_a_calendar_inline_and_attached_counts_once():
    replies = replies_from_file((REPLIES / "reply-declined-gmail.eml").read_bytes(), "gmail")
    assert len(replies) == 1 and replies[0].comment == "On holiday that week"


def test_a_message_that_is_not_a_reply_is_refused():
    with pytest.raises(ReplyError, match="METHOD is REQUEST, not REPLY"):
        replies_from_file((REPLIES / "not-a-reply.eml").read_bytes(), "not-a-reply.eml")


def test_a_decline_and_an_accept_are_recorded_per_attendee(moved_review):
    [declined] = record(moved_review, "reply-declined-gmail.eml")
    [accepted] = record(moved_review, "reply-accepted-outlook.eml")
    assert declined.applied and accepted.applied
    assert (declined.person, accepted.person) == ("p002", "p001")
    assert partstats(moved_review) == {"p002": "DECLINED", "p001": "ACCEPTED"}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("reply-unknown-uid.eml", "no meeting with UID 0123456789abcdef@elsewhere.example"),
        ("reply-not-an-attendee.eml", "uma.xu.p009@example.com is not an attendee of"),
        ("reply-outdated.eml", "answers an outdated version (SEQUENCE 0;"),
    ],
)
def test_replies_that_match_no_meeting_or_attendee_are_rejected_with_the_reason(moved_review, name, reason):
    [outcome] = record(moved_review, name)
    assert not outcome.applied
    assert reason in outcome.reason
    assert partstats(moved_review) == {"p002": "NEEDS-ACTION", "p001": "NEEDS-ACTION"}


def test_a_reply_older_than_the_recorded_one_does_not_overwrite_it(moved_review):
    record(moved_review, "inbound-parse-parsed.form")  # Chen: maybe, at 11:00
    [older] = record(moved_review, "reply-accepted-outlook.eml")  # Chen: yes, at 10:00
    assert not older.applied and "older than the reply already recorded" in older.reason
    assert partstats(moved_review)["p001"] == "TENTATIVE"


def test_a_meeting_that_moves_asks_again(moved_review):
    record(moved_review, "reply-declined-gmail.eml")
    moved_review.change(OrgChange(day=date(2026, 12, 6), goal="g00002", set={"deadline": "2027-01-06"}))
    moved_review.tick(1)
    assert partstats(moved_review) == {"p002": "NEEDS-ACTION", "p001": "NEEDS-ACTION"}


def test_the_digest_tells_who_declined_to_pick_another_time(moved_review):
    record(moved_review, "reply-declined-gmail.eml")
    a_week_later = moved_review.now + timedelta(days=7)  # the review (Dec 23) is within the digest's view
    with moved_review.store.session() as session:
        org = snapshot.load_organisation(session)
        lines = upcoming_meetings(session, org, {"p002"}, a_week_later)["p002"]
    assert any(
        "Write the data-quality playbook" in line and "you declined: pick another time" in line
        for line in lines
    )


def test_rsvp_command_records_and_rejects_with_exit_3_and_meetings_lists_declines(moved_review, settings):
    from strides.cli import app

    runner = CliRunner()
    state = ["--state-dir", str(settings.state_dir)]
    files = [str(REPLIES / "reply-declined-gmail.eml"), str(REPLIES / "reply-unknown-uid.eml")]
    result = runner.invoke(app, [*state, "rsvp", *files, "--json"])
    assert result.exit_code == 3, result.output
    assert '"recorded": true' in result.output and "no meeting with UID" in result.output
    listed = runner.invoke(app, [*state, "meetings", "--declined", "--json"])
    assert listed.exit_code == 0, listed.output
    assert UID in listed.output and '"partstat": "DECLINED"' in listed.output


def test_sendgrid_inbound_parse_posts_are_recorded_behind_a_secret_url(moved_review, settings):
    from pydantic import SecretStr

    from strides.http.app import create_app

    from .conftest import serve

    app = create_app(settings.derived(inbound_secret=SecretStr("s3cret-path")))
    body = (REPLIES / "inbound-parse-raw.form").read_bytes()
    form = {"Content-Type": "multipart/form-data; boundary=xYzZY"}
    with serve(app) as client:
        assert client.request("/inbound/replies/guess", form, body)[0] == 404
        status, _, answer = client.request("/inbound/replies/s3cret-path", form, body)
        assert status == 200, answer
        assert json.loads(answer)["recorded"] == 1
        unknown = (REPLIES / "inbound-parse-parsed.form").read_bytes().replace(b"4a8fd24a", b"00000000")
        status, _, answer = client.request("/inbound/replies/s3cret-path", form, unknown)
        assert status == 200 and "no meeting with UID" in answer.decode()
    assert partstats(moved_review)["p002"] == "DECLINED"


def test_a_reply_sent_by_anyone_but_the_attendee_or_stamped_in_the_future_changes_nothing(moved_review):
    from dataclasses import replace
    from datetime import UTC, datetime

    [reply] = replies_from_file((REPLIES / "reply-declined-gmail.eml").read_bytes(), "gmail")
    before = partstats(moved_review)
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    with moved_review.store.session() as session:
        forged = invites.record_reply(session, replace(reply, sender="mallory@elsewhere.example"), now)
        ahead = invites.record_reply(session, replace(reply, stamp=datetime(2099, 1, 1, tzinfo=UTC)), now)
    assert not forged.applied and forged.reason == (
        "sent by mallory@elsewhere.example, not by the attendee quinn.bauer.p002@example.com"
    )
    assert not ahead.applied and ahead.reason == "stamped 2099-01-01T00:00:00+00:00, in the future"
    assert partstats(moved_review) == before
    # The attendee's own, later reply still counts: the future stamp blocked nothing.
    with moved_review.store.session() as session:
        assert invites.record_reply(session, reply, now).applied


def test_an_inbound_reply_whose_domain_did_not_vouch_for_it_is_rejected(moved_review, settings):
    from pydantic import SecretStr

    from strides.http.app import create_app

    from .conftest import serve

    app = create_app(settings.derived(inbound_secret=SecretStr("s3cret-path")))
    body = (REPLIES / "inbound-parse-raw.form").read_bytes()
    # The same post as the Inbound Parse fixture, with SPF and DKIM failed.
    failed = body.replace(b"{@example.com : pass}", b"{@example.com : fail}")
    failed = failed.replace(b'name="SPF"\r\n\r\npass', b'name="SPF"\r\n\r\nfail')
    assert failed.count(b"fail") == 2
    form = {"Content-Type": "multipart/form-data; boundary=xYzZY"}
    before = partstats(moved_review)
    with serve(app) as client:
        status, _, answer = client.request("/inbound/replies/s3cret-path", form, failed)
    assert status == 200 and json.loads(answer) == {
        "recorded": 0,
        "rejected": [
            {"reason": "the sender's domain did not vouch for it (SPF fail, DKIM {@example.com : fail})"}
        ],
    }
    assert partstats(moved_review) == before
