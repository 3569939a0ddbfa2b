"""Jinja2 templates (autoescaped) for digests, notices and invite bodies."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from strides.model import Person
from strides.rules.digest import Digest


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("strides.integrations", "templates"),
        # Strings are marked for translation (`_`, `ngettext`); English until a catalogue is installed.
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.filters["day"] = lambda d: f"{d:%a} {d.day} {d:%b %Y}"  # Mon 30 Nov 2026
    env.globals["bar"] = lambda share, width=10: (
        "#" * round(share * width) + "." * (width - round(share * width))
    )
    return env


def _render(name: str, **context: Any) -> str:
    text = environment().get_template(name).render(**context)
    return _inliner().inline(text) if name.endswith(".html.j2") else text


@functools.cache
def _inliner() -> css_inline.CSSInliner:
    """Mail clients drop <style> blocks: inline every rule; keep @media (narrow screens, dark mode)."""
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def local_time(moment: datetime, person: Person) -> str:
    local = moment.astimezone(person.tz)
    return f"{local:%A %d %B %Y, %H:%M} ({person.timezone})"


def render_digest(digest: Digest, meetings: list[str], unsubscribe_url: str | None = None) -> tuple[str, str]:
    local_date = f"{digest.as_of.astimezone(digest.person.tz):%A %d %B %Y}"
    context = {
        "digest": digest,
        "person": digest.person,
        "meetings": meetings,
        "local_date": local_date,
        "unsubscribe_url": unsubscribe_url,
    }
    return (
        _render("digest.txt.j2", **context),
        _render("digest.html.j2", title="Your weekly strides digest", lang=digest.person.locale, **context),
    )


def render_notice(
    person: Person, title: str, body: str, when: str = "", unsubscribe_url: str | None = None
) -> tuple[str, str]:
    context = {
        "person": person,
        "title": title,
        "body": body,
        "when": when,
        "lang": person.locale,
        "unsubscribe_url": unsubscribe_url,
    }
    return _render("notice.txt.j2", **context), _render("notice.html.j2", **context)
