"""How remote commands print: plain lines and tables for people (no Rich
markup read from user content), exact JSON for scripts, errors on stderr."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from meshhook.cli.client import ClientError
from meshhook.cli.common import console, errors
from meshhook.cli.validate import print_problems
from meshhook.cli.wording import in_cli_words


def print_error(error: ClientError) -> None:
    """One red line and the problems, escaped: details quote user input like ``[x]``."""
    detail = in_cli_words(error.detail)
    errors.print(f"[red]error:[/red] {escape(detail)}", highlight=False, soft_wrap=True)
    for problem in error.errors:
        say_to(errors, f"  {problem.path or '/'}: {in_cli_words(problem.message)}")


def emit(data: Any) -> None:
    """Exact JSON on stdout, nothing else."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def say(text: str) -> None:
    """A plain line: no markup, no highlighting, so user content prints as is."""
    say_to(console, text)


def say_to(where: Console, text: str) -> None:
    where.print(text, markup=False, highlight=False, soft_wrap=True)


def show_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def table(*columns: str) -> Table:
    return Table(*columns, show_edge=False, header_style="bold")


def add_row(grid: Table, *cells: str) -> None:
    """Cells as plain text: a name like ``[beta]`` must not be read as markup."""
    grid.add_row(*(Text(cell) for cell in cells))


def when(timestamp: str) -> str:
    return timestamp[:19].replace("T", " ")


def problems_note(body: dict[str, Any]) -> None:
    """The completeness problems of a version, grouped as the validator groups them."""
    problems = body.get("problems") or []
    print_problems(
        [p for p in problems if p.get("severity") != "warning"],
        heading="problems that block publishing",
    )
    print_problems([p for p in problems if p.get("severity") == "warning"], heading="warnings")
