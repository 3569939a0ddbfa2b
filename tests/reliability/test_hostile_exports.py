"""Hostile and broken organisation files (HR exports): a broken export changes nothing, a YAML
bomb or a deep nesting is refused at once with its location, and one bad row costs that row alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from strides.integrations import SourceError
from strides.integrations.org_files import load_organisation

from ..conftest import SAMPLE_ORG


@pytest.mark.parametrize("breakage", ["semicolons", "empty", "no-header"])
def test_a_broken_people_export_is_not_applied_and_cancels_nothing(
    tmp_path: Path, store, builtin_rules, breakage: str
) -> None:
    from datetime import UTC, datetime, timedelta

    from strides import engine
    from strides.engine.intake import MassChange, store_organisation
    from strides.rules import Window
    from strides.store import ledger, snapshot

    good = load_organisation(SAMPLE_ORG)
    store_organisation(store, good)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    engine.plan_window(store, builtin_rules, Window(now - timedelta(days=1), now), now)
    broken = tmp_path / "org"
    broken.mkdir()
    for path in SAMPLE_ORG.iterdir():
        (broken / path.name).write_text(path.read_text())
    lines = (SAMPLE_ORG / "people.csv").read_text().splitlines()
    (broken / "people.csv").write_text(
        {
            "semicolons": "\n".join(line.replace(",", ";") for line in lines),
            "empty": "",
            "no-header": "\n".join(lines[1:]),
        }[breakage]
    )
    with pytest.raises(MassChange, match=r"it would remove 48 of 48 people;.*--accept-mass-change"):
        store_organisation(store, load_organisation(broken))
    with store.session() as session:
        assert snapshot.count_people(session) == 48
    later = now + timedelta(hours=1)
    engine.plan_window(store, builtin_rules, Window(now, later), later)
    with store.session() as session:
        assert ledger.messages(session, status=ledger.CANCELLED) == []
        assert not [m for m in ledger.messages(session) if m.sequence > 0]
    store_organisation(store, load_organisation(broken), accept_mass_change=True)
    with store.session() as session:
        assert snapshot.count_people(session) < 48


def test_hostile_yaml_is_refused_and_located(tmp_path: Path):
    levels = "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 9))
    bomb = "x: &l0 [a, b, c, d, e, f, g, h, i]\n" + levels + "people:\n  - {id: a, name: A, tags: *l8}\n"
    deep = "people:\n  - id: a\n    mentors: " + "[" * 5000 + "]" * 5000 + "\n"
    for name, text in (("bomb", bomb), ("deep", deep)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "people.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(
            SourceError, match=r"people.yaml:\d+:\d+: .*(more than 20 aliases|nested more than 64)"
        ):
            load_organisation(folder, base=folder)


def test_a_name_with_a_control_character_rejects_that_person_only(tmp_path: Path):
    (tmp_path / "people.csv").write_text(
        "id,name,email,timezone,country\n"
        "a,Ada,ada@example.com,Europe/Berlin,DE\n"
        'b,"Bob\x00",bob@example.com,Europe/Berlin,DE\n'
        f"c,{'C' * 300},c@example.com,Europe/Berlin,DE\n",
        encoding="utf-8",
    )
    loaded = load_organisation(tmp_path, base=tmp_path)
    assert set(loaded.organisation.people) == {"a"}
    assert [str(r) for r in loaded.rejected] == [
        "people.csv:3: person b: field 'name': control character '\\x00' at position 4 (one line of text)",
        "people.csv:4: person c: field 'name': String should have at most 200 characters",
    ]


def test_a_row_that_cannot_be_read_is_rejected_alone(tmp_path: Path):
    (tmp_path / "people.csv").write_bytes(
        b"id,name,email,timezone,country\n"
        b"a,Ada,ada@example.com,Europe/Berlin,DE\n"
        b"b,B\xe9b,bob@example.com,Europe/Berlin,DE\n"
        b"c,Cy,c@example.com,Europe/Berlin,DE,surplus\n"
        b"d,Dee,d@example.com,Europe/Berlin,DE\n"
    )
    (tmp_path / "goals.yaml").write_text(
        "goals:\n  - just a string\n  - {id: g1, owner: a, title: T, created_at: '2026-01-01T00:00:00Z'}\n",
        encoding="utf-8",
    )
    loaded = load_organisation(tmp_path, base=tmp_path)
    assert set(loaded.organisation.people) == {"a", "d"} and set(loaded.organisation.goals) == {"g1"}
    assert [str(r) for r in loaded.rejected] == [
        "goals.yaml:1: goal: entry 1 of goals is not a mapping: 'just a string'",
        "people.csv:3: person b: not UTF-8 text",
        "people.csv:4: person c: 6 fields, the header has 5",
    ]
