"""Each person's calendar feed: their upcoming meetings, behind a revocable token, with caching.

Every request goes over a real socket to uvicorn on 127.0.0.1, as a calendar app's would.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from icalendar import Calendar

from strides.http.app import create_app
from strides.integrations.org_changes import OrgChange
from strides.store import feed_tokens

from .conftest import serve

REVIEW_UID = "4a8fd24a8d743eddc1b1127ef91c16a7@strides"  # g00002's review, moved to Dec 23 on Dec 5


@pytest.fixture
def served(simulation, settings):
    """Six simulated days (the review of g00002 invited and moved), an app and Quinn's token."""
    simulation.tick(5)
    simulation.change(OrgChange(day=date(2026, 12, 5), goal="g00002", set={"deadline": "2026-12-30"}))
    simulation.tick(1)
    app = create_app(settings)
    app.state.clock = lambda: simulation.now
    with simulation.store.session() as session:
        token = feed_tokens.issue(session, "p002", simulation.now)
    with serve(app) as client:
        yield simulation, client, token


def test_the_feed_is_a_valid_calendar_of_the_persons_upcoming_meetings(served):
    simulation, client, token = served
    status, headers, body = client.get(f"/feeds/{token}.ics")
    assert status == 200
    assert headers["content-type"] == "text/calendar; charset=utf-8"
    assert headers["cache-control"] == "private, max-age=3600"
    calendar = Calendar.from_ical(body)
    assert calendar.errors == [] and all(e.errors == [] for e in calendar.events)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in body and b"X-PUBLISHED-TTL:PT1H" in body
    events = {str(e["UID"]): e for e in calendar.events}
    review = events[REVIEW_UID]
    assert int(review["SEQUENCE"]) == 1
    assert review.start.date() == date(2026, 12, 23)
    assert str(review["DTSTART"].params["TZID"]) == "Europe/London"
    assert all(e.start > simulation.now - timedelta(days=1) for e in calendar.events)
    assert "ATTENDEE" not in review  # a published feed, not a scheduling message


def test_an_unchanged_feed_answers_304_to_its_etag(served):
    _, client, token = served
    _, headers, _ = client.get(f"/feeds/{token}.ics")
    status, _, body = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")
    assert client.get(f"/feeds/{token}.ics")[1]["etag"] == headers["etag"]  # a deterministic body


def test_a_cancelled_meeting_leaves_the_feed_and_changes_the_etag(served):
    simulation, client, token = served
    _, before, _ = client.get(f"/feeds/{token}.ics")
    simulation.change(OrgChange(day=date(2026, 12, 6), goal="g00002", set={"status": "dropped"}))
    simulation.tick(1)
    status, _, body = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": before["etag"]})
    assert status == 200
    assert REVIEW_UID not in {str(e["UID"]) for e in Calendar.from_ical(body).events}


def test_unknown_rotated_and_revoked_tokens_answer_404(served):
    simulation, client, token = served
    assert client.get("/feeds/not-a-token.ics")[0] == 404
    with simulation.store.session() as session:
        rotated = feed_tokens.issue(session, "p002", simulation.now)
    assert client.get(f"/feeds/{token}.ics")[0] == 404
    assert client.get(f"/feeds/{rotated}.ics")[0] == 200
    with simulation.store.session() as session:
        assert feed_tokens.revoke(session, "p002", simulation.now) == 1
    assert client.get(f"/feeds/{rotated}.ics")[0] == 404


def test_icaljs_reads_the_feed(served, tmp_path):
    import json
    import subprocess

    from ..conftest import FIXTURES, ROOT
    from ..tools import node_module, require

    require(node_module("ical.js"), "Node.js with ical.js (make tools)")
    _, client, token = served
    feed = tmp_path / "feed.ics"
    feed.write_bytes(client.get(f"/feeds/{token}.ics")[2])
    script = FIXTURES / "icaljs-check.mjs"  # resolves ical.js from the project's node_modules
    answer = subprocess.run(["node", str(script), str(feed)], capture_output=True, check=True, cwd=ROOT)
    [result] = json.loads(answer.stdout)
    assert result["ok"] and result["method"] == "PUBLISH", result


def test_a_feed_reads_its_persons_record_and_meetings_and_nobody_elses(served):
    from sqlalchemy import event, select

    from strides.store import invites
    from strides.store.tables import InviteRow

    simulation, _, _ = served
    store = simulation.store
    with store.session() as session:
        everyone = list(session.scalars(select(InviteRow)))
        # The attendee index gives what scanning every meeting's attendees gives, for each person.
        for person in {a["id"] for row in everyone for a in row.attendees}:
            scanned = sorted(r.uid for r in everyone if any(a["id"] == person for a in r.attendees))
            assert sorted(r.uid for r in invites.meetings(session, person=person)) == scanned
    from strides.http.feed import feed_bytes

    statements: list[str] = []
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        assert feed_bytes(store, "p002", simulation.now, None)
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in reads if "FROM goals" in s or "FROM milestones" in s]
    assert all("WHERE" in s for s in reads), "every read is narrowed to the person"
    assert any("invite_attendees" in s for s in reads)
