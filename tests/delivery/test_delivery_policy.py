"""The delivery policy as a table: who is mailed, who is refused and why, whose message waits a pause out.

One row per verdict; the engine tests (test_pauses, test_consent, test_fixed_addresses) show the same
verdicts recorded in the ledger.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from strides.domain.schema import Kind
from strides.rules.delivery import (
    SEND,
    Hold,
    Refuse,
    Shift,
    Suppression,
    Verdict,
    hold_for,
    verdict,
)
from strides.rules.intents import Intent

from .conftest import intent

NOW = datetime(2026, 12, 22, 8, 0, tzinfo=UTC)
PLANNED = datetime(2026, 12, 28, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
PAUSE_END = datetime(2027, 1, 3, 23, 0, tzinfo=UTC)  # midnight in Berlin
BACK = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # the first day back, 10:00 in Berlin

PERSON = replace(intent(Kind.EMAIL, "p001", "nudge", "Due in a week"), send_at=PLANNED)
SHIFTING = replace(PERSON, on_pause="shift")
FIXED = replace(SHIFTING, recipient="growth-team@example.com")
OPTED_OUT = Hold("opted out of email (2026-12-01T10:00:00+00:00 via one-click)")
PAUSED = Hold("paused until 2027-01-03 23:00 UTC", paused=True, until=PAUSE_END)
BOUNCED = Suppression("bounce", datetime(2026, 12, 1, 10, 0, tzinfo=UTC), "550 5.1.1 no such user")
UNSUBSCRIBED = Suppression("unsubscribe", datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
BERLIN = "Europe/Berlin"
LAST_MONTH = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
LAST_WEEK = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("message", "timezone", "hold", "suppression", "expected"),
    [
        pytest.param(PERSON, BERLIN, None, None, SEND, id="nothing holds it: send"),
        pytest.param(FIXED, None, None, None, SEND, id="a fixed address is its own: send"),
        pytest.param(
            PERSON, None, None, None, Refuse("recipient left the organisation"), id="left the organisation"
        ),
        pytest.param(PERSON, BERLIN, OPTED_OUT, None, Refuse(OPTED_OUT.reason), id="opted out"),
        pytest.param(PERSON, BERLIN, PAUSED, None, Refuse(PAUSED.reason), id="paused, the rule skips"),
        pytest.param(
            SHIFTING,
            BERLIN,
            PAUSED,
            None,
            Shift(
                BACK,
                "shifted: paused until 2027-01-03 23:00 UTC; due again Monday 04 January 2027, 10:00 "
                "(Europe/Berlin)",
            ),
            id="paused, the rule shifts: after the pause at the planned local time",
        ),
        pytest.param(
            SHIFTING, BERLIN, OPTED_OUT, None, Refuse(OPTED_OUT.reason), id="opted out, never shifted"
        ),
        pytest.param(FIXED, None, PAUSED, None, Refuse(PAUSED.reason), id="a fixed address's pause skips"),
        pytest.param(
            PERSON,
            BERLIN,
            None,
            BOUNCED,
            Refuse("suppressed: bounce on 2026-12-01 (550 5.1.1 no such user)"),
            id="suppressed, with a detail",
        ),
        pytest.param(
            FIXED,
            None,
            None,
            UNSUBSCRIBED,
            Refuse("suppressed: unsubscribe on 2026-12-02"),
            id="suppressed, without a detail",
        ),
        pytest.param(
            PERSON, BERLIN, OPTED_OUT, BOUNCED, Refuse(OPTED_OUT.reason), id="a hold before a suppression"
        ),
        pytest.param(
            PERSON, None, PAUSED, BOUNCED, Refuse("recipient left the organisation"), id="leaving before all"
        ),
    ],
)
def test_the_delivery_policy(
    message: Intent,
    timezone: str | None,
    hold: Hold | None,
    suppression: Suppression | None,
    expected: Verdict,
) -> None:
    assert verdict(message, timezone=timezone, hold=hold, suppression=suppression, now=NOW) == expected


OPTED = {"digest": "2026-12-01T10:00:00+00:00 via one-click"}


@pytest.mark.parametrize(
    ("category", "paused_from", "paused_until", "expected"),
    [
        pytest.param("email", None, None, None, id="no choices: no hold"),
        pytest.param(
            "digest",
            None,
            None,
            Hold("opted out of digest (2026-12-01T10:00:00+00:00 via one-click)"),
            id="opted out",
        ),
        pytest.param(
            "email",
            NOW,
            PAUSE_END,
            Hold("paused until 2027-01-03 23:00 UTC", True, PAUSE_END),
            id="paused until a moment",
        ),
        pytest.param("email", NOW, None, Hold("paused until resumed", True, None), id="paused until resumed"),
        pytest.param("email", PLANNED, PAUSE_END, None, id="a pause yet to start"),
        pytest.param("email", LAST_MONTH, LAST_WEEK, None, id="a pause that ended"),
        pytest.param(
            "digest",
            NOW,
            PAUSE_END,
            Hold("opted out of digest (2026-12-01T10:00:00+00:00 via one-click)"),
            id="an opt-out before a pause",
        ),
    ],
)
def test_a_person_s_hold(
    category: str, paused_from: datetime | None, paused_until: datetime | None, expected: Hold | None
) -> None:
    assert hold_for(category, OPTED, paused_from, paused_until, NOW) == expected
