"""Delivery fixtures: the sample organisation's messages of every kind, and real servers to take them."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from strides.domain.model import Organisation
from strides.domain.schema import Kind
from strides.integrations.calendar_invite import InviteSpec, Party, build_ics
from strides.integrations.compose import Sender, outgoing
from strides.integrations.mime import Envelope, invite_message
from strides.integrations.transport import Outgoing
from strides.rules.digest import Digest, compose_digest
from strides.rules.intents import Intent, Meeting
from strides.rules.keys import meeting_uid, message_key, occurrence_name

from ..conftest import FIXTURES, ROOT
from ..tools import require

SENDER = Sender("growth@strides.example", "strides growth")
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
SPEC = FIXTURES / "sendgrid" / "tsg_mail_v3.prism-validation.json"
PRISM = ROOT / "node_modules" / ".bin" / "prism"


def intent(kind: Kind, recipient: str, rule: str, title: str, meeting: Meeting | None = None) -> Intent:
    occurrence = NOW
    return Intent(
        key=message_key(rule, recipient, occurrence, recipient),
        rule_id=rule,
        kind=kind,
        subject=recipient,
        occurrence=occurrence,
        recipient=recipient,
        send_at=occurrence,
        title=title,
        body="Half an hour to look at your goals together." if kind is not Kind.DIGEST else "",
        meeting=meeting,
    )


def composed(item: Intent, org: Organisation) -> Digest | None:
    """What a digest intent shows, as the engine composes it before the edge renders it."""
    if item.kind is not Kind.DIGEST:
        return None
    return compose_digest(org.people[item.recipient], org, item.occurrence)


def meeting(org: Organisation) -> Meeting:
    zone = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 12, 3, 10, 0, tzinfo=zone)
    return Meeting(
        uid=meeting_uid("checkin", "person:p002", occurrence_name(day=start.date())),
        start=start,
        end=start + timedelta(minutes=30),
        timezone="Europe/Berlin",
        attendees=("p002", "p001"),
    )


def cancel_of(org: Organisation, item: Intent) -> Outgoing:
    """The CANCEL for an invite: same UID, SEQUENCE + 1, METHOD:CANCEL on the part and the calendar."""
    assert item.meeting is not None
    attendees = tuple(Party(org.people[a].name, str(org.people[a].email)) for a in item.meeting.attendees)
    spec = InviteSpec(
        uid=item.meeting.uid,
        summary=item.title,
        description=item.body,
        start=item.meeting.start,
        end=item.meeting.end,
        organiser=Party(SENDER.name, SENDER.email, "CHAIR"),
        attendees=attendees,
        sequence=1,
    )
    person = org.people[item.recipient]
    user, domain = str(person.email).rsplit("@", 1)
    from email.headerregistry import Address

    envelope = Envelope(
        sender=SENDER.address,
        to=Address(person.name, user, domain),
        subject=f"Cancelled: {item.title}",
        message_id=f"<cancel-{item.key}@{SENDER.domain}>",
        date=NOW,
        headers=(("X-Strides-Key", "cancel-" + item.key), ("X-Strides-Rule", item.rule_id)),
    )
    message = invite_message(
        envelope, "Cancelled.", "<p>Cancelled.</p>", build_ics(spec, stamp=NOW, method="CANCEL"), "CANCEL"
    )
    return Outgoing("cancel-" + item.key, message, "cancel", None)


@pytest.fixture(scope="session")
def outgoing_by_kind(sample_org: Organisation) -> dict[str, Outgoing]:
    """One finished message of each kind SendGrid must accept, built by strides' own composer."""
    invite = intent(Kind.INVITE, "p002", "mentor-checkin", "Check-in with Chen", meeting(sample_org))
    digest = intent(Kind.DIGEST, "p001", "weekly-digest", "Weekly digest")
    notice = intent(Kind.EMAIL, "p003", "review-reminder", "Your review is in two weeks")
    contents = composed(digest, sample_org)
    rendered = outgoing(digest, sample_org, SENDER, NOW, ["Check-in: Thursday"], digest=contents)
    as_data = outgoing(
        digest, sample_org, SENDER, NOW, ["Check-in: Thursday"], with_data=True, digest=contents
    )
    return {
        # Rendered (MIME and content) and, for template modes, the same digest as data.
        "digest": replace(rendered, template_data=as_data.template_data),
        "notification": outgoing(notice, sample_org, SENDER, NOW),
        "invite": outgoing(invite, sample_org, SENDER, NOW),
        "cancel": cancel_of(sample_org, invite),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prism serving SendGrid's own OpenAPI description on 127.0.0.1; yields its base URL."""
    require(PRISM.exists() and shutil.which("node"), "Prism is not installed (make test installs it via npm)")
    port = free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(PRISM), "mock", str(SPEC), "-h", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"Prism exited: {log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"Prism did not listen within 60 s: {log.read_text()[-2000:]}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def fixture_path(*parts: str) -> Path:
    return FIXTURES.joinpath(*parts)
