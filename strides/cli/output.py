"""How every command speaks: one console for results and one for messages, exit codes, errors,
and one way to print records as a table or as JSON (`show`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

# Exit codes: 0 all good; 1 failed; 2 bad usage; 3 done, but some input was rejected.
EXIT_FAILED, EXIT_USAGE, EXIT_REJECTED = 1, 2, 3

out = Console()
err = Console(stderr=True)

DemoOption = Annotated[bool, typer.Option("--demo", help="Use the demo's store.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    """Print `message` as an error; raise what this returns to exit with `code`."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def say(text: str, *, to_err: bool = False) -> None:
    """One line of prose, kept whole when piped (rich would wrap at 80 columns) and not styled."""
    (err if to_err else out).print(text, highlight=False, soft_wrap=True, markup=False)


def aware(moment: datetime | None) -> datetime | None:
    """A moment from the command line: read as UTC when it names no timezone."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def minute(iso: str | None) -> str:
    """An ISO 8601 moment as a table shows it: `2026-12-01 09:00` (UTC)."""
    if not iso:
        return ""
    return f"{datetime.fromisoformat(iso).astimezone(UTC):%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class Column:
    """A table column: its header and how a cell is read from a record."""

    header: str
    cell: Callable[[Mapping[str, Any]], object]

    @classmethod
    def of(cls, header: str, key: str) -> Column:
        return cls(header, lambda record: record.get(key))


def show(
    records: Sequence[Mapping[str, Any]],
    *,
    as_json: bool,
    title: str,
    columns: Iterable[Column],
) -> None:
    """The records as JSON (a list, exactly as given) or as a table of these columns."""
    if as_json:
        typer.echo(json.dumps(list(records), indent=2, default=str))
        return
    table = Table(title=title)
    columns = list(columns)
    for column in columns:
        table.add_column(column.header, overflow="fold")
    for record in records:
        table.add_row(*("" if (value := c.cell(record)) is None else str(value) for c in columns))
    out.print(table)


def print_rejections(rejected: Sequence[object], warnings: Sequence[object] = ()) -> None:
    """What loading refused (records, or links of records kept without them) and what it read past,
    one located line each, on stderr."""
    if rejected:
        err.print(f"[yellow]{len(rejected)} problem(s) rejected; the rest was processed:[/]")
        for rejection in rejected:
            say(f"  {rejection}", to_err=True)
    if warnings:
        err.print(f"[yellow]{len(warnings)} warning(s):[/]")
        for warning in warnings:
            say(f"  {warning}", to_err=True)
