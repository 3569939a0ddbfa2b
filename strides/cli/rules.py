"""`strides rules ...` (schema, check, test) and `strides plan`: the admin's tools for rule files."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from strides.cli.app import app, state
from strides.cli.output import EXIT_USAGE, err, out, print_rejections, say

if TYPE_CHECKING:
    from rich.progress import TaskID

    from strides.domain.model import Organisation
    from strides.domain.parse import RuleSet
    from strides.rules import Plan, Window

rules_app = typer.Typer(
    name="rules",
    help="Write, check and test rule files.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(rules_app)


def _read(path: Path, unreadable: list[str]) -> tuple[str, str] | None:
    try:
        return str(path), path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        unreadable.append(f"{path}:1:1: cannot read: not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        unreadable.append(f"{path}:1:1: cannot read: {exc.strerror}")
    return None


def _files(paths: list[Path], unreadable: list[str] | None = None) -> list[tuple[str, str]]:
    """(name, text) of each rule file; folders contribute their *.yaml and *.yml files."""
    problems: list[str] = [] if unreadable is None else unreadable
    found: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            members = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not members:
                err.print(f"[yellow]warning:[/] no rule files in {path}", highlight=False)
        elif path.is_file():
            members = [path]
        else:
            err.print(f"[bold red]error:[/] no such file or folder: {path}", highlight=False)
            raise typer.Exit(EXIT_USAGE)
        found.extend(item for p in members if (item := _read(p, problems)) is not None)
    if unreadable is None and problems:
        for problem in problems:
            err.print(problem, highlight=False, markup=False)
        raise typer.Exit(1)
    return found


@rules_app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Print the JSON Schema of rule files (for yaml-language-server and other editors)."""
    from strides.domain.schema import json_schema

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
    from strides.domain.check import check_all

    unreadable: list[str] = []
    files = _files(paths, unreadable)
    ruleset, errors, warnings = check_all(files)
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
        problems += [{"message": u} for u in unreadable]
        cautions = [{"at": str(w.location), "rule": w.rule_id, "message": w.message} for w in warnings]
        typer.echo(json.dumps({"files": len(files), "problems": problems, "warnings": cautions}, indent=2))
    else:
        for problem in unreadable:
            out.print(problem, highlight=False, soft_wrap=True, markup=False)
        for error in errors:
            out.print(str(error), highlight=False, soft_wrap=True, markup=False)
            if error.hint:
                out.print(f"    hint: {error.hint}", highlight=False, soft_wrap=True, markup=False)
        for warning in warnings:
            say(f"{warning.location}: warning: rule {warning.rule_id}: {warning.message} ({warning.hint})")
        if ruleset is not None and not unreadable:
            out.print(f"{len(files)} file(s), {len(ruleset)} rule(s): OK", highlight=False)
        else:
            err.print(f"{len(errors) + len(unreadable)} problem(s) in {len(files)} file(s)", highlight=False)
    if errors or unreadable:
        raise typer.Exit(1)


def rule_test_loader(base: Path) -> Callable[[Sequence[str]], RuleSet]:
    """Loads the `rule_files` a test names, relative to the test file (or `builtin`)."""
    from strides.domain.check import load_checked
    from strides.integrations.rule_files import builtin_rule_files

    def load(names: Sequence[str]) -> RuleSet:
        files: list[tuple[str, str]] = []
        for name in names:
            if name == "builtin":
                files.extend(builtin_rule_files())
                continue
            path = (base / name).resolve()
            members = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
            files.extend((str(p), p.read_text(encoding="utf-8")) for p in members)
        return load_checked(files)

    return load


def rule_test_files(folder: Path) -> list[Path]:
    """The test files of a folder: YAML files with a top-level `tests:` (rule files sit beside them)."""
    return [
        p for p in sorted(folder.rglob("*.yaml")) if re.search(r"(?m)^tests:", p.read_text(encoding="utf-8"))
    ]


def run_rule_tests(paths: list[Path]) -> tuple[list[str], bool]:
    """Run test files (folders: every *.yaml in them); the report lines and whether all passed."""
    from strides.domain.errors import RuleSetError
    from strides.rules.testing import describe, run_test_file

    lines: list[str] = []
    ok = True
    files = [p for path in paths for p in (rule_test_files(path) if path.is_dir() else [path])]
    for path in files:
        try:
            result = run_test_file(path.read_text(encoding="utf-8"), str(path), rule_test_loader(path.parent))
        except (RuleSetError, OSError, ValueError) as exc:
            lines.append(f"ERROR {path}:\n{exc}")
            ok = False
            continue
        lines.extend(describe(result))
        ok = ok and result.ok
    return lines, ok


@rules_app.command("test")
def test_rules(
    paths: Annotated[list[Path], typer.Argument(help="Rule test files (or folders of them).")],
) -> None:
    """Run rule unit tests: fixture organisation, controlled clock, exact expected messages."""
    lines, ok = run_rule_tests(paths)
    for line in lines:
        style = "green" if line.startswith("PASS") else "red" if line.startswith(("FAIL", "ERROR")) else None
        out.print(line, style=style, highlight=False, soft_wrap=True, markup=False)
    passed = sum(1 for line in lines if line.startswith("PASS"))
    failed = sum(1 for line in lines if line.startswith(("FAIL", "ERROR")))
    (out if ok else err).print(f"{passed} passed, {failed} failed", highlight=False)
    if not ok:
        raise typer.Exit(1)


def _load_rule_dir(folder: Path | None) -> RuleSet:
    from strides.domain.errors import RuleSetError
    from strides.integrations.rule_files import load_rules

    try:
        return load_rules(folder)
    except RuleSetError as exc:
        for error in exc.errors:
            err.print(str(error), highlight=False, soft_wrap=True, markup=False)
        err.print(f"[bold red]error:[/] the rules in {folder} have problems; see above", highlight=False)
        raise typer.Exit(1) from None


def _ticked(
    sides: list[tuple[str, RuleSet]], organisation: Organisation, window: Window, *, quiet: bool
) -> dict[str, Plan]:
    """Each side's rules planned as ticks every 15 minutes would plan them, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from strides.rules.preview import ticked

    plans: dict[str, Plan] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=quiet) as progress:
        for name, ruleset in sides:
            task = progress.add_task(f"planning the {name} rules tick by tick", total=None)

            def advance(done: int, total: int, task: TaskID = task) -> None:
                progress.update(task, completed=done, total=total)

            plans[name] = ticked(ruleset, organisation, window, progress=advance)
    return plans


@app.command("plan")
def plan_command(
    start: Annotated[
        datetime, typer.Option("--from", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"], help="First day (UTC).")
    ],
    days: Annotated[int, typer.Option(min=1, max=3660, help="How many days to plan.")] = 7,
    person: Annotated[str | None, typer.Option(help="Only messages to this person id.")] = None,
    rules: Annotated[
        Path | None, typer.Option(help="Rules folder (default: configured, else built-in).")
    ] = None,
    org: Annotated[Path | None, typer.Option(help="Organisation folder (default: configured).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    ics: Annotated[
        Path | None, typer.Option(help="Also write the planned meetings to this .ics file.")
    ] = None,
    against: Annotated[
        Path | None, typer.Option(help="Compare with these rules: what the change adds, removes or moves.")
    ] = None,
) -> None:
    """Every invite, email and digest item the rules would produce over a horizon (a dry run)."""
    from rich.table import Table

    from strides.domain.errors import StridesError
    from strides.integrations.calendar_feed import planned_meetings_ics
    from strides.integrations.org_files import load_organisation
    from strides.rules import Window
    from strides.rules.preview import change_summary, compare, rows

    settings = state.settings
    moment = start if start.tzinfo else start.replace(tzinfo=UTC)
    window = Window(moment, moment + timedelta(days=days))
    try:
        loaded = load_organisation(org or settings.organisation)
    except StridesError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    organisation = loaded.organisation
    print_rejections(loaded.rejected, loaded.warnings)
    if person is not None and person not in organisation.people:
        err.print(f"[bold red]error:[/] no person {person!r} in the organisation", highlight=False)
        raise typer.Exit(EXIT_USAGE)
    sides = [("current", _load_rule_dir(rules or settings.rules_dir))]
    if against is not None:
        sides.append(("proposed", _load_rule_dir(against)))
    plans = _ticked(sides, organisation, window, quiet=as_json)
    current = plans["current"]
    # With --against: what the proposed rules would change compared with the current ones.
    listed = compare(current, plans["proposed"], person) if against is not None else rows(current, person)
    if ics is not None:
        data = planned_meetings_ics([r.intent for r in listed if r.change != "removed"], organisation, moment)
        ics.write_bytes(data)
        err.print(f"wrote {ics}", highlight=False)
    if as_json:
        payload = {
            "from": window.start.isoformat(),
            "until": window.end.isoformat(),
            "messages": [r.as_json(organisation) for r in listed],
            "skipped": [
                {"rule": s.rule_id, "subject": s.subject, "at": s.occurrence.isoformat(), "reason": s.reason}
                for s in current.skips
            ],
            "fallbacks": [
                {"rule": s.rule_id, "subject": s.subject, "note": s.reason} for s in current.fallbacks
            ],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    title = f"Plan {window.start:%Y-%m-%d} + {days} days"
    if against is not None:
        title += f": proposed {against} against current {rules or settings.rules_dir or 'built-in'} rules"
    table = Table(title=title)
    columns = (["change"] if against else []) + ["local time", "kind", "rule", "to", "title"]
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in listed:
        when = row.local(organisation)
        if row.before is not None:
            when = f"{row.local(organisation, row.before)} -> {when}"
        cells = [row.change] if against else []
        table.add_row(
            *cells, when, row.intent.kind.value, row.intent.rule_id, row.intent.recipient, row.intent.title
        )
    out.print(table)
    if against is not None:
        for line in change_summary(listed):
            say(line)
    kinds = {k: sum(1 for r in listed if r.intent.kind.value == k) for k in ("invite", "email", "digest")}
    out.print(
        f"{len(listed)} message(s): {kinds['invite']} invites, {kinds['email']} emails, "
        f"{kinds['digest']} digests; {len(current.skips)} skipped",
        highlight=False,
    )
