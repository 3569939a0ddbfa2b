"""Sample digests as files, and pictures of them in headless Chromium (375 px, 600 px, dark mode).

A tool for people working on the digest's look, and for the screenshot tests; not part of the
installed product. Chromium comes from Debian's `chromium` package; every run uses a fresh profile
and no network. The pictures in docs/email/ are made with:

    .venv/bin/python tools/digest_preview.py --at 2026-11-30T07:00:00+00:00 --out docs/email
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from strides.domain.errors import StridesError
from strides.domain.model import Organisation, Person
from strides.integrations.render import render_digest
from strides.rules.digest import Digest, compose_digest

SAMPLE_MEETINGS = ["Check-in with your mentor: Thursday 3 December 2026, 10:00 (Europe/Berlin)"]
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)


class PreviewError(StridesError, RuntimeError):
    pass


@dataclass(frozen=True)
class Sample:
    name: str
    person: Person
    digest: Digest
    text: str
    html: str


def _richness(digest: Digest) -> tuple[int, str]:
    parts = (digest.goals, digest.due_soon, digest.overdue, digest.wins, digest.meetings)
    return (sum(1 for p in parts if p) * 100 + sum(len(p) for p in parts), digest.person.id)


def samples(org: Organisation, now: datetime) -> list[Sample]:
    """The fullest individual digest and the manager with the most reports: the two layouts."""
    digests = [compose_digest(p, org, now) for p in org.people.values()]
    individual = max((d for d in digests if not d.reports), key=_richness)
    manager = max(digests, key=lambda d: (len(d.reports), _richness(d)))
    chosen = []
    for name, digest in (("person", individual), ("manager", manager)):
        text, html = render_digest(digest, SAMPLE_MEETINGS)
        chosen.append(Sample(name, digest.person, digest, text, html))
    return chosen


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(html: Path, png: Path, width: int, *, dark: bool = False, height: int = 2400) -> Path:
    """A picture of `html` at `width` CSS pixels; trailing page background is trimmed when Pillow exists."""
    browser = chromium()
    if browser is None:
        raise PreviewError("chromium is not installed (Debian: apt-get install chromium)")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="strides-chromium-") as profile:
        command = [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
        ]
        if dark:
            command += ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]
        result = subprocess.run(
            [*command, html.resolve().as_uri()], capture_output=True, text=True, timeout=120, check=False
        )
    if result.returncode != 0 or not png.exists():
        raise PreviewError(f"chromium failed ({result.returncode}): {result.stderr[-1000:]}")
    _trim(png)
    return png


def _trim(png: Path, margin: int = 16) -> None:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dev dependency
        return
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    background = rgb.getpixel((0, rgb.height - 1))
    bottom = rgb.height
    pixels = rgb.load()
    assert pixels is not None
    while bottom > 1 and all(pixels[x, bottom - 1] == background for x in range(0, rgb.width, 2)):
        bottom -= 1
    rgb.crop((0, 0, rgb.width, min(rgb.height, bottom + margin))).save(png, optimize=True)


def write_previews(org: Organisation, now: datetime, folder: Path, *, pictures: bool = True) -> list[Path]:
    """Each sample as .html and .txt, and (with Chromium) pictures at 375 px, 600 px and 600 px dark."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for sample in samples(org, now):
        html = folder / f"digest-{sample.name}.html"
        html.write_text(sample.html, encoding="utf-8")
        text = folder / f"digest-{sample.name}.txt"
        text.write_text(sample.text, encoding="utf-8")
        written += [html, text]
        if pictures:
            for width, dark in ((375, False), (600, False), (600, True)):
                suffix = "-dark" if dark else ""
                written.append(
                    screenshot(html, folder / f"digest-{sample.name}-{width}{suffix}.png", width, dark=dark)
                )
    return written


def main(argv: list[str] | None = None) -> int:
    from strides.integrations.org_files import load_organisation

    parser = argparse.ArgumentParser(description="Render sample digests to HTML, text and pictures.")
    parser.add_argument("--org", type=Path, default=Path("examples/org"), help="organisation folder")
    parser.add_argument("--at", required=True, help="the digest's moment, ISO 8601 with a timezone")
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the previews (default: a new temporary folder)"
    )
    parser.add_argument("--no-pictures", action="store_true", help="skip the Chromium screenshots")
    args = parser.parse_args(argv)
    moment = datetime.fromisoformat(args.at)
    if moment.tzinfo is None:
        parser.error("--at needs a timezone, for example 2026-11-30T07:00:00+00:00")
    loaded = load_organisation(args.org)
    out = args.out or Path(tempfile.mkdtemp(prefix="strides-digest-preview-"))
    try:
        written = write_previews(loaded.organisation, moment, out, pictures=not args.no_pictures)
    except StridesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
