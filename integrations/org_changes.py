"""Scripted organisation changes: a goal's deadline moves, a goal is dropped, a mentor changes.

The demo applies them before the tick of the day they name, so its simulated span shows what
strides does when the organisation changes under planned meetings (examples/org-changes.yaml).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from strides.domain.model import Organisation
from strides.integrations import SourceError


class OrgChange(BaseModel):
    """One change: on `day`, set fields of one goal or one person."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: date
    goal: str | None = None
    person: str | None = None
    set: dict[str, Any] = Field(min_length=1)
    why: str = ""

    @model_validator(mode="after")
    def _one_target(self) -> OrgChange:
        if (self.goal is None) == (self.person is None):
            raise ValueError("a change names exactly one of `goal` or `person`")
        return self

    @property
    def target(self) -> str:
        return f"goal {self.goal}" if self.goal else f"person {self.person}"

    def __str__(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in self.set.items())
        return f"{self.day}: {self.target}: {fields}" + (f" ({self.why})" if self.why else "")


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changes: list[OrgChange]


def load_changes(path: Path) -> list[OrgChange]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return sorted(_File.model_validate(data).changes, key=lambda c: c.day)
    except (OSError, yaml.YAMLError) as exc:
        raise SourceError(f"{path}: cannot read organisation changes: {exc}") from exc
    except ValidationError as exc:
        raise SourceError(f"{path}: invalid organisation changes:\n{exc}") from exc


def apply_change(org: Organisation, change: OrgChange) -> Organisation:
    """A new organisation with `change` applied; raises SourceError when it does not fit."""
    try:
        if change.goal is not None:
            goal = org.goals[change.goal]
            updated = goal.model_validate({**goal.model_dump(), **change.set})
            goals = {**org.goals, goal.id: updated}
            return Organisation(people=org.people, goals=goals, milestones=org.milestones)
        assert change.person is not None
        person = org.people[change.person]
        changed = person.model_validate({**person.model_dump(), **change.set})
        people = {**org.people, person.id: changed}
        return Organisation(people=people, goals=org.goals, milestones=org.milestones)
    except KeyError as exc:
        raise SourceError(f"change on {change.day}: unknown {change.target}") from exc
    except ValidationError as exc:
        raise SourceError(f"change on {change.day} to {change.target}: {exc}") from exc
