"""``meshhook runs ...`` (over the HTTP API) and ``meshhook worker`` (on the database)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from meshhook import heap
from meshhook.cli.client import MeshHookClient
from meshhook.cli.common import console, errors, load_settings, open_database, report_errors
from meshhook.cli.output import add_row, emit, say, table, when
from meshhook.cli.remote import AsJson, Project, Ref, api
from meshhook.engine.worker import Worker, worker_settings
from meshhook.logs import configure_logging
from meshhook.services.keys import provider_for
from meshhook.tracing import Tracing

runs_app = typer.Typer(
    help="Runs of workflows (over the HTTP API: MESHHOOK_URL, MESHHOOK_TOKEN).",
    no_args_is_help=True,
)
RunId = Annotated[str, typer.Argument(help="The run's id.")]
TERMINAL = {"succeeded", "failed", "cancelled"}
WATCH_POLL_SECONDS = 0.2


def _read_input(source: str | None) -> Any:
    if source is None:
        return None
    raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        errors.print(f"[red]error:[/red] the input is not JSON: {error}")
        raise typer.Exit(2) from error


@runs_app.command("start")
@report_errors
def start(
    ctx: typer.Context,
    workflow: Ref,
    project: Project,
    input_file: Annotated[
        str | None, typer.Option("--input", "-i", help="Input JSON file; - is stdin.")
    ] = None,
    version: Annotated[int | None, typer.Option(help="Run this published version.")] = None,
    alias: Annotated[str | None, typer.Option(help="Run the version an alias points at.")] = None,
    test: Annotated[bool, typer.Option("--test", help="Run the head draft, marked test.")] = False,
    idempotency_key: Annotated[
        str | None, typer.Option(help="The same key within 24 h returns the first run.")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the outcome; exit 1 unless it succeeded.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Start a run (the alias `production`, else the published version, by default)."""
    chosen = sum(1 for given in (version is not None, alias is not None, test) if given)
    if chosen > 1:
        errors.print("[red]error:[/red] choose one of --version, --alias and --test")
        raise typer.Exit(2)
    value = _read_input(input_file)
    with api(ctx, as_json) as client:
        run = client.start_run(
            project,
            workflow,
            input=value,
            version=version,
            alias=alias,
            test=test,
            idempotency_key=idempotency_key,
        )
        if wait:
            run = _follow(client, project, run["id"], quiet=as_json)
    if as_json:
        emit(run)
    else:
        _summary(run)
    if wait and run["status"] != "succeeded":
        raise typer.Exit(1)


@runs_app.command("list")
@report_errors
def list_runs(
    ctx: typer.Context,
    project: Project,
    workflow: Annotated[str | None, typer.Option(help="Only this workflow (key or id).")] = None,
    version: Annotated[
        int | None, typer.Option(min=1, help="Only runs of this version (with --workflow).")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="queued, running, waiting, succeeded, failed or cancelled.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: AsJson = False,
) -> None:
    """The project's runs, newest first."""
    with api(ctx, as_json) as client:
        page = client.list_runs(
            project, workflow=workflow, version=version, status=status, limit=limit
        )
    if as_json:
        emit(page)
        return
    grid = table("id", "workflow", "version", "status", "trigger", "created")
    for run in page["items"]:
        shown = f"v{run['version']}" + (" test" if run["test"] else "")
        shown += " canary" if run.get("canary") else ""
        add_row(
            grid,
            run["id"],
            run["workflow_key"],
            shown,
            run["status"],
            run["trigger"],
            when(run["created_at"]),
        )
    console.print(grid)


@runs_app.command("show")
@report_errors
def show(
    ctx: typer.Context,
    run: RunId,
    project: Project,
    events: Annotated[bool, typer.Option("--events", help="Also list the event log.")] = False,
    as_json: AsJson = False,
) -> None:
    """One run: status, output or error, and its steps."""
    with api(ctx, as_json) as client:
        found = client.get_run(project, run)
        log = client.run_events(project, run)["items"] if events else []
    if as_json:
        emit({**found, "events": log} if events else found)
        return
    _summary(found)
    for event in log:
        _event_line(event)


@runs_app.command("watch")
@report_errors
def watch(ctx: typer.Context, run: RunId, project: Project) -> None:
    """Print the run's events as they happen, until it ends."""
    with api(ctx) as client:
        found = _follow(client, project, run, quiet=False)
    _summary(found)


@runs_app.command("cancel")
@report_errors
def cancel(ctx: typer.Context, run: RunId, project: Project, as_json: AsJson = False) -> None:
    """Cancel a run that has not finished."""
    with api(ctx, as_json) as client:
        found = client.cancel_run(project, run)
    if as_json:
        emit(found)
    else:
        _summary(found)


@runs_app.command("resume")
@report_errors
def resume(
    ctx: typer.Context,
    run: RunId,
    project: Project,
    from_node: Annotated[str, typer.Option("--from", help="Execute from this node on.")],
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the outcome.")] = False,
    as_json: AsJson = False,
) -> None:
    """A new run of the same version, reusing what ran before FROM, executing from it."""
    with api(ctx, as_json) as client:
        found = client.resume_run(project, run, from_node)
        if wait:
            found = _follow(client, project, found["id"], quiet=as_json)
    if as_json:
        emit(found)
    else:
        _summary(found)
    if wait and found["status"] != "succeeded":
        raise typer.Exit(1)


@runs_app.command("replay")
@report_errors
def replay(ctx: typer.Context, run: RunId, project: Project, as_json: AsJson = False) -> None:
    """Recompute the run from its events (nothing executed) and compare."""
    with api(ctx, as_json) as client:
        result = client.replay_run(project, run)
    if as_json:
        emit(result)
        return
    say(
        "replay equal: the served run is what its events say"
        if result["equal"]
        else "replay DIFFERS from the served run"
    )
    if not result["equal"]:
        raise typer.Exit(1)


def _follow(client: MeshHookClient, project: str, run_id: str, *, quiet: bool) -> dict[str, Any]:
    after = 0
    while True:
        # The run first, its events second: once it reads finished, the events
        # read after it include the last one.
        found = client.get_run(project, run_id)
        while True:
            page = client.run_events(project, run_id, after=after)
            for event in page["items"]:
                after = event["seq"]
                if not quiet:
                    _event_line(event)
            if not page["next_cursor"]:
                break
        if found["status"] in TERMINAL:
            return found
        time.sleep(WATCH_POLL_SECONDS)


def _event_line(event: dict[str, Any]) -> None:
    node = f" {event['node_id']}" if event.get("node_id") else ""
    data = event.get("data") or {}
    detail = ""
    if data.get("error"):
        detail = f"  {data['error'].get('code')}: {data['error'].get('message')}"
    elif "attempt" in data and event["type"] == "step.started":
        detail = f"  attempt {data['attempt']}" + (" (takeover)" if data.get("takeover") else "")
    say(f"{when(event['at'])}  #{event['seq']:<4} {event['type']}{node}{detail}")


def _summary(run: dict[str, Any]) -> None:
    say(f"run {run['id']}  {run['workflow_key']} v{run['version']}  {run['status']}")
    for step in run.get("steps", []):
        attempts = f" ({step['attempts']} attempts)" if step["attempts"] > 1 else ""
        say(f"  {step['node_id']}: {step['status']}{attempts}")
    if run.get("error"):
        say(f"error: {run['error'].get('code')}: {run['error'].get('message')}")
    elif run["status"] == "succeeded":
        say("output: " + orjson.dumps(run.get("output")).decode())


@report_errors
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="Runs driven at once (default MESHHOOK_WORKERS)."),
    ] = None,
) -> None:
    """Run more workers against the database (like serve, without HTTP). SIGTERM drains."""
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    db = open_database(settings)
    tracing = Tracing.from_environment()
    runner = Worker(
        db,
        provider_for(settings),
        worker_settings(settings, concurrency or max(settings.workers, 1)),
        tracing=tracing,
    )
    heap.tune_gc()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, runner.stop)
        await runner.run()

    try:
        asyncio.run(main())
    finally:
        db.dispose()
        tracing.shutdown()
