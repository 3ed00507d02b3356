"""``meshhook redaction``: a project's own redaction patterns and per-workflow
pointers (over the HTTP API; admin role)."""

from __future__ import annotations

from typing import Annotated

import typer

from meshhook.cli.common import console, report_errors
from meshhook.cli.output import add_row, emit, say, table, when
from meshhook.cli.remote import AsJson, Project, api

redaction_app = typer.Typer(
    help="What is hidden in run payloads and logs besides the built-in detectors "
    "(docs/privacy.md).",
    no_args_is_help=True,
)


@redaction_app.command("list")
@report_errors
def list_rules(ctx: typer.Context, project: Project = "default", as_json: AsJson = False) -> None:
    """The project's patterns and every workflow's always-hidden pointers."""
    with api(ctx, as_json) as client:
        rules = client.redaction_rules(project)
    if as_json:
        emit(rules)
        return
    grid = table("pattern", "regex", "set", "by")
    for item in rules["patterns"]:
        add_row(grid, item["name"], item["pattern"], when(item["created_at"]), item["created_by"])
    console.print(grid)
    grid = table("workflow", "pointers")
    for workflow, pointers in sorted(rules["pointers"].items()):
        add_row(grid, workflow, ", ".join(pointers))
    console.print(grid)


@redaction_app.command("set-pattern")
@report_errors
def set_pattern(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Shown as [redacted:NAME]; a-z, 0-9 and _.")],
    pattern: Annotated[str, typer.Argument(help=r"A regular expression, e.g. 'EMP-\d{6}'.")],
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Create or replace a pattern. Refused when it does not compile, is longer
    than 200 characters, matches the empty string or backtracks too much."""
    with api(ctx, as_json) as client:
        record = client.set_redaction_pattern(project, name, pattern)
    if as_json:
        emit(record)
    else:
        say(f"pattern {name} set")


@redaction_app.command("delete-pattern")
@report_errors
def delete_pattern(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Remove a pattern."""
    with api(ctx, as_json) as client:
        client.delete_redaction_pattern(project, name)
    if as_json:
        emit({"deleted": name})
    else:
        say(f"pattern {name} deleted")


@redaction_app.command("set-pointers")
@report_errors
def set_pointers(
    ctx: typer.Context,
    workflow: Annotated[str, typer.Argument(help="Workflow key or id.")],
    pointers: Annotated[
        list[str] | None,
        typer.Argument(help="JSON Pointers (/ssn, /items/*/email); none clears the list."),
    ] = None,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Replace the JSON Pointers always hidden in a workflow's runs (every version's)."""
    with api(ctx, as_json) as client:
        answer = client.set_redaction_pointers(project, workflow, list(pointers or []))
    if as_json:
        emit(answer)
    else:
        say(f"{workflow}: {', '.join(answer['pointers']) or 'no pointers'}")
