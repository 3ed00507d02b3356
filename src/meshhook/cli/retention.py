"""``meshhook retention ...``: a project's retention policy, and applying it
now or as a dry run (over the HTTP API: MESHHOOK_URL, MESHHOOK_TOKEN)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from meshhook.cli.common import console, report_errors
from meshhook.cli.output import add_row, emit, say, table
from meshhook.cli.remote import AsJson, Project, api
from meshhook.domain.limits import MAX_RETENTION_DAYS

retention_app = typer.Typer(
    help="Retention of runs: delete or scrub old runs (over the HTTP API).",
    no_args_is_help=True,
)


def _days_option(flag: str, help_text: str) -> Any:
    return typer.Option(
        flag, min=1, max=MAX_RETENTION_DAYS, metavar="DAYS", show_default=False, help=help_text
    )


def _days(days: int | None, what: str) -> str:
    return f"{what} after {days} days" if days is not None else f"never {what}"


def _policy(found: dict[str, Any]) -> None:
    if found["keeps_forever"]:
        say("runs are kept forever (no retention policy)")
    else:
        say(
            f"{_days(found['delete_after_days'], 'delete')};"
            f" {_days(found['scrub_after_days'], 'scrub payloads')}"
        )
    if found["updated_at"]:
        say(f"set by {found['updated_by']} at {found['updated_at']}")


@retention_app.command("show")
@report_errors
def show(ctx: typer.Context, project: Project, as_json: AsJson = False) -> None:
    """The project's retention policy (the default keeps runs forever)."""
    with api(ctx, as_json) as client:
        found = client.get_retention(project)
    if as_json:
        emit(found)
        return
    _policy(found)


@retention_app.command("set")
@report_errors
def set_policy(
    ctx: typer.Context,
    project: Project,
    delete_after: Annotated[
        int | None,
        _days_option("--delete-after", "Delete finished runs and their events after DAYS."),
    ] = None,
    scrub_after: Annotated[
        int | None,
        _days_option(
            "--scrub-after",
            "Remove payloads of finished runs after DAYS, keeping metadata and statistics.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Replace the policy (admin; audited). An age left out is not applied; with
    neither, runs are kept forever."""
    with api(ctx, as_json) as client:
        found = client.set_retention(project, delete_after, scrub_after)
    if as_json:
        emit(found)
        return
    _policy(found)


@retention_app.command("run")
@report_errors
def run(
    ctx: typer.Context,
    project: Project,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would go, per workflow.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Apply the policy now (admin; audited), in short batches; the background
    job does this periodically. --dry-run deletes nothing."""
    with api(ctx, as_json) as client:
        report = client.run_retention(project, dry_run=dry_run)
    if as_json:
        emit(report)
        return
    grid = table("workflow", "runs to delete", "runs to scrub")
    for item in report["workflows"]:
        add_row(grid, item["workflow_key"], str(item["runs_to_delete"]), str(item["runs_to_scrub"]))
    add_row(grid, "total", str(report["runs_to_delete"]), str(report["runs_to_scrub"]))
    console.print(grid)
    if dry_run:
        say("dry run: nothing was deleted or scrubbed")
    else:
        say(f"deleted {report['runs_deleted']} runs, scrubbed {report['runs_scrubbed']}")
