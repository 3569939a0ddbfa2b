"""Jinja2 templates (autoescaped) for digests, notices and invite bodies, in the reader's language.

Two things make rendering cheap enough for a whole organisation's digests:
- the CSS is inlined once, into the template source, when a template is loaded (css-inline on the
  template with its Jinja2 syntax set aside), not into every rendered message. The `@media` rules
  (narrow screens, dark mode) stay in `<style>` for the clients that honour them;
- one compiled environment per locale, with the catalogue's gettext installed as plain functions
  (what jinja2.ext.i18n's new-style gettext does, one call instead of three).
Strings are marked with `_` / `ngettext` (jinja2.ext.i18n); `strides.integrations.i18n` holds the
catalogues and reads them with Babel.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import css_inline
from babel.dates import format_date, format_skeleton
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_eval_context, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import TOKEN_LPAREN, TOKEN_NAME, TOKEN_RPAREN, TOKEN_STRING, Token, TokenStream
from jinja2.nodes import EvalContext
from markupsafe import Markup

from strides.domain.model import Person
from strides.integrations.i18n import SOURCE_LANGUAGE, language, translations
from strides.rules import calendar
from strides.rules.digest import Digest

# Jinja2 syntax in a template: set aside while css-inline parses the HTML around it.
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_TOKEN = re.compile(r"<!--\ue000(\d+)\ue001-->|\ue000(\d+)\ue001")


def inline_template(source: str, css: str) -> str:
    """`source` (a Jinja2 HTML template) with `css` inlined into the style attribute of its elements.

    Each Jinja2 tag becomes a placeholder: an HTML comment between elements (so a `{% for %}` inside a
    table stays where it is), bare text inside a tag's attributes or a `<title>`. css-inline then
    matches selectors against the template's own elements, as it would against a rendered page built
    from them. A whole document (the layout) keeps its `<style>` untouched; other templates are
    fragments.
    """
    saved: list[str] = []
    out: list[str] = []
    in_tag = in_title = False
    last = 0
    for match in _JINJA.finditer(source):
        text = source[last : match.start()]
        opened, closed = text.rfind("<"), text.rfind(">")
        if opened != closed:
            in_tag = opened > closed
        title_open, title_close = text.rfind("<title"), text.rfind("</title")
        if title_open != title_close:
            in_title = title_open > title_close
        out.append(text)
        saved.append(match.group(0))
        token = f"\ue000{len(saved) - 1}\ue001"
        out.append(token if in_tag or in_title else f"<!--{token}-->")
        last = match.end()
    out.append(source[last:])
    protected = "".join(out)
    inliner = css_inline.CSSInliner(
        inline_style_tags=False, keep_style_tags=True, load_remote_stylesheets=False, extra_css=css
    )
    whole = "<html" in source
    inlined = inliner.inline(protected) if whole else inliner.inline_fragment(protected, css)
    return _TOKEN.sub(lambda m: saved[int(m.group(1) or m.group(2))], inlined)


class InliningLoader(PackageLoader):
    """Loads the templates with `email.css` already inlined into the HTML ones."""

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool] | None]:
        source, filename, uptodate = super().get_source(environment, template)
        if template.endswith(".html.j2"):
            css = super().get_source(environment, "email.css")[0]
            source = inline_template(source, css)
        return source, filename, uptodate


class ConstantGettext(Extension):
    """Translates `_("a constant")` once, when a template is compiled for its language.

    Each environment serves one language, so a call with a literal message and no variables always
    gives the same text: it becomes that text in the compiled template. Translations holding HTML's
    special characters keep the call (autoescape would treat a literal differently from gettext's
    safe result). Babel still extracts the calls from the template source.
    """

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        translate: Callable[[str], str] = getattr(self.environment, "constant_gettext", None) or str
        window: list[Token] = []
        for token in stream:
            window.append(token)
            if len(window) < 4:
                continue
            name, opening, message, closing = window
            if (
                name.type == TOKEN_NAME
                and name.value in ("_", "gettext")
                and opening.type == TOKEN_LPAREN
                and message.type == TOKEN_STRING
                and closing.type == TOKEN_RPAREN
            ):
                text = translate(message.value) % {}  # what new-style gettext does with no variables
                if not any(c in text for c in "<>&'\""):
                    window = []
                    yield Token(name.lineno, TOKEN_STRING, text)
                    continue
            yield window.pop(0)
        yield from window


@functools.cache
def _day(moment: date, locale: str) -> str:
    """Mon 30 Nov 2026 in English; the language's own short form elsewhere (Mo., 30. Nov. 2026)."""
    if locale == SOURCE_LANGUAGE:
        return format_date(moment, "EEE d MMM y", locale=locale)
    return format_skeleton("yMMMEd", moment, locale=locale)


@functools.cache
def long_date(moment: date, locale: str) -> str:
    """Monday 30 November 2026 in English; the language's full form elsewhere."""
    if locale == SOURCE_LANGUAGE:
        return format_date(moment, "EEEE d MMMM y", locale=locale)
    return format_date(moment, "full", locale=locale)


@functools.cache
def environment(locale: str = "en") -> Environment:
    """The compiled templates for one language (`language(person.locale)`), cached per process."""
    env = Environment(
        loader=InliningLoader("strides.integrations", "templates"),
        extensions=["jinja2.ext.i18n", ConstantGettext],
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
        # Templates are package files: never stat them again for changes.
        auto_reload=False,
    )
    catalogue = translations(locale)
    env.extend(constant_gettext=catalogue.gettext)
    env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]

    # jinja2.ext.i18n's new-style gettext, minus two layers of calls: translate, escape when the
    # template autoescapes, then fill in the (escaped) variables.
    @pass_eval_context
    def gettext(eval_ctx: EvalContext, message: str, **variables: Any) -> str:
        text = catalogue.gettext(message)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    @pass_eval_context
    def ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = catalogue.ngettext(singular, plural, num)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
    env.filters["day"] = functools.partial(_day, locale=locale)
    env.filters["bar"] = lambda share, width=10: (
        "#" * round(share * width) + "." * (width - round(share * width))
    )
    return env


def local_time(moment: datetime, person: Person) -> str:
    """A moment on `person`'s clock, as the messages word it."""
    return calendar.local_time(moment, person.timezone)


def digest_context(
    digest: Digest,
    meetings: list[str],
    unsubscribe_url: str | None,
    locale: str,
    preferences_url: str | None = None,
) -> dict[str, Any]:
    """What the digest templates are given."""
    person = digest.person
    return {
        "digest": digest,
        "person": person,
        "first_name": person.name.split(" ")[0],
        "meetings": meetings,
        "local_date": long_date(digest.as_of.astimezone(person.tz).date(), locale),
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": preferences_url,
        "lang": person.locale,
    }


def render_digest(
    digest: Digest,
    meetings: list[str],
    unsubscribe_url: str | None = None,
    preferences_url: str | None = None,
) -> tuple[str, str]:
    """Plain text and HTML, in the catalogue's language closest to the person's `locale`."""
    locale = language(digest.person.locale)
    env = environment(locale)
    context = digest_context(digest, meetings, unsubscribe_url, locale, preferences_url)
    return (
        env.get_template("digest.txt.j2").render(context),
        env.get_template("digest.html.j2").render(context),
    )


def render_notice(
    person: Person,
    title: str,
    body: str,
    when: str = "",
    unsubscribe_url: str | None = None,
    preferences_url: str | None = None,
) -> tuple[str, str]:
    env = environment(language(person.locale))
    context = {
        "person": person,
        "title": title,
        "body": body,
        "when": when,
        "lang": person.locale,
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": preferences_url,
    }
    return env.get_template("notice.txt.j2").render(context), env.get_template("notice.html.j2").render(
        context
    )
