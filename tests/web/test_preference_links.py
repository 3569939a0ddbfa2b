"""Preference links: signed, expiring, one person each; the form token bound to the link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strides.integrations.preference_links import ExpiredLink, PreferenceLinks
from strides.integrations.unsubscribe import TokenError, UnsubscribeLinks

LINKS = PreferenceLinks("https://strides.example", "secret", timedelta(days=60))
IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", fullmatch=True)
MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))


@given(person=IDS, issued=MOMENTS, age=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=120)))
def test_a_link_names_its_person_until_it_expires(person: str, issued: datetime, age: timedelta) -> None:
    token = LINKS.token(person, issued)
    if age < timedelta(days=60):
        assert LINKS.read(token, issued + age)[0] == person
    else:
        with pytest.raises(ExpiredLink):
            LINKS.read(token, issued + age)


@given(person=IDS, issued=MOMENTS, position=st.integers(min_value=0), char=st.sampled_from("AQgw-_0"))
def test_a_changed_link_is_refused_or_still_says_exactly_the_same(
    person: str, issued: datetime, position: int, char: str
) -> None:
    token = LINKS.token(person, issued)
    at = position % len(token)
    changed = token[:at] + char + token[at + 1 :]
    try:
        read = LINKS.read(changed, issued)
    except TokenError:
        return
    # Only a change base64 ignores (its spare bits) reads at all, and it reads the same.
    assert read == LINKS.read(token, issued)


def test_neither_another_secret_nor_an_unsubscribe_token_opens_a_page() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(TokenError):
        LINKS.read(PreferenceLinks("https://strides.example", "other").token("ana", now), now)
    with pytest.raises(TokenError):
        LINKS.read(UnsubscribeLinks("https://strides.example", "secret").token("ana", "digest"), now)


def test_the_form_token_is_bound_to_the_link() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    ana, ben = LINKS.token("ana", now), LINKS.token("ben", now)
    assert LINKS.csrf_ok(ana, LINKS.csrf(ana))
    assert not LINKS.csrf_ok(ana, LINKS.csrf(ben))
    assert not LINKS.csrf_ok(ana, "")
