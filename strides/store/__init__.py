"""Persistence: the organisation snapshot and the ledger of every message (SQLAlchemy 2)."""

from strides.store.db import Store

__all__ = ["Store"]
