"""Load an organisation from a folder of CSV or YAML files (people, goals, milestones).

Bad records are rejected one by one with their file, line and field; every valid record
still loads. A record that points at a rejected record is rejected too, saying why.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping
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
    # The record loaded without the refused value (a link to a manager or mentor that does not
    # resolve): only that value was rejected.
    kept: bool = False

    def __str__(self) -> str:
        who = f"{self.kind} {self.record_id}" if self.record_id else self.kind
        what = f"field '{self.field}': " if self.field else ""
        return f"{self.file}:{self.line}: {who}: {what}{self.message}"


@dataclass
class LoadResult:
    organisation: Organisation
    # Records, and links of records, that were refused (each located).
    rejected: list[Rejection] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    # What was read past without loss to strides: columns or keys it does not know.
    warnings: list[Rejection] = field(default_factory=list)

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
    # Why the record cannot be read at all (not UTF-8, more fields than the header, not a
    # mapping): it is rejected alone, the rest of its file still loads.
    problem: str | None = None

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
    # Bytes that are not UTF-8 are kept as surrogates, so that only their row is rejected.
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames  # reads the header, so line_num counts from it
        if header and any(_not_text(name) for name in header):
            raise SourceError(f"{label}:1: the header is not UTF-8 text")
        line = reader.line_num + 1
        for row in reader:
            cleaned = {
                k.strip(): (v.strip() if isinstance(v, str) else v)
                for k, v in row.items()
                if k is not None and v not in (None, "")
            }
            problem = None
            extra = row.get(None)  # DictReader puts a row's fields past the header here
            if extra:
                columns = len(header or ())
                problem = f"{columns + len(extra)} fields, the header has {columns}"
            elif any(_not_text(value) for value in cleaned.values()):
                problem = "not UTF-8 text"
            yield _Raw(label, line, cleaned, {}, flat=True, problem=problem)
            line = reader.line_num + 1


def _not_text(value: object) -> bool:
    """Whether a value read with `surrogateescape` held bytes that are not UTF-8."""
    return isinstance(value, str) and any("\udc80" <= c <= "\udcff" for c in value)


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
    for index, item in enumerate(records):
        if not isinstance(item, LocatedDict):
            # A list item has no line of its own: the list's, and which entry it is.
            problem = f"entry {index + 1} of {kind} is not a mapping: {str(item)[:60]!r}"
            yield _Raw(label, 1, {}, {}, problem=problem)
            continue
        lines = {key: where[0] for key, where in item.key_lines.items()}
        yield _Raw(label, item.line, dict(item), lines)


def _renamed(raw: _Raw, mapping: Mapping[str, str]) -> _Raw:
    """The record with its source columns named as strides names them (`--map`)."""
    if not mapping:
        return raw
    data = {mapping.get(key, key): value for key, value in raw.data.items()}
    lines = {mapping.get(key, key): line for key, line in raw.field_lines.items()}
    return _Raw(raw.file, raw.line, data, lines, raw.flat)


def _read(
    folder: Path, kind: str, base: Path, mapping: Mapping[str, str] | None = None
) -> tuple[list[_Raw], Path | None]:
    path = find_source_file(folder, kind)
    if path is None:
        return [], None
    try:
        label = str(path.relative_to(base))
    except ValueError:
        label = str(path)
    try:
        raws = list(_read_csv(path, label)) if path.suffix == ".csv" else list(_read_yaml(path, label, kind))
        return [_renamed(raw, mapping or {}) for raw in raws], path
    except SourceError:
        raise  # already says where
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
    "calendar_ics": ("calendar", "ics"),
    "calendar_caldav": ("calendar", "caldav"),
    "calendar_username": ("calendar", "username"),
    "calendar_password_env": ("calendar", "password_env"),
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


@dataclass
class _Unknown:
    """Columns or keys strides does not read: refused under `strict`, else one warning each."""

    strict: bool
    warnings: list[Rejection]
    seen: set[tuple[str, str]] = field(default_factory=set)

    def drop(self, raw: _Raw, known: Iterable[str], kind: str) -> _Raw:
        extra = set(raw.data) - set(known)
        if self.strict or not extra:
            return raw
        for name in sorted(extra):
            if (raw.file, name) not in self.seen:
                self.seen.add((raw.file, name))
                what = "column" if raw.flat else "key"
                line = 1 if raw.flat else raw.line_of(name)
                self.warnings.append(
                    Rejection(
                        raw.file,
                        line,
                        kind,
                        None if raw.flat else raw.record_id,
                        name,
                        f"unknown {what}, ignored (read it as a strides field with --map {name}=FIELD;"
                        " refuse it with --strict)",
                        kept=True,
                    )
                )
        data = {k: v for k, v in raw.data.items() if k not in extra}
        return _Raw(raw.file, raw.line, data, raw.field_lines, raw.flat)


def _validate(
    raws: Iterable[_Raw],
    model: type[M],
    kind: str,
    prepare: Callable[[_Raw], dict[str, Any]],
    columns: dict[str, tuple[str, str]],
    rejected: list[Rejection],
    unknown: _Unknown,
) -> dict[str, tuple[M, _Raw]]:
    valid: dict[str, tuple[M, _Raw]] = {}
    first_line: dict[str, tuple[str, int]] = {}
    known = [*model.model_fields, *(columns if columns else ())]
    for raw in raws:
        if raw.problem is not None:
            rejected.append(Rejection(raw.file, raw.line, kind, raw.record_id, None, raw.problem))
            continue
        raw = unknown.drop(raw, known, kind)
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
    """The people, each link to a manager or mentor that does not resolve dropped (and located):
    a bad link costs the link, not the person."""

    def describe(ref: str) -> str:
        raw = all_raw_ids.get(ref)
        if raw is None:
            return f"unknown person {ref!r}"
        return f"person {ref!r} was rejected (see {raw.file}:{raw.line})"

    def drop(pid: str, name: str, message: str, update: dict[str, Any]) -> None:
        person, raw = alive[pid]
        rejected.append(Rejection(raw.file, raw.line_of(name), "person", pid, name, message, kept=True))
        alive[pid] = (person.model_copy(update=update), raw)

    alive = dict(people)
    for pid, (person, _) in list(alive.items()):
        if person.manager and person.manager not in alive:
            drop(pid, "manager", f"{describe(person.manager)}; loaded without a manager", {"manager": None})
        missing = [m for m in person.mentors if m not in alive]
        for ref in missing:
            drop(pid, "mentors", f"{describe(ref)}; loaded without this mentor", {})
        if missing:
            kept = tuple(m for m in person.mentors if m in alive)
            alive[pid] = (alive[pid][0].model_copy(update={"mentors": kept}), alive[pid][1])
    for cycle in _manager_cycles({pid: p for pid, (p, _) in alive.items()}):
        chain = " → ".join([*cycle, cycle[0]])
        for pid in cycle:
            drop(pid, "manager", f"manager cycle: {chain}; loaded without a manager", {"manager": None})
    return {pid: person for pid, (person, _) in alive.items()}


def load_organisation(
    folder: Path, base: Path | None = None, *, strict: bool = False, mapping: Mapping[str, str] | None = None
) -> LoadResult:
    """Read people, goals and milestones from `folder`; reject bad records, keep the rest.

    `mapping` names source columns as strides fields (`{"work_email": "email"}`); columns strides
    does not know are warnings, or rejections when `strict`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(f"{folder}: organisation folder not found")
    base = base or Path.cwd()
    rejected: list[Rejection] = []
    unknown = _Unknown(strict, [])
    raw_people, people_file = _read(folder, "people", base, mapping)
    if people_file is None:
        raise SourceError(f"{folder}: no people.csv or people.yaml")
    raw_goals, goals_file = _read(folder, "goals", base, mapping)
    raw_milestones, milestones_file = _read(folder, "milestones", base, mapping)

    people_raw_by_id = {rid: r for r in raw_people if (rid := r.record_id) is not None}
    people = _resolve_people(
        _validate(raw_people, Person, "person", _person_input, _PERSON_COLUMNS, rejected, unknown),
        rejected,
        dict(people_raw_by_id),
    )

    goals: dict[str, Goal] = {}
    for gid, (goal, raw) in _validate(
        raw_goals, Goal, "goal", _goal_input, _GOAL_COLUMNS, rejected, unknown
    ).items():
        if goal.owner not in people:
            known = goal.owner in people_raw_by_id
            why = f"person {goal.owner!r} was rejected" if known else f"unknown person {goal.owner!r}"
            rejected.append(Rejection(raw.file, raw.line_of("owner"), "goal", gid, "owner", why))
            continue
        goals[gid] = goal

    goal_raw_ids = {r.record_id for r in raw_goals if r.record_id}
    milestones: dict[str, Milestone] = {}
    for mid, (milestone, raw) in _validate(
        raw_milestones, Milestone, "milestone", lambda raw: dict(raw.data), {}, rejected, unknown
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
    unknown.warnings.sort(key=lambda r: (r.file, r.line))
    return LoadResult(organisation, rejected, files, unknown.warnings)
