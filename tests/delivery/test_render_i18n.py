"""Digests render from templates with the CSS inlined once, in the reader's own language."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import css_inline
import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from strides.domain.model import Organisation
from strides.domain.schema import Kind
from strides.integrations import i18n, render
from strides.integrations.compose import Sender, content
from strides.rules.digest import compose_digest
from strides.rules.intents import Intent

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
# As in integrations/i18n.py: deterministic output (no header dates, no line numbers).
EXTRACT_OPTIONS = ("--omit-header", "--no-location", "--sort-output")
MEETINGS = ["Check-in with your mentor: Thursday 3 December 2026, 10:00 (Europe/Berlin)"]


class _Elements(HTMLParser):
    """The body as (tag, attributes with the style split into declarations) and visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[object, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        style = tuple(d.strip() for d in (found.pop("style", None) or "").split(";") if d.strip())
        self.items.append((tag, tuple(sorted(found.items())), style))

    def handle_endtag(self, tag: str) -> None:
        self.items.append(("/" + tag,))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.items.append(("text", " ".join(data.split())))


def _body(html: str) -> list[tuple[object, ...]]:
    parser = _Elements()
    parser.feed(html)
    start = next(i for i, item in enumerate(parser.items) if item[0] == "body")
    return parser.items[start:]


def _inlined_after_rendering(template: str, context: dict[str, object]) -> str:
    """The old way: render the plain templates, then css-inline the whole page."""
    fast = render.environment("en")
    env = Environment(
        loader=PackageLoader("strides.integrations", "templates"),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.filters["day"] = fast.filters["day"]
    css = files("strides.integrations").joinpath("templates/email.css").read_text()
    page = env.get_template(template).render(context)
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False, extra_css=css).inline(
        page
    )


def test_css_inlined_into_the_templates_at_load_time_styles_every_element_as_inlining_the_page_would(
    sample_org: Organisation,
) -> None:
    for person in sample_org.people.values():
        digest = compose_digest(person, sample_org, NOW)
        url = "https://strides.example/unsubscribe/token"
        _, html = render.render_digest(digest, MEETINGS, url)
        context = render.digest_context(digest, MEETINGS, url, "en")
        assert _body(html) == _body(_inlined_after_rendering("digest.html.j2", context)), person.id
    person = next(iter(sample_org.people.values()))
    _, html = render.render_notice(person, "Title <b>", "Body & more", "Monday 10:00")
    context = {"person": person, "title": "Title <b>", "body": "Body & more", "when": "Monday 10:00"}
    assert _body(html) == _body(_inlined_after_rendering("notice.html.j2", {**context, "lang": "en"}))


def test_the_dark_mode_and_narrow_screen_rules_stay_in_the_head_and_plain_rules_do_not(
    sample_org: Organisation,
) -> None:
    digest = compose_digest(next(iter(sample_org.people.values())), sample_org, NOW)
    _, html = render.render_digest(digest, [])
    head = html[: html.index("</head>")]
    assert "@media (prefers-color-scheme: dark)" in head
    assert "@media only screen and (max-width: 480px)" in head
    assert ".card { background: #ffffff" not in head
    assert 'class="card" style="background: #ffffff;' in html


def _busiest(org: Organisation) -> str:
    return max(org.people, key=lambda pid: (len(compose_digest(org.people[pid], org, NOW).goals), pid))


def test_a_person_whose_locale_is_german_gets_the_digest_in_german(sample_org: Organisation) -> None:
    person = sample_org.people[_busiest(sample_org)].model_copy(update={"locale": "de-DE"})
    people = {**sample_org.people, person.id: person}
    org = sample_org.model_copy(update={"people": people})
    intent = Intent(
        key="k1",
        rule_id="weekly-digest",
        kind=Kind.DIGEST,
        subject=person.id,
        occurrence=NOW,
        recipient=person.id,
        send_at=NOW,
        title="Weekly digest",
    )
    digest = compose_digest(person, org, intent.occurrence)
    parts = content(intent, org, Sender("growth@strides.example"), NOW, [], digest=digest)
    first = person.name.split(" ")[0]
    assert parts.envelope.subject.startswith("Deine Woche im Überblick: ")
    assert f"Deine Woche im Überblick, {first}" in parts.text
    assert "Deine Ziele" in parts.text and "Your goals" not in parts.text
    assert parts.html is not None
    assert '<html lang="de-DE">' in parts.html
    assert "<title>Deine wöchentliche strides-Übersicht</title>" in parts.html
    assert f"Von strides für {person.name} gesendet." in parts.html
    assert "Montag, 30. November 2026" in parts.html  # the date in German too
    # The suggested next step (built in the pure rules as a message with values) too.
    english = compose_digest(person, org, NOW).next_step
    assert english and english not in parts.text and english not in parts.html
    assert "Nächster Schritt: " in parts.text


@pytest.mark.parametrize(
    ("locale", "catalogue"),
    [("de", "de"), ("de-AT", "de"), ("de_DE", "de"), ("en", "en"), ("en-GB", "en"), ("fr", "en"), ("", "en")],
)
def test_a_locale_picks_the_closest_catalogue_else_english(locale: str, catalogue: str) -> None:
    assert i18n.language(locale) == catalogue


def test_the_message_template_is_up_to_date_with_the_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "strides.pot"
    monkeypatch.chdir(ROOT)
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", "babel.cfg", "-o", str(fresh), *EXTRACT_OPTIONS, "."]
    )
    committed = ROOT / "integrations" / "locales" / "strides.pot"
    assert fresh.read_text() == committed.read_text(), (
        "integrations/locales/strides.pot is out of date: run the pybabel extract/update commands "
        "in integrations/i18n.py"
    )


def test_every_catalogue_has_every_message_and_german_translates_them_all() -> None:
    with (ROOT / "integrations" / "locales" / "strides.pot").open("rb") as source:
        wanted = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(source) if m.id}
    assert i18n.available() >= {"en", "de"}
    for lang in i18n.available():
        with i18n.catalogue_path(lang).open("rb") as source:
            catalogue = read_po(source, locale=lang)
        have = {m.id if isinstance(m.id, str) else tuple(m.id): m for m in catalogue if m.id}
        assert set(have) == wanted, f"{lang}: run pybabel update (integrations/i18n.py)"
        if lang == "de":
            untranslated = [key for key, m in have.items() if not all(m.string) or m.fuzzy]
            assert untranslated == []
