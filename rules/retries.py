"""When a message whose sending failed for now is tried again, and when it is given up. Pure.

A transient failure (an SMTP 4xx, a refused or dropped connection, a timeout, SendGrid's 429 and
5xx) is tried again later, not at once: after `first`, then twice as long each time up to `cap`
(as mail transfer agents keep a deferred queue: Postfix waits 300 s growing to 4,000 s), each
wait varied by up to a fifth so that what failed together does not come back together. A message
is given up (dead) once the waits would pass its `lifetime`; a permanent failure is dead at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

# How a message's last error starts when the server may have it: tried once more, never twice.
AMBIGUOUS = "ambiguous:"


@dataclass(frozen=True)
class Verdict:
    """After a failed try: when to try again (None: never, the message is dead) and what to record."""

    again: datetime | None
    note: str


@dataclass(frozen=True)
class Retry:
    lifetime: timedelta = timedelta(days=1)
    first: timedelta = timedelta(minutes=5)
    cap: timedelta = timedelta(hours=1)

    def wait(self, attempt: int) -> timedelta:
        """The nominal wait after the `attempt`-th try (1-based)."""
        grown: timedelta = self.first * 2 ** min(attempt - 1, 30)
        return min(grown, self.cap)

    @property
    def attempts(self) -> int:
        """How many tries a message gets: the first, and one after each wait within the lifetime."""
        tries, waited = 1, timedelta(0)
        while waited + self.wait(tries) <= self.lifetime:
            waited += self.wait(tries)
            tries += 1
        return tries

    def next_try(self, attempt: int, key: str, now: datetime) -> datetime | None:
        """When to try again after the `attempt`-th try failed for now; None: give up."""
        if attempt >= self.attempts:
            return None
        # The same variation for the same message and attempt, whichever worker computes it.
        digest = hashlib.blake2b(f"{key}:{attempt}".encode(), digest_size=8).digest()
        spread = 0.8 + 0.4 * int.from_bytes(digest, "big") / 2**64
        return now + self.wait(attempt) * spread

    def after_failure(
        self,
        *,
        attempt: int,
        key: str,
        now: datetime,
        answer: str,
        permanent: bool,
        ambiguous: bool,
        previous_error: str | None,
    ) -> Verdict:
        """What becomes of a message whose `attempt`-th try failed with the provider's `answer`.

        An ambiguous failure (the server may have the message) is tried once more, never twice."""
        again = None if permanent else self.next_try(attempt, key, now)
        note = answer
        if ambiguous:
            if (previous_error or "").startswith(AMBIGUOUS):
                again = None  # sent once more already: the server may have it twice by now
                note = f"{AMBIGUOUS} twice, not sent again ({answer})"
            else:
                note = f"{AMBIGUOUS} the server may have it; sent once more later ({answer})"
        if again is not None:
            note += f" (try {attempt} of {self.attempts}; again at {again:%Y-%m-%d %H:%M} UTC)"
        elif not permanent:
            note += f" (gave up after {attempt} tries)"
        return Verdict(again, note)
