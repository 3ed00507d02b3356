"""What every command shares: settings, the database, error rendering."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from meshhook.domain.errors import MeshHookError
from meshhook.security import files
from meshhook.settings import Settings
from meshhook.store import migrate
from meshhook.store.db import Database, create_database, sqlite_path

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
errors = Console(stderr=True)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        for item in error.errors():
            field = "MESHHOOK_" + "_".join(str(part) for part in item["loc"]).upper()
            errors.print(f"[red]error:[/red] {field}: {item['msg']}")
        raise typer.Exit(2) from error


def open_database(settings: Settings, *, migrate_first: bool = True) -> Database:
    """The database of ``settings``, migrated to the newest schema first.

    The home and a SQLite database are made private first (0700/0600), with a
    warning for each one that was readable by other users.
    """
    files.make_private_directory(settings.home)
    files.tighten(settings.home, sqlite_path(settings.db_url))
    if migrate_first:
        migrate.upgrade(
            settings.migration_database_url or settings.db_url, app_role=settings.db_app_role
        )
    return create_database(
        settings.db_url,
        app_role=settings.db_app_role,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


@contextmanager
def admin_database() -> Iterator[Database]:
    """The configured database, migrated, closed again when the command ends."""
    database = open_database(load_settings())
    try:
        yield database
    finally:
        database.dispose()


def report_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Render MeshHook errors as one clear message and exit 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except MeshHookError as error:
            errors.print(f"[red]error:[/red] {escape(error.detail)}", highlight=False)
            for problem in error.errors:
                errors.print(f"  {problem.path or '/'}: {problem.message}", markup=False)
            raise typer.Exit(1) from error
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            errors.print(
                f"[red]error:[/red] cannot use the database: {escape(reason)}\n"
                "  check MESHHOOK_DATABASE_URL and that the server is running",
                highlight=False,
            )
            raise typer.Exit(1) from error

    return wrapper


def read_stdin_secret(what: str) -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        errors.print(f"[red]error:[/red] expected the {what} on standard input")
        raise typer.Exit(2)
    return value
