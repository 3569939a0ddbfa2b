"""Connecting to the store and keeping its schema current with Alembic."""

from __future__ import annotations

import fcntl
import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from strides.domain.errors import StridesError

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where it is used: a flow-run process that only reads and writes the store
# (every event reaction starts a fresh one) would otherwise pay about a quarter of a second.


class StoreError(StridesError, RuntimeError):
    """The database is unreachable, not migrated, or made by another version of strides."""


class StoreUnavailable(StoreError):
    """The database could not be reached or used just now (down, locked, out of space)."""


MIGRATIONS = str(Path(__file__).with_name("migrations"))
# The advisory lock `Store.exclusive` takes on PostgreSQL ("strides" as a number).
_LOCK_KEY = int.from_bytes(b"strides", "big")

# The schema revisions of development versions before 0.1.0, squashed into its baseline: no release
# made a store with them, and none is upgraded (`Store.migrate` says how to start afresh).
DEVELOPMENT_REVISIONS = frozenset(f"{n:04d}" for n in range(1, 13))

# The newest schema revision (a test holds it equal to the migrations' head). A store already at it
# is used without importing Alembic, which costs a command like `strides status` about 0.3 s.
HEAD_REVISION = "preference_page"


# Ids bound in one statement: under SQLite's bound-parameter limit (999 before SQLite 3.32).
BATCH = 900


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # busy_timeout waits instead of failing, first: switching a new database to WAL takes a lock
    # that processes starting together contend for. WAL lets readers and one writer work at once.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL is durable across application crashes (not power loss) and far faster.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@contextmanager
def sqlite_pragmas(session: Session, **values: int) -> Iterator[None]:
    """These SQLite pragmas (numbers: `cache_size`, `mmap_size`...) on the session's connection
    for the block, put back as they were after; nothing on other databases."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in values}
    for name, value in values.items():
        connection.exec_driver_sql(f"PRAGMA {name}={int(value)}")
    try:
        yield
    finally:
        for name, was in before.items():
            connection.exec_driver_sql(f"PRAGMA {name}={int(was or 0)}")


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 (the `postgres` extra), not psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


# Every engine this process made, so that a forked child can let their connections go.
_ENGINES: list[Engine] = []


def _forget_connections() -> None:
    """In a forked child (strides.speed): the parent's pooled connections are the parent's
    (two processes on one socket or SQLite handle corrupt each other), so the child drops them
    without closing them and opens its own, as SQLAlchemy advises for forked processes."""
    for engine in _ENGINES:
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_connections)


@functools.cache
def _engine(url: str) -> Engine:
    engine = _new_engine(url)
    _ENGINES.append(engine)
    return engine


def _new_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, json_deserializer=orjson.loads)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Stored records are read by the thousand (strides/store/window.py): orjson decodes them fast.
    return create_engine(url, pool_pre_ping=True, json_deserializer=orjson.loads)


class Store:
    """One database: SQLite by default, PostgreSQL for scale; the same schema on both."""

    def __init__(self, url: str) -> None:
        url = normalise_url(url)
        self.url = url
        self.engine = _engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def alembic_config(self) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", MIGRATIONS)
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return config

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the store's own lock: one process at a time migrates or saves the organisation,
        the others wait (PostgreSQL: an advisory lock; SQLite: a lock file beside the database)."""
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
            return
        path = self.engine.url.database
        if not path or path == ":memory:":
            yield
            return
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(f"{path}.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent; processes starting together take
        turns)."""
        if self.at_head():
            return
        from alembic import command

        try:
            with self.exclusive(), self.engine.begin() as connection:
                config = self.alembic_config()
                self._check_made_by_us(connection, config)
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise StoreError(f"cannot migrate {self.safe_url}: {exc.orig}") from exc

    def at_head(self) -> bool:
        """Whether the schema is at `HEAD_REVISION` already (False for a new or older store, or
        when it cannot tell: migrating, under the store's lock, then decides and says why)."""
        try:
            with self.engine.connect() as connection:
                if not self.engine.dialect.has_table(connection, "alembic_version"):
                    return False
                found = connection.execute(text("SELECT version_num FROM alembic_version"))
                revisions = list(found.scalars())
        except OperationalError:
            return False
        return revisions == [HEAD_REVISION]

    def _check_made_by_us(self, connection: Connection, config: Config) -> None:
        """A StoreError, not Alembic's traceback, for a store whose schema revision this version
        does not know: one made by a development version before 0.1.0, or by a newer strides."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
        for revision in MigrationContext.configure(connection).get_current_heads():
            if revision in DEVELOPMENT_REVISIONS:
                raise StoreError(
                    f"the store at {self.safe_url} was made by an unreleased development version of "
                    f"strides (schema revision {revision}), which this version cannot upgrade. Start "
                    f"afresh: {self._afresh()}, then run strides again; it makes a new store and fills "
                    "it from the organisation files. The old store's ledger goes with it, so messages "
                    "it already sent may be sent again."
                )
            if revision not in known:
                raise StoreError(
                    f"the store at {self.safe_url} was made by a newer version of strides (schema "
                    f"revision {revision}); upgrade strides to use it"
                )

    def _afresh(self) -> str:
        """How to remove this store."""
        path = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and path and path != ":memory:":
            return f"remove {path} (strides.db in the state folder)"
        return "drop the database and create it again, empty"

    def is_current(self) -> bool:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision() == head

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on error. StoreUnavailable when the
        database cannot be reached or used (its driver's OperationalError, with its words)."""
        try:
            with self._sessions.begin() as session:
                yield session
        except OperationalError as exc:
            raise StoreUnavailable(f"the store at {self.safe_url} is unavailable: {exc.orig}") from exc

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection without the ORM whose caller commits as it goes (`connection.commit()`), for
        hot paths that record many small outcomes: a fifth of a session's cost per commit. What is
        not committed when the block ends is rolled back."""
        with self.engine.connect() as connection:
            yield connection
