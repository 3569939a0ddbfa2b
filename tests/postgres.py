"""A throwaway PostgreSQL database per test session, on the machine's server (trust auth).

STRIDES_TEST_POSTGRES names the server (a SQLAlchemy URL without the database); default
postgresql+psycopg://postgres@127.0.0.1:5432. Tests skip when it is unreachable on a laptop
and fail under CI=true (tests/tools.py).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from strides.store import Store
from tests.tools import missing

SERVER = os.environ.get("STRIDES_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
TABLES = ("messages", "ticks", "milestones", "goals", "people", "skips")


def _admin_url() -> str:
    return make_url(SERVER).set(database="postgres").render_as_string(hide_password=False)


def reachable() -> str | None:
    """None when the server answers, else why not."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    engine = create_engine(_admin_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        return f"no PostgreSQL at {SERVER}: {exc.orig}"
    finally:
        engine.dispose()
    return None


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Create strides_test_<random>, yield its URL, drop it (even if connections linger)."""
    problem = reachable()
    if problem:
        missing(problem)
    name = f"strides_test_{secrets.token_hex(4)}"
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def throwaway_store() -> Iterator[Store]:
    """A migrated store on a throwaway database; its connections closed before the drop."""
    with throwaway_database() as url:
        store = Store(url)
        try:
            store.migrate()
            yield store
        finally:
            store.engine.dispose()


def empty_tables(url: str) -> None:
    """Remove every row (and reset ids) so each test starts from an empty, migrated store."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY"))
    engine.dispose()
