"""`strides org check`: an organisation folder validated as a tick would load it, nothing sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from strides.cli.app import app, state
from strides.cli.output import EXIT_REJECTED, EXIT_USAGE, fail, print_rejections, say

org_app = typer.Typer(
    name="org", help="The organisation: check a folder of people, goals and milestones.", no_args_is_help=True
)
app.add_typer(org_app)


def parse_mapping(pairs: list[str] | None) -> dict[str, str]:
    """`--map SOURCE=FIELD` options as {source column: strides field}."""
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise fail(f"--map {pair!r}: write SOURCE=FIELD, for example --map work_email=email", EXIT_USAGE)
        mapping[source.strip()] = target.strip()
    return mapping


MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        metavar="SOURCE=FIELD",
        help="Read a source column as a strides field (repeatable), e.g. --map work_email=email.",
    ),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Refuse records with columns strides does not know.")
]


@org_app.command("check")
def check(
    folder: Annotated[
        Path | None, typer.Argument(help="Organisation folder (default: the configured one).")
    ] = None,
    mapping: MapOption = None,
    strict: StrictOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Validate an organisation without sending: every problem located, exit 3 when there are any."""
    from strides.domain.errors import StridesError
    from strides.integrations.org_files import load_organisation

    source = folder or state.settings.organisation
    try:
        loaded = load_organisation(source, strict=strict, mapping=parse_mapping(mapping))
    except StridesError as exc:
        raise fail(str(exc)) from None
    org = loaded.organisation
    counts = {"people": len(org.people), "goals": len(org.goals), "milestones": len(org.milestones)}
    if as_json:
        payload = {
            "folder": str(source),
            "loaded": counts,
            "rejected": [{**vars(r), "text": str(r)} for r in loaded.rejected],
            "warnings": [{**vars(w), "text": str(w)} for w in loaded.warnings],
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        print_rejections(loaded.rejected, loaded.warnings)
        verdict = "OK" if not loaded.rejected else f"{len(loaded.rejected)} problem(s)"
        say(
            f"{source}: {counts['people']} people, {counts['goals']} goals, "
            f"{counts['milestones']} milestones loaded; {verdict}"
        )
    if loaded.rejected:
        raise typer.Exit(EXIT_REJECTED)
