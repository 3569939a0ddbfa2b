"""`strides rules ...` (schema, check, test) and `strides plan`: the admin's tools for rule files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

rules_app = typer.Typer(
    name="rules",
    help="Write, check and test rule files.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


def _files(paths: list[Path]) -> list[tuple[str, str]]:
    """(name, text) of each rule file; folders contribute their *.yaml and *.yml files."""
    found: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            members = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not members:
                err.print(f"[yellow]warning:[/] no rule files in {path}", highlight=False)
            found.extend((str(p), p.read_text(encoding="utf-8")) for p in members)
        elif path.is_file():
            found.append((str(path), path.read_text(encoding="utf-8")))
        else:
            err.print(f"[bold red]error:[/] no such file or folder: {path}", highlight=False)
            raise typer.Exit(2)
    return found


@rules_app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Print the JSON Schema of rule files (for yaml-language-server and other editors)."""
    from strides.rules.schema import json_schema

    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}", highlight=False)


@rules_app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="Rule files or folders of them.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print problems as JSON.")] = False,
) -> None:
    """Check rule files statically; report every problem as file:line:col: rule NAME: message."""
    from strides.rules.check import check_files

    files = _files(paths)
    ruleset, errors = check_files(files)
    if as_json:
        problems = [
            {
                "file": e.location.file if e.location else None,
                "line": e.location.line if e.location else None,
                "column": e.location.column if e.location else None,
                "rule": e.rule_id,
                "message": e.message,
                "hint": e.hint,
            }
            for e in errors
        ]
        typer.echo(json.dumps({"files": len(files), "problems": problems}, indent=2))
    else:
        for error in errors:
            out.print(str(error), highlight=False, soft_wrap=True, markup=False)
            if error.hint:
                out.print(f"    hint: {error.hint}", highlight=False, soft_wrap=True, markup=False)
        if ruleset is not None:
            out.print(f"{len(files)} file(s), {len(ruleset)} rule(s): OK", highlight=False)
        else:
            err.print(f"{len(errors)} problem(s) in {len(files)} file(s)", highlight=False)
    if errors:
        raise typer.Exit(1)
