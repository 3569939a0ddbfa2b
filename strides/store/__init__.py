"""Persistence, and the only place that writes SQL: the organisation snapshot, the ledger of every
message, the meetings as last sent, skips, preferences, suppressions (SQLAlchemy 2 + Alembic)."""

from sqlalchemy.orm import Session

from strides.store.db import Store, StoreError, StoreUnavailable

__all__ = ["Session", "Store", "StoreError", "StoreUnavailable"]
