"""Splitting planning into shards: every subject ("person:ID", "goal:ID", "milestone:ID") has a
bucket, stored with its row, and a shard is a range of buckets.

Every message belongs to one subject, and planning a subject reads others but never plans for
them, so shards plan disjoint messages and together exactly what one unsharded run plans.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

BUCKETS = 1024


def bucket(subject: str) -> int:
    """A stable bucket in [0, BUCKETS) (CRC-32: the same on every machine and Python)."""
    return zlib.crc32(subject.encode()) % BUCKETS


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count`: the buckets [low, high)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count <= BUCKETS:
            raise ValueError(f"shard {self.index} of {self.count}: need 0 <= index < count <= {BUCKETS}")

    @property
    def low(self) -> int:
        return self.index * BUCKETS // self.count

    @property
    def high(self) -> int:
        return (self.index + 1) * BUCKETS // self.count

    @property
    def whole(self) -> bool:
        return self.count == 1

    def split(self, parts: int) -> list[Shard]:
        """This shard's buckets as `parts` shards (fewer when it has fewer buckets)."""
        parts = max(1, min(parts, BUCKETS // self.count))
        return [Shard(self.index * parts + n, self.count * parts) for n in range(parts)]

    def holds(self, subject: str) -> bool:
        return self.low <= bucket(subject) < self.high


WHOLE = Shard()
