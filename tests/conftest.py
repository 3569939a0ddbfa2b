"""Shared fixtures: files under tests/fixtures, a fresh store, and one Prefect harness per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from strides.config import Settings
from strides.domain.model import Organisation
from strides.domain.parse import RuleSet
from strides.integrations.org_files import load_organisation
from strides.integrations.rule_files import load_rules
from strides.store import Store, snapshot

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent
SAMPLE_ORG = ROOT / "examples" / "org"


def pytest_configure(config: pytest.Config) -> None:
    # Prefect reads PREFECT_HOME at import: keep it (and everything else) inside the test run.
    home = Path(os.environ.get("STRIDES_TEST_HOME", ROOT / ".strides" / "test-prefect"))
    home.mkdir(parents=True, exist_ok=True)  # Prefect creates its home without parents
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


@pytest.fixture(scope="session")
def sample_org() -> Organisation:
    result = load_organisation(SAMPLE_ORG, base=ROOT)
    assert result.ok, result.rejected
    return result.organisation


@pytest.fixture(scope="session")
def builtin_rules() -> RuleSet:
    return load_rules()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path / "state", organisation=SAMPLE_ORG)


@pytest.fixture
def store(settings: Settings) -> Store:
    store = Store(settings.db_url)
    store.migrate()
    return store


@pytest.fixture
def loaded_store(store: Store, sample_org: Organisation) -> Store:
    with store.session() as session:
        snapshot.save_organisation(session, sample_org)
    return store


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the whole session (about 7 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    from strides.flows.environment import no_heartbeats

    with prefect_test_harness(server_startup_timeout=120), no_heartbeats():
        yield


def at(text: str) -> datetime:
    """An aware UTC moment from 'YYYY-MM-DD HH:MM'."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
