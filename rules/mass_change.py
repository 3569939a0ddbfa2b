"""Whether a new organisation snapshot looks like a broken export rather than real change. Pure.

An HR export written with the wrong separator, cut off half-way or missing its header reads as an
organisation that lost most of its people; applied, it would cancel their meetings. A snapshot
that would remove more than `share` of the people, goals or milestones the last good one had, or
whose records were more than `share` rejected, is held back unless the admin accepts it.
"""

from __future__ import annotations

from collections.abc import Mapping

KINDS = ("people", "goals", "milestones")


def mass_change(
    before: Mapping[str, int],
    removed: Mapping[str, int],
    read: Mapping[str, int],
    rejected: Mapping[str, int],
    share: float,
) -> str | None:
    """Why the new snapshot must not be applied (None: it may be). Counts per kind: `before` in the
    last good organisation, `removed` from it by the new one, `read` and `rejected` in the files."""
    reasons = []
    for kind in KINDS:
        had, gone = before.get(kind, 0), removed.get(kind, 0)
        if had and gone > share * had:
            reasons.append(f"it would remove {gone} of {had} {kind}")
        seen, refused = read.get(kind, 0), rejected.get(kind, 0)
        if had and seen and refused > share * seen:
            reasons.append(f"{refused} of its {seen} {kind} records were rejected")
    if not reasons:
        return None
    return (
        "the organisation was not updated: "
        + "; ".join(reasons)
        + f" (more than {share:.0%}: a broken export?). The last good organisation stays; "
        "fix the files, or apply them on purpose with --accept-mass-change"
    )
