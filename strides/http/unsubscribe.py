"""/unsubscribe/{token}: RFC 8058 one-click unsubscribe, and a page for people who click the link.

GET shows a confirmation button and changes nothing (mail scanners follow links); POST, whether a
mail client's one-click `List-Unsubscribe=One-Click` or the button, records the opt-out.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from strides.config import Settings
from strides.http.clock import request_now
from strides.integrations.unsubscribe import CATEGORIES, TokenError, UnsubscribeLinks
from strides.store import Store, preferences

router = APIRouter(prefix="/unsubscribe", tags=["consent"])

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>strides</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;">
{body}</body></html>"""


def _links(request: Request) -> UnsubscribeLinks:
    settings: Settings = request.app.state.settings
    key = settings.unsubscribe_key
    if not (settings.public_url and key):
        raise HTTPException(503, "unsubscribe links are not configured (public_url, unsubscribe_secret)")
    return UnsubscribeLinks(settings.public_url, key)


def _read(request: Request, token: str) -> tuple[str, str]:
    try:
        return _links(request).read(token)
    except TokenError as exc:
        raise HTTPException(404, f"unknown unsubscribe link: {exc}") from None


@router.get("/{token}", response_class=HTMLResponse)
def confirm_page(request: Request, token: str) -> HTMLResponse:
    _, category = _read(request, token)
    body = (
        f"<h1>Unsubscribe from {escape(CATEGORIES[category])}?</h1>"
        f'<form method="post"><button type="submit">Unsubscribe</button></form>'
    )
    return HTMLResponse(PAGE.format(body=body))


@router.post("/{token}", response_class=HTMLResponse)
async def unsubscribe(request: Request, token: str) -> HTMLResponse:
    person_id, category = _read(request, token)
    form = (await request.body()).decode("utf-8", "replace")
    how = "one-click" if "List-Unsubscribe=One-Click" in form else "unsubscribe page"
    settings: Settings = request.app.state.settings
    now = request_now(request)

    def record() -> None:
        with Store(settings.db_url).session() as session:
            preferences.opt_out(session, person_id, category, now, how)

    await run_in_threadpool(record)
    body = f"<h1>Done</h1><p>You will no longer receive {escape(CATEGORIES[category])} from strides.</p>"
    return HTMLResponse(PAGE.format(body=body))
