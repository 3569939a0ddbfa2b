"""Insert-if-new on both backends: the one way the store adds rows keyed by a unique column."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_new(session: Session, table: Any, key: str, rows: Sequence[dict[str, Any]]) -> list[Any]:
    """Insert the rows whose `key` is not taken yet, in the caller's transaction; their keys.

    One cached statement executed for many rows (SQLAlchemy sends them as multi-row INSERTs):
    building a literal multi-VALUES statement per batch cost more than the inserting.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert: Any
    if dialect == "postgresql":
        insert = postgresql.insert(table)
    elif dialect == "sqlite":
        insert = sqlite.insert(table)
    else:
        raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {dialect}")
    statement = insert.on_conflict_do_nothing(index_elements=[key]).returning(table.__table__.c[key])
    return list(session.connection().execute(statement, list(rows)).scalars())
