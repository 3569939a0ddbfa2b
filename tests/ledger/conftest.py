"""The ledger on both databases it supports: every test here runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strides.domain.model import Organisation
from strides.store import Store, snapshot
from tests.postgres import empty_tables, throwaway_database


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with throwaway_database() as url:
        Store(url).migrate()
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A migrated, empty store on each backend."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'strides.db'}")
        store.migrate()
        return store
    url = request.getfixturevalue("postgres_url")
    empty_tables(url)
    return Store(url)


@pytest.fixture
def any_loaded_store(any_store: Store, sample_org: Organisation) -> Store:
    with any_store.session() as session:
        snapshot.save_organisation(session, sample_org)
    return any_store
