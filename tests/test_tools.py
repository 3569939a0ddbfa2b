"""The missing-tool helper: a laptop skips, CI fails."""

from __future__ import annotations

import pytest

from .tools import require


def test_a_missing_tool_skips_on_a_laptop(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require(None, "no such tool")


def test_a_missing_tool_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no such tool"):
        require(None, "no such tool")


def test_a_present_tool_passes(monkeypatch):
    monkeypatch.setenv("CI", "true")
    require("/usr/bin/node", "node")
