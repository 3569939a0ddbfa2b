"""Loading an organisation: bad records are located and rejected, the rest loads."""

from __future__ import annotations

from collections import Counter
from datetime import time
from pathlib import Path

import pytest

from strides.domain.model import GoalStatus, Organisation
from strides.integrations import SourceError
from strides.integrations.org_files import Rejection, load_organisation

from .conftest import FIXTURES, ROOT, SAMPLE_ORG

BAD = FIXTURES / "org-bad"


@pytest.fixture(scope="module")
def bad():
    return load_organisation(BAD, base=FIXTURES)


def test_every_bad_record_is_reported_with_file_line_and_field(bad):
    reported = {(r.file, r.line, r.record_id, r.field) for r in bad.rejected}
    assert reported == {
        ("org-bad/people.csv", 3, "bob", "timezone"),
        ("org-bad/people.csv", 4, "carol", "email"),
        ("org-bad/people.csv", 5, "dan", "manager"),
        ("org-bad/people.csv", 6, "erin", "mentors"),
        ("org-bad/people.csv", 7, "alice", "id"),
        ("org-bad/people.csv", 8, "fay", "manager"),
        ("org-bad/people.csv", 9, "gus", "manager"),
        ("org-bad/goals.yaml", 14, "g3", "owner"),
        ("org-bad/goals.yaml", 20, "g4", "created_at"),
        ("org-bad/milestones.csv", 3, "m2", "due"),
        ("org-bad/milestones.csv", 4, "m3", "goal"),
    }


def test_messages_say_what_is_wrong(bad):
    text = "\n".join(str(r) for r in bad.rejected)
    assert (
        "org-bad/people.csv:3: person bob: field 'timezone': unknown IANA timezone 'Mars/Olympus_Mons'"
        in text
    )
    assert "unknown person 'zed'" in text
    assert "duplicate id 'alice' (first defined at org-bad/people.csv:2)" in text
    assert "manager cycle: fay → gus → fay" in text
    assert "person 'bob' was rejected" in text
    assert "is after its goal's deadline 2026-12-20 (goal g1)" in text
    assert "timezone" in next(str(r) for r in bad.rejected if r.record_id == "g4")


def test_valid_records_still_load(bad):
    org = bad.organisation
    # A bad link (unknown manager or mentor, a manager cycle) costs the link, not the person.
    assert set(org.people) == {"alice", "dan", "erin", "fay", "gus", "hana"}
    assert [org.people[p].manager for p in ("dan", "erin", "fay", "gus")] == [None, "alice", None, None]
    assert org.people["erin"].mentors == ()
    assert {r.record_id for r in bad.rejected if r.kept} == {"dan", "erin", "fay", "gus"}
    assert set(org.goals) == {"g1", "g2"}
    assert set(org.milestones) == {"m1", "m4"}
    assert not bad.ok


def test_missing_folder_is_a_source_error(tmp_path: Path):
    with pytest.raises(SourceError, match="not found"):
        load_organisation(tmp_path / "nowhere")


def test_yaml_syntax_error_is_located(tmp_path: Path):
    (tmp_path / "people.yaml").write_text("people:\n  - id: a\n    name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"people.yaml:\d+:\d+: YAML syntax error"):
        load_organisation(tmp_path, base=tmp_path)


def test_duplicate_yaml_keys_are_refused(tmp_path: Path):
    (tmp_path / "people.yaml").write_text("people:\n  - id: a\n    id: b\n    name: A\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"people.yaml:3:5: duplicate key 'id' \(first defined on line 2\)"):
        load_organisation(tmp_path, base=tmp_path)


def test_sample_organisation_is_realistic(sample_org: Organisation):
    people = sample_org.people.values()
    assert len(sample_org.people) >= 40
    assert len({p.timezone for p in people}) >= 5
    assert len({p.country for p in people}) >= 4
    assert any(p.mentors for p in people) and any(p.manager for p in people)
    horizons = Counter(g.horizon.value for g in sample_org.goals.values())
    assert horizons["short"] and horizons["long"]
    statuses = Counter(g.status for g in sample_org.goals.values())
    assert statuses[GoalStatus.COMPLETED] and statuses[GoalStatus.ACTIVE]
    demo_start = __import__("datetime").date(2026, 11, 30)
    overdue = [m for m in sample_org.milestones.values() if not m.done and m.due < demo_start]
    assert overdue, "the sample should have overdue milestones"


def test_sample_folder_mixes_csv_and_yaml():
    names = sorted(p.name for p in SAMPLE_ORG.iterdir())
    assert names == ["goals.yaml", "milestones.csv", "people.csv"]
    assert SAMPLE_ORG.is_relative_to(ROOT)


def test_a_record_rejected_now_keeps_its_last_good_version():
    from strides.engine.intake import keep_last_good

    yesterday = load_organisation(FIXTURES / "org-small", base=FIXTURES).organisation
    # Today's export breaks Ben's email (so his goal and milestones are rejected with him) and Cara left.
    today = Organisation(people={"ana": yesterday.people["ana"]}, goals={}, milestones={})
    rejected = [
        Rejection("people.csv", 3, "person", "ben", "email", "not a valid email address"),
        Rejection("goals.yaml", 2, "goal", "g-ben", "owner", "person 'ben' was rejected"),
        Rejection("milestones.csv", 2, "milestone", "m-outline", "goal", "goal 'g-ben' was rejected"),
        Rejection("milestones.csv", 3, "milestone", "m-dry-run", "goal", "goal 'g-ben' was rejected"),
    ]
    merged = keep_last_good(yesterday, today, rejected)
    assert set(merged.people) == {"ana", "ben"}
    assert merged.people["ben"].email == yesterday.people["ben"].email
    assert merged.people["ben"].mentors == (), "Cara left: the kept record no longer points at her"
    assert set(merged.goals) == {"g-ben"}
    assert set(merged.milestones) == {"m-outline", "m-dry-run"}


def test_unquoted_times_in_yaml_are_times_of_day(tmp_path: Path):
    # YAML 1.1 reads 12:00 as the base-60 number 720: a time field must not take it as 00:12.
    (tmp_path / "people.yaml").write_text(
        "people:\n"
        "  - id: a\n    name: A\n    email: a@example.com\n    timezone: Europe/Berlin\n    country: DE\n"
        "    working_hours: {start: 10:30, end: 17:00}\n"
        "    digest: {weekday: fri, at: 12:00}\n",
        encoding="utf-8",
    )
    loaded = load_organisation(tmp_path, base=tmp_path)
    person = loaded.organisation.people["a"]
    assert (person.working_hours.start, person.working_hours.end) == (time(10, 30), time(17, 0))
    assert person.digest.at == time(12, 0)


HR_EXPORT = FIXTURES / "org-hr-export"


def test_an_hr_export_loads_everyone_it_can_and_names_each_problem():
    loaded = load_organisation(HR_EXPORT, base=FIXTURES)
    assert sorted(loaded.organisation.people) == ["ada", "ben", "cy", "dee", "eve"]
    assert [str(r) for r in loaded.rejected] == [
        "org-hr-export/people.csv:2: person ada: field 'manager': manager cycle: ada → ben → ada;"
        " loaded without a manager",
        "org-hr-export/people.csv:3: person ben: field 'manager': manager cycle: ada → ben → ada;"
        " loaded without a manager",
        "org-hr-export/people.csv:5: person dee: field 'mentors': unknown person 'cyy';"
        " loaded without this mentor",
    ]
    assert [str(w) for w in loaded.warnings] == [
        "org-hr-export/people.csv:1: person: field 'department': unknown column, ignored (read it as a"
        " strides field with --map department=FIELD; refuse it with --strict)",
        "org-hr-export/people.csv:1: person: field 'work_email': unknown column, ignored (read it as a"
        " strides field with --map work_email=FIELD; refuse it with --strict)",
    ]


def test_strict_refuses_unknown_columns_and_a_mapping_reads_them():
    strict = load_organisation(HR_EXPORT, base=FIXTURES, strict=True)
    assert {r.message for r in strict.rejected if r.field == "department"} == {"unknown field"}
    assert strict.organisation.people == {}

    mapped = load_organisation(
        HR_EXPORT, base=FIXTURES, mapping={"work_email": "email", "email": "home_email"}
    )
    assert str(mapped.organisation.people["ada"].email) == "ada@work.example.com"
    assert {w.field for w in mapped.warnings} == {"department", "home_email"}


def test_a_link_refused_now_keeps_its_last_good_value(tmp_path: Path):
    from strides.engine.intake import keep_last_good

    source = FIXTURES / "org-small"
    yesterday = load_organisation(source, base=FIXTURES).organisation
    # Today's export makes Ana and Ben each other's manager and misspells Ben's mentor.
    for path in source.iterdir():
        (tmp_path / path.name).write_text(path.read_text())
    people = tmp_path / "people.yaml"
    text = people.read_text().replace("    subdivision: BE\n", "    subdivision: BE\n    manager: ben\n", 1)
    people.write_text(text.replace("mentors: [cara]", "mentors: [carra]"))
    loaded = load_organisation(tmp_path, base=tmp_path)
    assert sorted((r.record_id, r.field) for r in loaded.rejected) == [
        ("ana", "manager"),
        ("ben", "manager"),
        ("ben", "mentors"),
    ]
    merged = keep_last_good(yesterday, loaded.organisation, loaded.rejected)
    assert {p: merged.people[p].manager for p in merged.people} == {
        p: yesterday.people[p].manager for p in yesterday.people
    }
    assert merged.people["ben"].mentors == yesterday.people["ben"].mentors == ("cara",)
