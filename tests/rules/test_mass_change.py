"""A snapshot that would remove or reject a large share of the organisation is held back."""

from __future__ import annotations

from strides.rules.mass_change import mass_change

BEFORE = {"people": 48, "goals": 100, "milestones": 303}
READ = {"people": 48, "goals": 100, "milestones": 303}


def test_ordinary_change_passes() -> None:
    assert mass_change(BEFORE, {"people": 2, "goals": 5}, READ, {"goals": 3}, 0.1) is None


def test_an_empty_export_is_held_back_and_says_why() -> None:
    why = mass_change(BEFORE, BEFORE, {"people": 0}, {}, 0.1)
    assert why is not None
    assert "it would remove 48 of 48 people" in why and "--accept-mass-change" in why


def test_an_export_whose_records_are_mostly_rejected_is_held_back() -> None:
    why = mass_change(BEFORE, {}, READ, {"people": 40}, 0.1)
    assert why is not None and "40 of its 48 people records were rejected" in why


def test_a_first_load_has_nothing_to_protect() -> None:
    assert mass_change({}, {}, READ, {"people": 40}, 0.1) is None
