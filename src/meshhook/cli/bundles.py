"""``meshhook bundles export|import``: move workflows between installations
(over the HTTP API, admin role). A progress bar follows large transfers on a
terminal; a summary table closes each command."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from meshhook.cli.client import Progress as OnProgress
from meshhook.cli.common import console, errors, report_errors
from meshhook.cli.output import add_row, emit, say, say_to, table
from meshhook.cli.remote import AsJson, Project, api

bundles_app = typer.Typer(
    help="Export and import workflow bundles (over the HTTP API; admin role).",
    no_args_is_help=True,
)

# Below this a transfer is over before a bar could say anything useful.
PROGRESS_FROM_BYTES = 1024 * 1024


@contextmanager
def transfer_bar(label: str, expected: int | None) -> Iterator[OnProgress]:
    """A Rich progress bar on stderr (only on a terminal, only for big transfers)."""
    show = errors.is_terminal and (expected is None or expected >= PROGRESS_FROM_BYTES)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=errors,
        disable=not show,
        transient=True,
    )
    task = progress.add_task(label, total=expected)

    def advance(done: int, total: int | None) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield advance


@bundles_app.command("export")
@report_errors
def export(
    ctx: typer.Context,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write; - writes to stdout.")
    ],
    keys: Annotated[
        list[str] | None,
        typer.Option("--key", "-k", help="A workflow key to export (repeatable)."),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Export every live workflow.")] = False,
    project: Project = "default",
) -> None:
    """Write a bundle of some (--key) or all (--all) workflows of a project.

    The bundle is canonical JSON: the same workflows always give the same bytes
    (apart from exportedAt), so bundles diff well in version control.
    """
    if bool(keys) == every:
        say_to(errors, "error: name workflows with --key (repeatable) or pass --all")
        raise typer.Exit(2)
    with api(ctx) as client, transfer_bar("downloading", None) as progress:
        data = client.export_bundle(project, keys=keys or None, on_progress=progress)
    if str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
    bundle = orjson.loads(data)
    grid = table("key", "name", "versions", "published", "aliases")
    for workflow in bundle["workflows"]:
        published = workflow["publishedVersion"]
        add_row(
            grid,
            workflow["key"],
            workflow["name"],
            str(len(workflow["versions"])),
            "-" if published is None else str(published),
            ", ".join(f"{name}→{n}" for name, n in workflow["aliases"].items()) or "-",
        )
    where = errors if str(output) == "-" else console
    where.print(grid)
    secrets = bundle["dependencies"]["secrets"]
    say_to(
        where,
        f"{len(bundle['workflows'])} workflow(s), {len(data):,} bytes"
        + ("" if str(output) == "-" else f" → {output}")
        + (f"; needs secrets: {', '.join(secrets)}" if secrets else ""),
    )


def _diff_summary(item: dict[str, Any]) -> str:
    diff = item.get("diff")
    if not diff:
        return ""
    summary = diff["summary"]
    if summary["identical"]:
        return "identical head"
    parts = [
        f"+{summary['nodes_added']}",
        f"-{summary['nodes_removed']}",
        f"~{summary['nodes_changed']} nodes",
    ]
    return " ".join(parts)


@bundles_app.command("import")
@report_errors
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A bundle written by `bundles export`; - is stdin.")],
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace workflows whose key exists. Their history is deleted."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report what would happen; write nothing.")
    ] = False,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Import a bundle into a project, all or nothing, matching workflows by key.

    By default only new keys are accepted: if any key exists, nothing is written
    and the keys are listed. --force replaces those workflows (new ids, their old
    history is deleted); --dry-run shows what would be created or replaced.
    """
    if str(file) == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = file.read_bytes()
        except OSError as error:
            say_to(errors, f"error: cannot read {file}: {error.strerror or error}")
            raise typer.Exit(2) from error
    with api(ctx, as_json) as client, transfer_bar("uploading", len(data)) as progress:
        report = client.import_bundle(
            project, data, force=force, dry_run=dry_run, on_progress=progress
        )
    if as_json:
        emit(report)
        return
    grid = table("key", "action", "versions", "head", "published", "changes" if dry_run else "id")
    for item in report["workflows"]:
        published = item["published_version"]
        add_row(
            grid,
            item["key"],
            item["action"],
            str(item["versions"]),
            str(item["head_version"]),
            "-" if published is None else str(published),
            _diff_summary(item) if dry_run else str(item["id"]),
        )
    console.print(grid)
    for warning in report["warnings"]:
        say(f"warning: {warning['path']}: {warning['message']}")
    verb = "would create" if dry_run else "created"
    replaced = "would replace" if dry_run else "replaced"
    say(
        f"{verb} {report['created']}, {replaced} {report['replaced']} workflow(s) in "
        f"project {project}" + (" (dry run: nothing was written)" if dry_run else "")
    )
