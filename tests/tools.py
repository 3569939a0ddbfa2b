"""Tests that need an outside tool: skip on a laptop without it, fail under CI=true."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

TOOLS = Path(__file__).parent / "tools"


def require(condition: object, reason: str) -> None:
    """Skip the test when `condition` is false, unless CI=true: CI never silently skips a tool."""
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required tool missing under CI=true: {reason} (run `make tools`)")
    pytest.skip(reason)


def node_module(name: str) -> Path | None:
    """Node.js and a package installed by `make tools` into tests/tools/node_modules, if both exist."""
    folder = TOOLS / "node_modules" / name
    return folder if shutil.which("node") and folder.is_dir() else None
