"""Browser fixtures: strides' HTTP app on a real socket, Debian's Chromium driven by Playwright, and
axe-core injected into the pages."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import pytest

from ..tools import node_module, require, uvicorn_serving

# Chromium as this machine's closed network needs it (no sandbox as root, nothing fetched at start).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def serve(app: Any, port: int) -> AbstractContextManager[str]:
    """Run `app` with uvicorn on 127.0.0.1:`port` for the block; yields its base URL."""
    return uvicorn_serving(app, port, ws="none")


class Clock:
    """The app's clock (`app.state.clock`), set by the test: time is an input."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (its own browser download cannot work here)."""
    executable = shutil.which("chromium")
    require(executable, "chromium is not installed (make tools installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    folder = node_module("axe-core")
    require(folder, "axe-core is not installed (make tools installs it with npm)")
    assert folder is not None
    return (folder / "axe.min.js").read_text(encoding="utf-8")


def serious_violations(page: Any, axe: str) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    page.add_script_tag(content=axe)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
