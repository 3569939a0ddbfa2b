"""The weekly digest as people see it: headless Chromium at 375 px and 600 px, light and dark."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageStat

from tools.digest_preview import chromium, samples, screenshot, write_previews

from ..conftest import ROOT
from ..tools import require
from .conftest import NOW

LIGHT_BACKGROUND = (0xF4, 0xF5, 0xF7)


@pytest.fixture(scope="module")
def pictures(sample_org, tmp_path_factory) -> dict[str, Path]:
    require(chromium(), "chromium is not installed (make test installs it with apt-get)")
    folder = tmp_path_factory.mktemp("previews")
    written = write_previews(sample_org, NOW, folder)
    return {p.name: p for p in written}


def test_every_sample_has_html_text_and_three_pictures(pictures):
    for sample in ("person", "manager"):
        for suffix in (".html", ".txt", "-375.png", "-600.png", "-600-dark.png"):
            assert f"digest-{sample}{suffix}" in pictures


@pytest.mark.parametrize("width", [375, 600])
@pytest.mark.parametrize("sample", ["person", "manager"])
def test_the_layout_fits_the_screen_without_sideways_scrolling(pictures, sample, width):
    with Image.open(pictures[f"digest-{sample}-{width}.png"]) as image:
        rgb = image.convert("RGB")
    assert rgb.width == width
    # The card ends before the right edge: nothing overflowed and widened the page.
    edge = [rgb.getpixel((width - 2, y)) for y in range(40, min(rgb.height, 600), 7)]
    assert set(edge) == {LIGHT_BACKGROUND}


@pytest.mark.parametrize("sample", ["person", "manager"])
def test_dark_mode_turns_the_page_dark(pictures, sample):
    def brightness(name: str) -> float:
        with Image.open(pictures[name]) as image:
            return ImageStat.Stat(image.convert("L")).mean[0]

    assert brightness(f"digest-{sample}-600.png") > 200
    assert brightness(f"digest-{sample}-600-dark.png") < 60


def test_styles_are_inlined_and_media_queries_kept(sample_org):
    html = samples(sample_org, NOW)[0].html
    assert 'class="card" style="' in html
    assert "@media only screen and (max-width: 480px)" in html
    assert "@media (prefers-color-scheme: dark)" in html


def test_the_plain_text_alternative_says_what_the_html_says(sample_org):
    sample = samples(sample_org, NOW)[0]
    for line in sample.digest.goals:
        assert line.goal.title in sample.text
    for item in sample.digest.overdue:
        assert item.title in sample.text
    assert "<" not in sample.text


def test_a_missing_browser_is_a_clear_error(monkeypatch, tmp_path):
    from tools.digest_preview import PreviewError

    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(PreviewError, match="apt-get install chromium"):
        screenshot(tmp_path / "x.html", tmp_path / "x.png", 375)


def test_the_preview_tool_writes_to_a_new_temporary_folder_unless_told(capsys):
    from tools.digest_preview import main

    assert main(["--org", str(ROOT / "examples" / "org"), "--at", NOW.isoformat(), "--no-pictures"]) == 0
    written = [Path(line) for line in capsys.readouterr().out.split()]
    assert written and all(p.exists() for p in written)
    (folder,) = {p.parent for p in written}
    assert folder.name.startswith("strides-digest-preview-") and not folder.is_relative_to(ROOT)
