"""A message is weighed against the size limit without serialising it, by a bound that is never
under what it weighs."""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.policy import SMTP

from hypothesis import given, settings
from hypothesis import strategies as st

from strides.integrations.mime import Content, Envelope
from strides.integrations.transport import Outgoing

# Everything a person or an admin can type, from ASCII to emoji, with line breaks and long lines.
TYPED = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=3000
) | st.builds(
    lambda unit, times: unit * times,
    st.sampled_from(["😀", "é", "=", "\t \n", "a" * 200 + "\n", " \n", "ü😀 ="]),
    st.integers(0, 3000),
)
NAME = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=80)


def envelope(subject: str, name: str) -> Envelope:
    return Envelope(
        Address("Growth", "growth", "strides.example"),
        Address(name, "ana", "example.org"),
        subject,
        "<k@strides.example>",
        datetime(2026, 11, 30, 12, tzinfo=UTC),
        (("X-Strides-Rule", "weekly-self-review"), ("X-Strides-Person", "p001")),
    )


@settings(max_examples=60, deadline=None)
@given(subject=NAME, name=NAME, text=TYPED, html=TYPED, calendar=TYPED, invite=st.booleans())
def test_the_bound_is_never_under_what_the_message_weighs(
    subject: str, name: str, text: str, html: str, calendar: str, invite: bool
) -> None:
    ics = f"BEGIN:VCALENDAR\r\n{calendar}\r\nEND:VCALENDAR\r\n".encode() if invite else None
    content = Content(envelope(subject, name), text, html, ics, "REQUEST" if invite else None)
    message = content.message()
    weighs = max(len(message.as_bytes()), len(message.as_bytes(policy=SMTP)))
    assert content.size_bound() >= weighs


def test_a_message_over_the_limit_is_weighed_and_one_under_is_not_serialised() -> None:
    content = Content(envelope("Hi", "Ana"), "x" * 50_000, "<p>" + "y" * 50_000 + "</p>")
    item = Outgoing("k", content.message(), "label", None, content)
    assert item.size_over(10_000_000) is None
    over = item.size_over(20_000)
    assert over is not None and over == len(content.message().as_bytes())
