"""``meshhook hooks ...``: a workflow's webhook URL, its deliveries, a signed
test request, rotation (over the HTTP API: MESHHOOK_URL, MESHHOOK_TOKEN)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from meshhook.cli.common import console, errors, report_errors
from meshhook.cli.output import add_row, emit, say, table, when
from meshhook.cli.remote import AsJson, Project, Ref, api

hooks_app = typer.Typer(
    help="Webhooks of workflows (over the HTTP API: MESHHOOK_URL, MESHHOOK_TOKEN).",
    no_args_is_help=True,
)


@hooks_app.command("show")
@report_errors
def show(ctx: typer.Context, workflow: Ref, project: Project, as_json: AsJson = False) -> None:
    """The workflow's webhook URL, methods and signing."""
    with api(ctx, as_json) as client:
        found = client.get_webhook(project, workflow)
    if as_json:
        emit(found)
        return
    _hook(found)


def _hook(found: dict[str, Any]) -> None:
    console.print(found["url"], soft_wrap=True)
    target = found["target"]
    runs = "nothing published: requests get 404"
    if target is not None:
        runs = f"v{target['version']}" + (f" (alias {target['alias']})" if target["alias"] else "")
    say(f"methods {', '.join(found['methods'])}; signing {found['signing']}; runs {runs}")


@hooks_app.command("rotate")
@report_errors
def rotate(
    ctx: typer.Context,
    workflow: Ref,
    project: Project,
    grace_seconds: Annotated[
        int, typer.Option("--grace", min=0, help="Seconds the old URL keeps working.")
    ] = 0,
    as_json: AsJson = False,
) -> None:
    """Issue a new webhook URL (admin); the old one works --grace seconds more."""
    with api(ctx, as_json) as client:
        found = client.rotate_webhook(project, workflow, grace_seconds=grace_seconds)
    if as_json:
        emit(found)
        return
    _hook(found)


@hooks_app.command("deliveries")
@report_errors
def deliveries(
    ctx: typer.Context, workflow: Ref, project: Project, as_json: AsJson = False
) -> None:
    """The webhook's last deliveries, newest first."""
    with api(ctx, as_json) as client:
        found = client.webhook_deliveries(project, workflow)
    if as_json:
        emit(found)
        return
    grid = table("at", "method", "status", "run", "ms", "client", "failed check")
    for item in found["items"]:
        add_row(
            grid,
            when(item["at"]),
            item["method"],
            str(item["status"]),
            item["run_id"] or "",
            f"{item['latency_ms']:.1f}",
            item["client"] or "",
            item["failure"] or "",
        )
    console.print(grid)


@hooks_app.command("test")
@report_errors
def send_test(
    ctx: typer.Context,
    workflow: Ref,
    project: Project,
    body_file: Annotated[
        Path | None, typer.Option("--body", help="A JSON file to send (default {}).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Send a correctly signed request to the workflow's own webhook; exit 1
    unless it started a run."""
    body: Any = None
    if body_file is not None:
        try:
            body = orjson.loads(body_file.read_bytes())
        except (OSError, orjson.JSONDecodeError) as error:
            errors.print(f"[red]error:[/red] cannot read {body_file}: {error}")
            raise typer.Exit(2) from error
    with api(ctx, as_json) as client:
        result = client.test_webhook(project, workflow, body)
    if as_json:
        emit(result)
    elif result["run_id"]:
        say(f"{result['status']}: run {result['run_id']}")
    else:
        say(f"{result['status']}: {result['detail']}")
    if result["status"] not in (200, 202):
        raise typer.Exit(1)
