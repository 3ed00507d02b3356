"""``meshhook serve`` and ``meshhook db``."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer
import uvicorn
from rich.panel import Panel

from meshhook import heap
from meshhook.app import create_app
from meshhook.cli.common import console, errors, load_settings, open_database, report_errors
from meshhook.logs import configure_logging
from meshhook.services.bootstrap import bootstrap
from meshhook.services.keys import check_keys_match
from meshhook.store import migrate

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


def listen_on(host: str, port: int) -> socket.socket:
    """The server socket, bound before anything is migrated or announced.

    uvicorn binds only once it starts, after "serving on" was printed, and
    reports a busy port as a log line and exit code 3; binding first turns that
    into one line saying how to pick another port, and exit code 1.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn does
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            reason = f"port {port} on {host} is already in use"
        else:
            reason = f"cannot listen on {host}:{port} ({error.strerror or error})"
        errors.print(
            f"[red]error:[/red] {reason}; choose another port with --port N or MESHHOOK_PORT=N",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from error
    return listener


@report_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (MESHHOOK_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (MESHHOOK_PORT).")] = None,
) -> None:
    """Migrate the database, create the first admin if there is none, and serve API + UI."""
    heap.limit_arenas()  # before any thread starts (see meshhook/heap.py)
    settings = load_settings()
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    configure_logging(settings.log_format, settings.log_level)
    listener = listen_on(settings.host, settings.port)
    db = open_database(settings)
    if settings.bootstrap:
        credentials = bootstrap(db, settings.credentials_file)
        if credentials is not None:
            console.print(
                Panel(
                    credentials.as_text().rstrip()
                    + f"\n\n(also written to {settings.credentials_file}, mode 0600;"
                    " shown only this once)",
                    title="MeshHook first start: admin credentials",
                    expand=False,
                ),
                highlight=False,
            )
    app = create_app(settings, db, run_workers=True)
    check_keys_match(db, app.state.keys)
    heap.tune_gc()
    console.print(f"MeshHook serving on http://{settings.host}:{settings.port}", highlight=False)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:  # Ctrl+C after uvicorn's own graceful shutdown
        pass
    finally:
        listener.close()
    if not server.started:
        raise typer.Exit(3)  # the app failed to start (logged); uvicorn.run's exit code


@db_app.command("upgrade")
@report_errors
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations (serve does this on start)."""
    settings = load_settings()
    migrate.upgrade(
        settings.migration_database_url or settings.db_url,
        app_role=settings.db_app_role,
        revision=revision,
    )
    console.print(f"database at revision {migrate.current_revision(settings.db_url)}")


@db_app.command("downgrade")
@report_errors
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. 'base' or '0001'.")],
) -> None:
    """Revert migrations down to REVISION."""
    settings = load_settings()
    migrate.downgrade(
        settings.migration_database_url or settings.db_url,
        revision=revision,
        app_role=settings.db_app_role,
    )
    console.print(f"database at revision {migrate.current_revision(settings.db_url)}")


@db_app.command("current")
@report_errors
def db_current() -> None:
    """Show the current and newest revisions."""
    settings = load_settings()
    current = migrate.current_revision(settings.db_url)
    console.print(f"current: {current or 'empty'}; newest: {', '.join(migrate.head_revisions())}")
