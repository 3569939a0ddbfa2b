"""Fixtures of the orchestration tests: a migrated PostgreSQL store holding the sample organisation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from strides.domain.model import Organisation
from strides.store import Store, snapshot
from tests.postgres import empty_tables, throwaway_database


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with throwaway_database() as url:
        Store(url).migrate()
        yield url


@pytest.fixture
def pg_store(postgres_url: str, sample_org: Organisation) -> Store:
    empty_tables(postgres_url)
    store = Store(postgres_url)
    with store.session() as session:
        snapshot.save_organisation(session, sample_org)
    return store
