"""The FastAPI application; each endpoint family is a router in its own module."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from strides import __version__
from strides.config import Settings
from strides.http import feed, hr_events, inbound, preferences, sendgrid_webhook, unsubscribe
from strides.store import StoreUnavailable


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title="strides", version=__version__)
    app.state.settings = settings

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request: Request, exc: StoreUnavailable) -> JSONResponse:
        # A clear 503 (callers retry later), not a 500 with a traceback.
        return JSONResponse({"detail": "the store is unavailable; try again later"}, status_code=503)

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    # Routers register here, one line each (feeds, SendGrid webhooks, HR event intake).
    app.include_router(hr_events.router)
    app.include_router(sendgrid_webhook.router)
    app.include_router(unsubscribe.router)
    app.include_router(feed.router)
    app.include_router(inbound.router)
    app.include_router(preferences.router)
    # The pages' own stylesheet: every asset is served by strides itself, nothing from a CDN.
    app.mount("/assets", StaticFiles(directory=Path(__file__).parent / "static"), name="assets")
    return app
