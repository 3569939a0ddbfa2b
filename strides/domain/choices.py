"""A person's own choices from their preference page, laid over what the organisation says of them."""

from __future__ import annotations

from datetime import time
from enum import StrEnum

from pydantic import Field

from strides.domain.model import Identifier, Person, Strict, Weekday


class PauseChoice(StrEnum):
    """What happens to messages due while a person's mail is paused, as they chose it."""

    # As each rule says (`pause: skip` or `pause: shift`).
    RULE = "rule"
    # None of them is sent: they are held back for good.
    HOLD = "hold"
    # Each one is sent once after the pause.
    SHIFT = "shift"


class OwnChoices(Strict):
    """What a person set for themselves; None (or empty) keeps the organisation's value."""

    digest_weekday: Weekday | None = None
    digest_at: time | None = None
    locale: str | None = Field(default=None, pattern=r"^[a-z]{2}([_-][A-Za-z]{2})?$")
    declined: tuple[Identifier, ...] = ()
    pause: PauseChoice = PauseChoice.RULE

    def apply(self, person: Person) -> Person:
        """`person` as they chose to be mailed: digest day and time, language, declined rules."""
        digest = person.digest.model_copy(
            update={
                "weekday": self.digest_weekday or person.digest.weekday,
                "at": self.digest_at or person.digest.at,
            }
        )
        return person.model_copy(
            update={
                "digest": digest,
                "locale": self.locale or person.locale,
                "declined": tuple(sorted(set(self.declined))),
            }
        )
