"""Deterministic synthetic organisations (seeded): the sample organisation and benchmarks."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import yaml

from strides.domain.model import (
    DigestPreferences,
    Goal,
    GoalStatus,
    Horizon,
    Metric,
    Milestone,
    Organisation,
    Person,
)

# (timezone, country, subdivision or None, weight)
PLACES = (
    ("Europe/London", "GB", None, 5),
    ("Europe/Berlin", "DE", "BE", 5),
    ("Europe/Paris", "FR", None, 3),
    ("America/New_York", "US", "NY", 5),
    ("America/Los_Angeles", "US", "CA", 3),
    ("America/Sao_Paulo", "BR", None, 2),
    ("Asia/Kolkata", "IN", None, 3),
    ("Asia/Tokyo", "JP", None, 2),
    ("Australia/Sydney", "AU", "NSW", 2),
)
FIRST = (
    "Ada",
    "Alan",
    "Amara",
    "Ana",
    "Arjun",
    "Aiko",
    "Bea",
    "Ben",
    "Carla",
    "Chen",
    "Dara",
    "Diego",
    "Elena",
    "Emeka",
    "Farah",
    "Femi",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Isaac",
    "Jonas",
    "Juno",
    "Kai",
    "Kavya",
    "Lars",
    "Lea",
    "Leo",
    "Lina",
    "Luca",
    "Maya",
    "Mei",
    "Mina",
    "Nia",
    "Noah",
    "Omar",
    "Priya",
    "Quinn",
    "Rafael",
    "Rin",
    "Sara",
    "Sofia",
    "Tariq",
    "Tomas",
    "Uma",
    "Vera",
    "Wen",
    "Yara",
    "Yusuf",
    "Zoe",
)
LAST = (
    "Achebe",
    "Bauer",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hoffmann",
    "Ito",
    "Jensen",
    "Kapoor",
    "Kowalski",
    "Laurent",
    "Martins",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Umar",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
)
GOAL_TEMPLATES = (
    (
        "Lead a cross-team design review",
        "Run design reviews end to end",
        "Grow technical leadership",
        "reviews led",
        4,
    ),
    (
        "Ship the accessibility audit",
        "Audit and fix the top flows",
        "Make the product usable by everyone",
        "flows fixed",
        10,
    ),
    ("Mentor a new joiner", "Pair weekly with a new colleague", "Share what I know", "sessions", 12),
    (
        "Get the AWS Solutions Architect certificate",
        "Pass the associate exam",
        "Own our infrastructure",
        "modules",
        8,
    ),
    ("Speak at an internal tech talk", "Prepare and give one talk", "Practise presenting", "talks", 1),
    (
        "Improve on-call runbooks",
        "Rewrite the five worst runbooks",
        "Calmer nights for everyone",
        "runbooks",
        5,
    ),
    ("Learn Spanish to B1", "Finish the B1 course", "Work with the Madrid team", "lessons", 40),
    ("Write the data-quality playbook", "Document our checks", "Fewer broken dashboards", "chapters", 6),
    ("Reduce p95 latency of search", "Profile and fix hot paths", "Faster product", "ms saved", 120),
    ("Run a customer interview series", "Interview ten customers", "Understand real needs", "interviews", 10),
    ("Become a code-review champion", "Review with care every day", "Raise the bar kindly", "reviews", 60),
    ("Build a personal learning habit", "Read and summarise papers", "Keep growing", "papers", 12),
)
MILESTONE_WORDS = (
    "Draft",
    "Outline",
    "First review",
    "Pilot",
    "Halfway check",
    "Final version",
    "Share results",
)


@dataclass(frozen=True)
class Shape:
    """How big and how busy the organisation is."""

    people: int = 48
    goals_per_person: float = 2.0
    milestones_per_goal: float = 3.0
    mentor_share: float = 0.6
    span_of_control: int = 6


def generate(shape: Shape, *, seed: int = 7, as_of: date = date(2026, 11, 30)) -> Organisation:
    rng = random.Random(seed)
    weights = [p[3] for p in PLACES]
    people: dict[str, Person] = {}
    ids = [f"p{n:0{max(3, len(str(shape.people)))}d}" for n in range(1, shape.people + 1)]
    for index, pid in enumerate(ids):
        tz, country, subdivision, _ = rng.choices(PLACES, weights)[0]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        # Managers come earlier in the list, so the hierarchy is a tree by construction.
        manager = None if index == 0 else ids[(index - 1) // shape.span_of_control]
        mentors: tuple[str, ...] = ()
        if index > 0 and rng.random() < shape.mentor_share:
            choice = rng.choice(ids)
            if choice not in (pid, manager):
                mentors = (choice,)
        people[pid] = Person(
            id=pid,
            name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower().replace('í', 'i')}.{pid}@example.com",
            timezone=tz,
            country=country,
            subdivision=subdivision,
            manager=manager,
            mentors=mentors,
            digest=DigestPreferences(weekday=rng.choice((1, 1, 1, 5)), at=time(rng.choice((8, 8, 9)), 0)),
            hired_on=as_of - timedelta(days=rng.randint(60, 2500)),
        )
    goals: dict[str, Goal] = {}
    milestones: dict[str, Milestone] = {}
    goal_no = milestone_no = 0
    for pid in ids:
        for _ in range(_count(rng, shape.goals_per_person)):
            goal_no += 1
            title, what, why, unit, target = rng.choice(GOAL_TEMPLATES)
            horizon = rng.choice((Horizon.SHORT, Horizon.SHORT, Horizon.LONG))
            created = as_of - timedelta(days=rng.randint(20, 200))
            span = rng.randint(20, 80) if horizon is Horizon.SHORT else rng.randint(120, 360)
            deadline = as_of + timedelta(days=rng.randint(-10, span))
            status = rng.choices((GoalStatus.ACTIVE, GoalStatus.COMPLETED, GoalStatus.DROPPED), (16, 3, 1))[0]
            measurable = rng.random() > 0.15
            current = round(target * rng.uniform(0, 1.0 if status is GoalStatus.ACTIVE else 1.2), 1)
            completed_at = None
            if status is GoalStatus.COMPLETED:
                completed_at = _moment(as_of - timedelta(days=rng.randint(0, 20)), rng)
            gid = f"g{goal_no:05d}"
            goals[gid] = Goal(
                id=gid,
                owner=pid,
                title=title,
                what=what,
                why=why,
                metric=Metric(name=unit, target=target, current=current, unit=unit) if measurable else None,
                deadline=deadline if rng.random() > 0.08 else None,
                horizon=horizon,
                status=status,
                tags=(rng.choice(("leadership", "craft", "learning", "impact")),),
                created_at=_moment(created, rng),
                completed_at=completed_at,
            )
            last_due = goals[gid].deadline or as_of + timedelta(days=span)
            first_due = created.toordinal() + 10
            for _ in range(_count(rng, shape.milestones_per_goal)):
                milestone_no += 1
                due = date.fromordinal(
                    rng.randint(min(first_due, last_due.toordinal()), last_due.toordinal())
                )
                done = status is GoalStatus.COMPLETED or (due < as_of and rng.random() < 0.6)
                mid = f"m{milestone_no:06d}"
                milestones[mid] = Milestone(
                    id=mid,
                    goal=gid,
                    title=f"{rng.choice(MILESTONE_WORDS)} — {title}",
                    due=due,
                    completed_at=_moment(min(due, as_of) - timedelta(days=rng.randint(0, 5)), rng)
                    if done
                    else None,
                )
    return Organisation(people=people, goals=goals, milestones=milestones)


def _count(rng: random.Random, mean: float) -> int:
    return max(0, round(rng.gauss(mean, mean / 3)))


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(7, 18), rng.choice((0, 15, 30, 45))), tzinfo=UTC)


# --- writing the files an HR export would give us -------------------------------------------------


def write_people_csv(org: Organisation, path: Path) -> None:
    columns = ["id", "name", "email", "timezone", "country", "subdivision", "manager", "mentors", "hired_on"]
    columns += ["work_start", "work_end", "digest_weekday", "digest_at"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for p in org.people.values():
            writer.writerow(
                [
                    p.id,
                    p.name,
                    p.email,
                    p.timezone,
                    p.country,
                    p.subdivision or "",
                    p.manager or "",
                    ";".join(p.mentors),
                    p.hired_on.isoformat() if p.hired_on else "",
                    p.working_hours.start.strftime("%H:%M"),
                    p.working_hours.end.strftime("%H:%M"),
                    ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[p.digest.weekday - 1],
                    p.digest.at.strftime("%H:%M"),
                ]
            )


def write_goals_yaml(org: Organisation, path: Path) -> None:
    records = [g.model_dump(mode="json", exclude_defaults=True) for g in org.goals.values()]
    path.write_text(
        "# Goals: SMART fields, deadlines in the owner's own timezone.\n"
        + yaml.safe_dump({"goals": records}, sort_keys=False, allow_unicode=True, width=110),
        encoding="utf-8",
    )


def write_milestones_csv(org: Organisation, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "goal", "title", "due", "completed_at"])
        for m in org.milestones.values():
            writer.writerow(
                [
                    m.id,
                    m.goal,
                    m.title,
                    m.due.isoformat(),
                    m.completed_at.isoformat() if m.completed_at else "",
                ]
            )


def write_folder(org: Organisation, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_people_csv(org, folder / "people.csv")
    write_goals_yaml(org, folder / "goals.yaml")
    write_milestones_csv(org, folder / "milestones.csv")
