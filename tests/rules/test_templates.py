"""The template language of titles and bodies: names, attributes, keys, and what stays visible."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from strides.rules.templates import names, render_text

GOAL = SimpleNamespace(title="Ship the talk", deadline=date(2027, 3, 1), _secret="x", why=None)


def test_a_name_and_an_attribute_are_filled_in() -> None:
    context = {"goal": GOAL, "days_left": 3}
    assert (
        render_text("“{goal.title}” is due in {days_left} days", context)
        == "“Ship the talk” is due in 3 days"
    )
    assert render_text("due {goal.deadline}", context) == "due 2027-03-01"


def test_none_renders_empty_and_unknown_names_stay_visible() -> None:
    context = {"goal": GOAL, "mentor": None}
    assert render_text("why: {goal.why}.", context) == "why: ."
    assert render_text("{goal.nope} {nobody} {mentor.name}", context) == "{goal.nope} {nobody} {mentor.name}"


def test_private_attributes_are_never_read() -> None:
    assert render_text("{goal._secret}", {"goal": GOAL}) == "{goal._secret}"


def test_mappings_are_read_by_key_at_any_depth() -> None:
    context = {"goal": {"title": "By key", "items": "an item"}, "meta": SimpleNamespace(tags={"get": "kept"})}
    assert render_text("{goal.title} / {goal.items}", context) == "By key / an item"
    assert render_text("{meta.tags.get}", context) == "kept"


def test_a_template_without_placeholders_is_itself() -> None:
    assert render_text("Weekly self-review", {}) == "Weekly self-review"
    assert names("{goal.title} for {owner.name} in {days_left}") == {"goal", "owner", "days_left"}


def test_braces_that_are_not_placeholders_are_kept() -> None:
    context = {"goal": GOAL, "days_left": None}
    assert render_text("a {{x}} }} {goal.title} {days_left}!", context) == "a {{x}} }} Ship the talk !"
    assert render_text("} and { alone, {Goal.title}", context) == "} and { alone, {Goal.title}"
