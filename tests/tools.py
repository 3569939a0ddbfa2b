"""Helpers for tests that need a real tool or service: skip on a laptop, fail under CI=true."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).parent.parent
NODE_MODULES = ROOT / "node_modules"  # installed by `make tools` from package.json


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> NoReturn:
    """Skip the test here; under CI=true the same absence is a failure (CI must run it)."""
    if in_ci():
        pytest.fail(f"required under CI: {reason} (run `make tools`)", pytrace=False)
    pytest.skip(reason)


def require(condition: object, reason: str) -> None:
    """`missing(reason)` unless `condition` holds."""
    if not condition:
        missing(reason)


def node_module(name: str) -> Path | None:
    """Node.js and an npm package from package.json installed into node_modules/, if both exist."""
    folder = NODE_MODULES / name
    return folder if shutil.which("node") and folder.is_dir() else None
