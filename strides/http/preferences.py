"""/preferences/{token}: a recipient's own page, reached from the signed link in every message.

No password: the link is the credential. It is signed, expires (`preference_link_lifetime`) and
names one person, and the page shows and changes that person only. A forged link is refused with
403, an expired one with 410. Every form carries a CSRF token bound to the link. What is saved
takes effect at the next tick and is recorded with who changed what and when.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from babel.core import Locale
from babel.dates import get_day_names
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from strides.config import Settings
from strides.domain.choices import OwnChoices, PauseChoice
from strides.domain.errors import RuleSetError
from strides.domain.model import Person
from strides.domain.schema import Rule
from strides.http.clock import request_now
from strides.http.limits import FORM_BODY, read_body
from strides.integrations.i18n import available, language, translations
from strides.integrations.preference_links import ExpiredLink, PreferenceLinks
from strides.integrations.rule_files import load_rules_safely
from strides.integrations.unsubscribe import CATEGORIES, TokenError
from strides.rules.delivery import pause_of_days
from strides.store import Store, feed_tokens, preferences, slices

router = APIRouter(prefix="/preferences", tags=["preferences"])
HERE = Path(__file__).resolve().parent
# What a person's own page says they changed it as, in the audit.
BY_PERSON = "person (preference page)"


@functools.cache
def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        extensions=["jinja2.ext.i18n"],
        # Everything is escaped: a name, a rule's description, a value typed into the form.
        autoescape=True,
        undefined=StrictUndefined,
        auto_reload=False,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def _links(request: Request) -> PreferenceLinks | None:
    settings: Settings = request.app.state.settings
    key = settings.unsubscribe_key
    if not (settings.public_url and key):
        return None
    return PreferenceLinks(settings.public_url, key, settings.preference_link_lifetime)


def _page(name: str, lang: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _environment(lang).get_template(name).render(lang=lang, **context)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


# The page is the person's own: not cached, not indexed, not framed, no referrer leaking the link.
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


def _refusal(request: Request, status: int, problem: str) -> HTMLResponse:
    lang = language(request.headers.get("accept-language", "en")[:2])
    return _page("refused.html.j2", lang, status, problem=problem)


@dataclass(frozen=True)
class Visit:
    """A request that came with a live link: whose page it is, and the means to read and write it."""

    token: str
    person_id: str
    expires: datetime
    links: PreferenceLinks
    settings: Settings
    now: datetime


def _visit(request: Request, token: str) -> Visit | HTMLResponse:
    links = _links(request)
    if links is None:
        return _refusal(request, 503, "not-configured")
    now = request_now(request)
    try:
        person_id, expires = links.read(token, now)
    except ExpiredLink:
        return _refusal(request, 410, "expired")
    except TokenError:
        return _refusal(request, 403, "forged")
    return Visit(token, person_id, expires, links, request.app.state.settings, now)


def _optional_rules(settings: Settings) -> list[Rule] | None:
    """The optional rules of the rule set the ticks use; None when no rule set can be read (the
    page then leaves the person's choices of them as they are)."""
    try:
        rules = load_rules_safely(settings.rules_dir, settings.state_dir).rules
    except RuleSetError:
        return None
    return sorted((r for r in rules.enabled if r.optional), key=lambda r: r.id)


@dataclass(frozen=True)
class Shown:
    """What the page shows of a person: their record as mailed, their choices, pause and audit."""

    person: Person
    chosen: OwnChoices
    paused_from: date | None
    paused_until: date | None
    changes: list[Any]
    # The kinds of mail they unsubscribed from (digest, email, invite).
    opted_out: frozenset[str] = frozenset()


def _read(visit: Visit) -> Shown | None:
    with Store(visit.settings.db_url).session() as session:
        person = slices.load_person(session, visit.person_id)
        if person is None:
            return None
        row = preferences.get(session, visit.person_id)
        chosen = preferences.choices(session, visit.person_id)
        changes = preferences.changes(session, visit.person_id)[-10:][::-1]
        session.expunge_all()
    paused_from = row.paused_from.astimezone(person.tz).date() if row and row.paused_from else None
    # A pause ends at the start of the day after its last day.
    paused_until = (
        (row.paused_until.astimezone(person.tz) - timedelta(days=1)).date()
        if row and row.paused_until
        else None
    )
    opted_out = frozenset(row.opted_out) if row else frozenset()
    return Shown(person, chosen, paused_from, paused_until, changes, opted_out)


def _render(visit: Visit, shown: Shown, status: int = 200, **extra: Any) -> HTMLResponse:
    person = shown.person
    lang = language(person.locale)
    days = get_day_names("wide", locale=lang)
    context = {
        "person": person,
        "chosen": shown.chosen,
        "csrf": visit.links.csrf(visit.token),
        "action": f"/preferences/{visit.token}",
        "weekdays": [(n, days[n - 1]) for n in range(1, 8)],
        "languages": sorted((code, Locale.parse(code).get_display_name(code)) for code in available()),
        "optional": _optional_rules(visit.settings),
        "categories": list(CATEGORIES),
        "opted_out": shown.opted_out,
        "paused_from": shown.paused_from,
        "paused_until": shown.paused_until,
        "pause_choices": [c.value for c in PauseChoice],
        "changes": shown.changes,
        "expires": visit.expires.astimezone(person.tz),
        "saved": False,
        "errors": [],
        "feed_url": None,
        **extra,
    }
    return _page("preferences.html.j2", lang, status, **context)


@router.get("/{token}", response_class=HTMLResponse)
def page(request: Request, token: str, saved: int = 0) -> Response:
    visit = _visit(request, token)
    if isinstance(visit, HTMLResponse):
        return visit
    shown = _read(visit)
    if shown is None:
        return _refusal(request, 404, "unknown-person")
    return _render(visit, shown, saved=bool(saved))


async def _form(request: Request) -> dict[str, str]:
    body = (await read_body(request, FORM_BODY)).decode("utf-8", "replace")
    return {key: values[-1] for key, values in parse_qs(body, keep_blank_values=True).items()}


async def _checked(request: Request, token: str) -> tuple[Visit, dict[str, str], list[str]] | HTMLResponse:
    visit = _visit(request, token)
    if isinstance(visit, HTMLResponse):
        return visit
    form = await _form(request)
    if not visit.links.csrf_ok(token, form.get("csrf", "")):
        return _refusal(request, 403, "csrf")
    checked = [key[len("receive:") :] for key in form if key.startswith("receive:")]
    return visit, form, checked


def _choices(
    form: dict[str, str],
    person: Person,
    before: OwnChoices,
    optional: list[Rule] | None,
    receive: list[str],
) -> OwnChoices:
    """The choices the form asks for. A setting the person never set and left at the organisation's
    value stays unset, so a later change by HR still reaches them."""
    weekday = int(form.get("digest_weekday") or person.digest.weekday)
    at = time.fromisoformat(form.get("digest_at") or person.digest.at.isoformat(timespec="minutes"))
    locale = form.get("locale") or person.locale
    return OwnChoices(
        digest_weekday=weekday if before.digest_weekday or weekday != person.digest.weekday else None,
        digest_at=at if before.digest_at or at != person.digest.at else None,
        locale=locale if before.locale or locale != person.locale else None,
        declined=(
            before.declined
            if optional is None
            else tuple(sorted(r.id for r in optional if r.id not in receive))
        ),
        pause=PauseChoice(form.get("pause_mode") or PauseChoice.RULE.value),
    )


def _pause(form: dict[str, str], person: Person) -> tuple[datetime | None, datetime | None]:
    """The pause the form asks for, from its first to its last local day (both included)."""
    first, last = form.get("pause_from", ""), form.get("pause_until", "")
    if not first:
        return None, None
    try:
        return pause_of_days(date.fromisoformat(first), date.fromisoformat(last) if last else None, person.tz)
    except ValueError as exc:
        raise ValueError("pause-order" if "on or after" in str(exc) else "invalid") from exc


@router.post("/{token}", response_class=HTMLResponse)
async def save(request: Request, token: str) -> Response:
    checked = await _checked(request, token)
    if isinstance(checked, HTMLResponse):
        return checked
    visit, form, receive = checked
    shown = await run_in_threadpool(_read, visit)
    if shown is None:
        return _refusal(request, 404, "unknown-person")
    optional = await run_in_threadpool(_optional_rules, visit.settings)
    try:
        chosen = _choices(form, shown.person, shown.chosen, optional, receive)
        start, end = _pause(form, shown.person)
    except ValueError as exc:
        # pydantic's ValidationError is a ValueError too: a value the form cannot hold.
        problem = str(exc) if str(exc) == "pause-order" else "invalid"
        if isinstance(exc, ValidationError):
            problem = "invalid"
        return await run_in_threadpool(_render, visit, shown, 400, errors=[problem])

    def store() -> None:
        with Store(visit.settings.db_url).session() as session:
            preferences.choose(session, visit.person_id, chosen, BY_PERSON, visit.now)
            preferences.set_pause(session, visit.person_id, start, end, BY_PERSON, visit.now)
            for category in CATEGORIES:
                wanted = f"category:{category}" in form
                preferences.subscribe(session, visit.person_id, category, wanted, BY_PERSON, visit.now)

    await run_in_threadpool(store)
    # Post/redirect/get: reloading the page does not send the form again.
    return RedirectResponse(f"/preferences/{token}?saved=1", status_code=303, headers=_HEADERS)


@router.post("/{token}/feed", response_class=HTMLResponse)
async def new_feed(request: Request, token: str) -> Response:
    """Issue the person's calendar feed link; any earlier one stops working (rotation)."""
    checked = await _checked(request, token)
    if isinstance(checked, HTMLResponse):
        return checked
    visit = checked[0]

    def issue() -> str | None:
        with Store(visit.settings.db_url).session() as session:
            if slices.load_person(session, visit.person_id) is None:
                return None
            feed = feed_tokens.issue(session, visit.person_id, visit.now)
            preferences.record(
                session, visit.person_id, "calendar_feed", None, "issued", BY_PERSON, visit.now
            )
            return feed

    feed = await run_in_threadpool(issue)
    shown = await run_in_threadpool(_read, visit)
    if feed is None or shown is None:
        return _refusal(request, 404, "unknown-person")
    base = visit.settings.public_url or visit.settings.feed_base_url
    # Shown once: only its hash is stored.
    return await run_in_threadpool(_render, visit, shown, feed_url=f"{base.rstrip('/')}/feeds/{feed}.ics")
