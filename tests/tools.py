"""Helpers for tests that need a real tool or service: skip on a laptop, fail under CI."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> NoReturn:
    """Skip the test here; under CI=true the same absence is a failure (CI must run it)."""
    if in_ci():
        pytest.fail(f"required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require(condition: object, reason: str) -> None:
    """`missing(reason)` unless `condition` holds."""
    if not condition:
        missing(reason)
