"""`strides email pause`, `resume` and `history`: an admin's changes to a person's pause are in
the same history as the person's own changes on their preference page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from strides.cli import app
from strides.config import Settings
from strides.domain.choices import OwnChoices
from strides.integrations.org_files import load_organisation
from strides.store import Store, preferences, snapshot

from .conftest import FIXTURES

runner = CliRunner()


def test_an_admin_s_pause_and_resume_are_in_the_person_s_history(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = Store(Settings(state_dir=state).db_url)
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, load_organisation(FIXTURES / "org-small").organisation)
        preferences.choose(
            session,
            "ana",
            OwnChoices(locale="de"),
            "person (preference page)",
            datetime(2026, 12, 1, tzinfo=UTC),
        )
    store.engine.dispose()

    def invoke(*args: str) -> str:
        result = runner.invoke(app, ["--state-dir", str(state), "email", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    invoke("pause", "ana", "--from", "2026-12-24T00:00:00+01:00", "--until", "2027-01-04T00:00:00+01:00")
    invoke("resume", "ana")
    rows = json.loads(invoke("history", "ana", "--json"))
    assert [(r["setting"], r["old"], r["new"], r["changed_by"]) for r in rows] == [
        ("locale", None, "de", "person (preference page)"),
        ("pause", None, "2026-12-23T23:00:00+00:00..2027-01-03T23:00:00+00:00", "admin (strides email)"),
        ("pause", "2026-12-23T23:00:00+00:00..2027-01-03T23:00:00+00:00", None, "admin (strides email)"),
    ]
    table = invoke("history", "ana")
    assert '"locale":"de"' in table and "(3)" in table

    unknown = runner.invoke(app, ["--state-dir", str(state), "email", "history", "nobody"])
    assert unknown.exit_code == 2
