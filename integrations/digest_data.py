"""A digest as plain JSON data, for SendGrid dynamic templates (`dynamic_template_data`).

The same facts the Jinja2 templates show; the template (Handlebars, on SendGrid's side) escapes them.
"""

from __future__ import annotations

from typing import Any

from strides.integrations.i18n import language, translations
from strides.rules.digest import Digest


def digest_data(
    digest: Digest, meetings: list[str], local_date: str, preferences_url: str | None = None
) -> dict[str, Any]:
    person = digest.person
    lang = language(person.locale)
    step = digest.next
    return {
        "name": person.name,
        "first_name": person.name.split(" ")[0],
        # The template (SendGrid's, per language) picks its words; the suggestion comes translated.
        "locale": lang,
        "local_date": local_date,
        "next_step": translations(lang).gettext(step.message) % step.values if step else "",
        "wins": [{"title": w.title, "goal": w.goal_title} for w in digest.wins],
        "overdue": [
            {"title": d.title, "goal": d.goal_title, "due": d.due.isoformat(), "days_late": -d.days_left}
            for d in digest.overdue
        ],
        "due_soon": [
            {"title": d.title, "goal": d.goal_title, "due": d.due.isoformat(), "days_left": d.days_left}
            for d in digest.due_soon
        ],
        "goals": [
            {
                "title": line.goal.title,
                "progress": None if line.progress is None else round(line.progress * 100),
                "deadline": line.goal.deadline.isoformat() if line.goal.deadline else None,
            }
            for line in digest.goals
        ],
        "meetings": list(meetings),
        "reports": [
            {
                "name": r.person.name,
                "active_goals": r.active_goals,
                "overdue": r.overdue_milestones,
                "wins": r.wins,
            }
            for r in digest.reports
        ],
        # The recipient's own preference page (None when links are not set up).
        "preferences_url": preferences_url,
    }
