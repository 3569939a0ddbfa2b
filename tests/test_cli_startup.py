"""`strides --help` answers at once: the CLI imports its heavy layers only inside the commands that need them.

Each check runs in a fresh interpreter and looks at what it loaded (bench/cli_startup.py times it).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# What importing strides.cli may load besides the standard library: Typer and what it brings.
MAY_LOAD = {"strides", "typer", "click", "rich", "shellingham", "annotated_doc", "typing_extensions"}
# Only the CLI itself of strides: every other layer waits for the command that needs it.
STRIDES_MAY_LOAD = {"strides", "strides.cli"}
# Heavy, or above the CLI's needs for help: none of them before a command runs.
HEAVY = {
    "prefect",
    "prefect_dask",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "pydantic_settings",
    "icalendar",
    "jinja2",
    "css_inline",
    "babel",
    "sendgrid",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "yaml",
    "cel",
    "holidays",
    "dateutil",
    "orjson",
}

LOADED = """
import json, sys
before = set(sys.modules)
from strides.cli import app
if sys.argv[1:]:
    try:
        app(sys.argv[1:], prog_name="strides")
    except SystemExit:
        pass
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _loaded(*args: str) -> set[str]:
    """The modules a fresh interpreter loaded to import strides.cli and run it with `args` (none: no run)."""
    run = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, text=True, check=True)
    return set(json.loads(run.stdout.splitlines()[-1]))


def _packages(modules: set[str]) -> set[str]:
    """The top-level packages outside the standard library (sysconfig's generated module is in it)."""
    tops = {m.split(".")[0] for m in modules}
    return {t for t in tops if t not in sys.stdlib_module_names and not t.startswith("_sysconfigdata")}


def _strides_packages(modules: set[str]) -> set[str]:
    """strides' modules by package: strides.cli.rules counts as strides.cli."""
    return {".".join(m.split(".")[:2]) for m in modules if m == "strides" or m.startswith("strides.")}


def test_importing_the_cli_loads_only_typer_and_the_cli() -> None:
    loaded = _loaded()
    assert "strides.cli" in loaded
    assert _packages(loaded) - MAY_LOAD == set()
    assert _strides_packages(loaded) == STRIDES_MAY_LOAD


@pytest.mark.parametrize("args", [("--help",), ("rules", "--help"), ("--version",)], ids=" ".join)
def test_help_loads_no_heavy_layer(args: tuple[str, ...]) -> None:
    # Running a command lets Typer coerce the global options with pydantic (not pydantic_settings).
    loaded = _loaded(*args)
    assert _packages(loaded) & HEAVY == set()
    assert _strides_packages(loaded) == STRIDES_MAY_LOAD
