"""``meshhook backup FILE`` and ``meshhook restore FILE``: a consistent copy of
a SQLite installation made while it serves, and a checked restore."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from meshhook.cli.common import console, errors, load_settings, open_database, report_errors
from meshhook.services import backups
from meshhook.store.backup import BackupSummary
from meshhook.store.backup import Progress as OnProgress


@contextmanager
def page_bar(label: str) -> Iterator[OnProgress]:
    """A Rich progress bar over database pages, on stderr when it is a terminal."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages"),
        console=errors,
        disable=not errors.is_terminal,
        transient=True,
    )
    task = progress.add_task(label, total=None)

    def advance(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield advance


@report_errors
def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write (must not exist).")],
) -> None:
    """Copy the SQLite database to FILE while MeshHook keeps serving and running.

    The copy is the database as of one moment (one read transaction), checked
    with PRAGMA integrity_check before it is given its name. For PostgreSQL use
    pg_dump or point-in-time recovery (docs/operations.md).
    """
    settings = load_settings()
    with page_bar("backing up") as progress:
        summary = backups.backup(settings.db_url, file, progress)
    _describe("backed up to", summary)


@report_errors
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by 'meshhook backup'.")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before replacing the database.")
    ] = False,
) -> None:
    """Replace the SQLite database with the backup FILE, after checking it.

    Stop 'meshhook serve' and every 'meshhook worker' first: they would keep
    using the replaced file. The restored database is migrated to this
    release's schema at once. The key-encryption key (MESHHOOK_MASTER_KEY or
    the key file in the home) must be the one the backup was made with.
    """
    settings = load_settings()
    summary = backups.inspect(file)
    _describe("the backup holds", summary)
    if not yes:
        typer.confirm(
            f"replace the database at {settings.db_url} with it? (stop serve and workers first)",
            abort=True,
        )
    backups.restore(settings.db_url, file)
    open_database(settings).dispose()  # migrate it to this release's schema now
    console.print(f"restored {file}; start 'meshhook serve' again", highlight=False)


def _describe(label: str, summary: BackupSummary) -> None:
    console.print(
        f"{label} {summary.path} ({summary.bytes:,} bytes, schema {summary.revision}):"
        f" {summary.projects} projects, {summary.workflows} workflows,"
        f" {summary.versions} versions, {summary.runs} runs, {summary.run_events} run events",
        highlight=False,
    )
