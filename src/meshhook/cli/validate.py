"""``meshhook validate FILE``: check a definition offline, without a server.

Also home of the pieces the workflow commands share for definition files:
reading one (exit 2 when it cannot be read or parsed) and printing problems.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from meshhook.cli.common import console, errors
from meshhook.domain.canonical import parse_json
from meshhook.domain.errors import BadRequest
from meshhook.domain.validation import validate_definition


def read_definition_file(path: Path) -> Any:
    """The definition in ``path`` (``-`` reads standard input).

    The file holds a definition, or a document with a ``definition`` key such as
    the output of ``meshhook workflows show --json``. Unreadable or malformed
    files print one clear message and exit 2, the usage-error code.
    """
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as error:
        errors.print(
            f"[red]error:[/red] cannot read {escape(str(path))}: {escape(error.strerror or '')}",
            highlight=False,
            soft_wrap=True,  # a path stays on one line, as typed
        )
        raise typer.Exit(2) from error
    try:
        document = parse_json(data)
    except BadRequest as error:
        errors.print(
            f"[red]error:[/red] {escape(str(path))} is not valid JSON: "
            f"{escape(error.detail.removeprefix('Malformed JSON: '))}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2) from error
    if isinstance(document, dict) and "definition" in document and "nodes" not in document:
        return document["definition"]
    return document


def print_problems(problems: Iterable[Mapping[str, Any]], *, heading: str) -> None:
    """One line per problem: its JSON Pointer, its code and its message."""
    listed = list(problems)
    if not listed:
        return
    console.print(f"{heading} ({len(listed)}):", highlight=False, markup=False)
    for problem in listed:
        path = problem.get("path") or "/"
        console.print(
            f"  {path}  {problem.get('message', '')}  [{problem.get('code', '')}]",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def validate(
    file: Annotated[
        Path,
        typer.Argument(
            help="A definition JSON file (or a document with a 'definition' key); - for stdin."
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {valid, errors, warnings} as JSON.")
    ] = False,
) -> None:
    """Validate a workflow definition offline: no server, no token needed.

    Exit 0 when it is valid (warnings allowed), 1 when it has errors, 2 when the
    file cannot be read or is not JSON.
    """
    report = validate_definition(read_definition_file(file))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        result = report.as_dict()
        print_problems(result["errors"], heading="errors")
        print_problems(result["warnings"], heading="warnings")
        if report.valid:
            note = f" with {len(report.warnings)} warning(s)" if report.warnings else ""
            console.print(f"{file}: valid{note}", highlight=False, markup=False)
        else:
            blocker = "a save would be refused" if report.structural else "publishing is blocked"
            console.print(
                f"{file}: {len(report.errors)} error(s); {blocker}", highlight=False, markup=False
            )
    if not report.valid:
        raise typer.Exit(1)
