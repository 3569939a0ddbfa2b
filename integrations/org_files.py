"""Load an organisation from a folder of CSV or YAML files (people, goals, milestones).

Bad records are rejected one by one with their file, line and field; every valid record
still loads. A record that points at a rejected record is rejected too, saying why.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from strides.domain.model import Goal, Milestone, Organisation, Person
from strides.domain.yamltext import LocatedDict, YamlError
from strides.domain.yamltext import load as load_yaml
from strides.integrations import SourceError

KINDS = ("people", "goals", "milestones")
SUFFIXES = (".csv", ".yaml", ".yml")


@dataclass(frozen=True)
class Rejection:
    """One bad record: where it is, which field, and what is wrong."""

    file: str
    line: int
    kind: str
    record_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        who = f"{self.kind} {self.record_id}" if self.record_id else self.kind
        what = f"field '{self.field}': " if self.field else ""
        return f"{self.file}:{self.line}: {who}: {what}{self.message}"


@dataclass
class LoadResult:
    organisation: Organisation
    rejected: list[Rejection] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


@dataclass(frozen=True)
class _Raw:
    file: str
    line: int
    data: dict[str, Any]
    # Line of each field in the source, where known (YAML); CSV fields share the row's line.
    field_lines: dict[str, int]
    # CSV rows are flat (`work_start`); YAML records nest (`working_hours: {start: ...}`).
    flat: bool = False

    @property
    def record_id(self) -> str | None:
        value = self.data.get("id")
        return str(value) if value not in (None, "") else None

    def line_of(self, name: str | None) -> int:
        return self.field_lines.get(name or "", self.line)


M = TypeVar("M", bound=BaseModel)


# --- reading files ---------------------------------------------------------------------------


def find_source_file(folder: Path, kind: str) -> Path | None:
    found = [folder / f"{kind}{suffix}" for suffix in SUFFIXES if (folder / f"{kind}{suffix}").is_file()]
    if len(found) > 1:
        raise SourceError(f"{folder}: both {found[0].name} and {found[1].name} exist; keep one")
    return found[0] if found else None


def _read_csv(path: Path, label: str) -> Iterator[_Raw]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        _ = reader.fieldnames  # reads the header, so line_num counts from it
        line = reader.line_num + 1
        for row in reader:
            cleaned = {
                k.strip(): (v.strip() if isinstance(v, str) else v)
                for k, v in row.items()
                if k is not None and v not in (None, "")
            }
            yield _Raw(label, line, cleaned, {}, flat=True)
            line = reader.line_num + 1


def _read_yaml(path: Path, label: str, kind: str) -> Iterator[_Raw]:
    try:
        document = load_yaml(path.read_text(encoding="utf-8"), label)
    except YamlError as exc:
        raise SourceError(str(exc)) from exc
    records = document.get(kind, []) if isinstance(document, dict) else document
    if document is None:
        return
    if not isinstance(records, list):
        raise SourceError(f"{label}:1: expected a list of {kind} (or a mapping with a '{kind}' list)")
    for item in records:
        if not isinstance(item, LocatedDict):
            raise SourceError(f"{label}: every entry of {kind} must be a mapping, got {item!r}")
        lines = {key: where[0] for key, where in item.key_lines.items()}
        yield _Raw(label, item.line, dict(item), lines)


def _read(folder: Path, kind: str, base: Path) -> tuple[list[_Raw], Path | None]:
    path = find_source_file(folder, kind)
    if path is None:
        return [], None
    try:
        label = str(path.relative_to(base))
    except ValueError:
        label = str(path)
    try:
        if path.suffix == ".csv":
            return list(_read_csv(path, label)), path
        return list(_read_yaml(path, label, kind)), path
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"{label}: cannot read: {exc}") from exc


# --- flat CSV columns to the nested model ----------------------------------------------------


def _split(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).replace(",", ";").split(";") if part.strip()]


_PERSON_COLUMNS = {
    "work_start": ("working_hours", "start"),
    "work_end": ("working_hours", "end"),
    "work_days": ("working_hours", "days"),
    "digest_enabled": ("digest", "enabled"),
    "digest_weekday": ("digest", "weekday"),
    "digest_at": ("digest", "at"),
    "digest_send_empty": ("digest", "send_empty"),
}
_GOAL_COLUMNS = {
    "metric": ("metric", "name"),
    "target": ("metric", "target"),
    "current": ("metric", "current"),
    "unit": ("metric", "unit"),
}


def _nest(data: dict[str, Any], columns: dict[str, tuple[str, str]], flat: bool) -> dict[str, Any]:
    if not flat:
        return dict(data)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in columns:
            outer, inner = columns[key]
            existing = out.setdefault(outer, {})
            if isinstance(existing, dict):
                existing[inner] = value
        else:
            out[key] = value
    return out


def _person_input(raw: _Raw) -> dict[str, Any]:
    out = _nest(raw.data, _PERSON_COLUMNS, raw.flat)
    if "mentors" in out:
        out["mentors"] = _split(out["mentors"])
    hours = out.get("working_hours")
    if isinstance(hours, dict) and "days" in hours and isinstance(hours["days"], str):
        hours["days"] = _split(hours["days"])
    return out


def _goal_input(raw: _Raw) -> dict[str, Any]:
    out = _nest(raw.data, _GOAL_COLUMNS, raw.flat)
    if "tags" in out:
        out["tags"] = _split(out["tags"])
    return out


def _column_name(loc: tuple[int | str, ...], columns: dict[str, tuple[str, str]]) -> str:
    """Name a pydantic error location the way the source file spells it."""
    path = tuple(str(p) for p in loc)
    for column, nested in columns.items():
        if path[:2] == nested:
            return column
    return ".".join(path) if path else ""


# --- validation ------------------------------------------------------------------------------


def _validate(
    raws: Iterable[_Raw],
    model: type[M],
    kind: str,
    prepare: Callable[[_Raw], dict[str, Any]],
    columns: dict[str, tuple[str, str]],
    rejected: list[Rejection],
) -> dict[str, tuple[M, _Raw]]:
    valid: dict[str, tuple[M, _Raw]] = {}
    first_line: dict[str, tuple[str, int]] = {}
    for raw in raws:
        rid = raw.record_id
        if rid is not None and rid in first_line:
            where = first_line[rid]
            rejected.append(
                Rejection(
                    raw.file,
                    raw.line_of("id"),
                    kind,
                    rid,
                    "id",
                    f"duplicate id {rid!r} (first defined at {where[0]}:{where[1]})",
                )
            )
            continue
        if rid is not None:
            first_line[rid] = (raw.file, raw.line)
        try:
            record = model.model_validate(prepare(raw))
        except ValidationError as exc:
            for error in exc.errors():
                name = _column_name(error["loc"], columns if raw.flat else {}) or None
                top = str(error["loc"][0]) if error["loc"] else None
                message = error["msg"].removeprefix("Value error, ")
                if error["type"] == "extra_forbidden":
                    message = "unknown field"
                rejected.append(Rejection(raw.file, raw.line_of(top), kind, rid, name, message))
            continue
        valid[record.id] = (record, raw)  # type: ignore[attr-defined]
    return valid


def _manager_cycles(people: dict[str, Person]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in people:
        path: list[str] = []
        node: str | None = start
        while node is not None and node in people and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = people[node].manager
        if node is not None and state.get(node) == 1:
            cycles.append(path[path.index(node) :])
        for visited in path:
            state[visited] = 2
    return cycles


def _resolve_people(
    people: dict[str, tuple[Person, _Raw]], rejected: list[Rejection], all_raw_ids: dict[str, _Raw]
) -> dict[str, Person]:
    def describe(ref: str) -> str:
        raw = all_raw_ids.get(ref)
        if raw is None:
            return f"unknown person {ref!r}"
        return f"person {ref!r} was rejected (see {raw.file}:{raw.line})"

    alive = dict(people)
    for cycle in _manager_cycles({pid: p for pid, (p, _) in alive.items()}):
        chain = " → ".join([*cycle, cycle[0]])
        for pid in cycle:
            person, raw = alive.pop(pid)
            rejected.append(
                Rejection(
                    raw.file, raw.line_of("manager"), "person", pid, "manager", f"manager cycle: {chain}"
                )
            )
            all_raw_ids[pid] = raw
    changed = True
    while changed:
        changed = False
        for pid, (person, raw) in list(alive.items()):
            bad = [("manager", person.manager)] if person.manager and person.manager not in alive else []
            bad += [("mentors", m) for m in person.mentors if m not in alive]
            if bad:
                for name, ref in bad:
                    rejected.append(
                        Rejection(raw.file, raw.line_of(name), "person", pid, name, describe(ref))
                    )
                del alive[pid]
                changed = True
    return {pid: person for pid, (person, _) in alive.items()}


def load_organisation(folder: Path, base: Path | None = None) -> LoadResult:
    """Read people, goals and milestones from `folder`; reject bad records, keep the rest."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(f"{folder}: organisation folder not found")
    base = base or Path.cwd()
    rejected: list[Rejection] = []
    raw_people, people_file = _read(folder, "people", base)
    if people_file is None:
        raise SourceError(f"{folder}: no people.csv or people.yaml")
    raw_goals, goals_file = _read(folder, "goals", base)
    raw_milestones, milestones_file = _read(folder, "milestones", base)

    people_raw_by_id = {rid: r for r in raw_people if (rid := r.record_id) is not None}
    people = _resolve_people(
        _validate(raw_people, Person, "person", _person_input, _PERSON_COLUMNS, rejected),
        rejected,
        dict(people_raw_by_id),
    )

    goals: dict[str, Goal] = {}
    for gid, (goal, raw) in _validate(raw_goals, Goal, "goal", _goal_input, _GOAL_COLUMNS, rejected).items():
        if goal.owner not in people:
            known = goal.owner in people_raw_by_id
            why = f"person {goal.owner!r} was rejected" if known else f"unknown person {goal.owner!r}"
            rejected.append(Rejection(raw.file, raw.line_of("owner"), "goal", gid, "owner", why))
            continue
        goals[gid] = goal

    goal_raw_ids = {r.record_id for r in raw_goals if r.record_id}
    milestones: dict[str, Milestone] = {}
    for mid, (milestone, raw) in _validate(
        raw_milestones, Milestone, "milestone", lambda raw: dict(raw.data), {}, rejected
    ).items():
        goal_of = goals.get(milestone.goal)
        if goal_of is None:
            known = milestone.goal in goal_raw_ids
            why = f"goal {milestone.goal!r} was rejected" if known else f"unknown goal {milestone.goal!r}"
            rejected.append(Rejection(raw.file, raw.line_of("goal"), "milestone", mid, "goal", why))
            continue
        if goal_of.deadline is not None and milestone.due > goal_of.deadline:
            rejected.append(
                Rejection(
                    raw.file,
                    raw.line_of("due"),
                    "milestone",
                    mid,
                    "due",
                    f"due {milestone.due.isoformat()} is after its goal's deadline "
                    f"{goal_of.deadline.isoformat()} (goal {goal_of.id})",
                )
            )
            continue
        milestones[mid] = milestone

    rejected.sort(key=lambda r: (r.file, r.line))
    organisation = Organisation(people=people, goals=goals, milestones=milestones)
    files = [p for p in (people_file, goals_file, milestones_file) if p is not None]
    return LoadResult(organisation, rejected, files)
