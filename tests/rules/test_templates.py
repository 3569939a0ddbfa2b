"""The template language of titles and bodies: names, attributes, keys, and what stays visible."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType, SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from strides.domain.templates import names, render_text

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


_NAMES = ("goal", "owner", "days_left", "meta")
_PATHS = st.sampled_from(
    [
        "goal",
        "goal.title",
        "goal.why",
        "goal._secret",
        "goal.nope",
        "owner.name",
        "owner.name.upper",
        "days_left",
        "meta.tags.get",
        "meta.tags",
        "nobody",
    ]
)
_TEXT = st.text(alphabet="ab {}.“”", max_size=6)
_VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.just(GOAL),
    st.just({"title": "By key", "why": None}),
    st.just(SimpleNamespace(name="Ana", tags={"get": "kept"})),
    st.just({"name": {"upper": "UP"}}),
)


@given(
    pieces=st.lists(st.tuples(_TEXT, _PATHS), max_size=5),
    values=st.fixed_dictionaries({}, optional={name: _VALUES for name in _NAMES}),
)
def test_a_dict_renders_as_any_other_mapping_of_the_same_names(
    pieces: list[tuple[str, str]], values: dict[str, object]
) -> None:
    """Dict contexts take a generated fast path; every other mapping the general one."""
    template = "".join(f"{text}{{{path}}}" for text, path in pieces)
    assert render_text(template, values) == render_text(template, MappingProxyType(values))


def test_a_model_shows_only_its_data_fields_never_its_methods_or_settings() -> None:
    from strides.domain.model import Person

    person = Person(id="p1", name="Ada", email="ada@example.com", timezone="Europe/Berlin", country="DE")
    text = "{owner.name} {owner.model_dump} {owner.model_config} {owner.tz} {owner.model_fields}"
    assert render_text(text, {"owner": person}) == (
        "Ada {owner.model_dump} {owner.model_config} {owner.tz} {owner.model_fields}"
    )
