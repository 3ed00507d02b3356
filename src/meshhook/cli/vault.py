"""``meshhook secrets`` and ``meshhook audit`` (over the HTTP API) and
``meshhook keys`` (straight on the database and the key file)."""

from __future__ import annotations

from typing import Annotated

import typer

from meshhook.cli.common import (
    admin_database,
    console,
    load_settings,
    read_stdin_secret,
    report_errors,
)
from meshhook.cli.workflows import AsJson, Project, add_row, api, emit, say, table, when
from meshhook.security.keys import generate_master_key
from meshhook.services import keys

secrets_app = typer.Typer(help="Project secrets (values are write-only).", no_args_is_help=True)
keys_app = typer.Typer(help="Key-encryption keys of the secrets vault.", no_args_is_help=True)


@secrets_app.command("set")
def set_secret(
    name: Annotated[str, typer.Argument(help="e.g. CRM_API_TOKEN")],
    value_stdin: Annotated[
        bool, typer.Option("--value-stdin", help="Read the value from standard input.")
    ] = False,
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    project: Project = "default",
) -> None:
    """Create or replace a secret. The value is read from standard input, never an argument."""
    if not value_stdin:
        say("pass --value-stdin and pipe the value in (arguments end up in shell history)")
        raise typer.Exit(2)
    value = read_stdin_secret("secret value")
    with api() as client:
        client.set_secret(project, name, value, description=description)
    say(f"secret {name} stored in project {project}; reference it as {{{{ secrets.{name} }}}}")


@secrets_app.command("list")
def list_secrets(project: Project = "default", as_json: AsJson = False) -> None:
    """Names and metadata of the project's secrets."""
    with api(as_json) as client:
        found = client.list_secrets(project)
    if as_json:
        emit(found)
        return
    grid = table("name", "description", "updated", "by", "last used")
    for item in found:
        last = when(item["last_used_at"]) if item["last_used_at"] else "never"
        add_row(
            grid,
            item["name"],
            item["description"],
            when(item["updated_at"]),
            item["updated_by"],
            last,
        )
    console.print(grid)


@secrets_app.command("delete")
def delete_secret(name: str, project: Project = "default") -> None:
    """Delete a secret (definitions referencing it can no longer be published)."""
    with api() as client:
        client.delete_secret(project, name)
    say(f"secret {name} deleted from project {project}")


def audit(
    project: Project = "default",
    action: Annotated[str | None, typer.Option(help="e.g. workflow.publish")] = None,
    actor: Annotated[str | None, typer.Option(help="Email of who acted.")] = None,
    object_id: Annotated[str | None, typer.Option("--object", help="Object id.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO timestamp (UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="ISO timestamp (UTC).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: AsJson = False,
) -> None:
    """The project's audit log, newest first (admin)."""
    with api(as_json) as client:
        page = client.audit(
            project,
            action=action,
            actor=actor,
            object=object_id,
            since=since,
            until=until,
            limit=limit,
        )
    if as_json:
        emit(page)
        return
    grid = table("when", "who", "action", "object", "summary")
    for entry in page["items"]:
        summary = ", ".join(f"{key}={value}" for key, value in entry["summary"].items())
        add_row(
            grid,
            when(entry["created_at"]),
            entry["actor"],
            entry["action"],
            entry["object_id"],
            summary,
        )
    console.print(grid)


@keys_app.command("rotate")
@report_errors
def rotate() -> None:
    """Re-wrap every project's data key under a new key-encryption key.

    With a key file in MESHHOOK_HOME a new key is generated, and the old one is
    retired once every data key is re-wrapped. With MESHHOOK_MASTER_KEY, first
    put the new key there and the old one in MESHHOOK_PREVIOUS_MASTER_KEYS.
    Servers keep serving meanwhile.
    """
    settings = load_settings()
    with admin_database() as db:
        result = keys.rotate(db, settings)
    say(
        f"active key {result.active_key_id}: {result.rewrapped} of {result.projects} projects"
        f" re-wrapped; retired: {', '.join(result.retired) or 'none'}"
    )


@keys_app.command("generate")
def generate() -> None:
    """Print a new random key for MESHHOOK_MASTER_KEY (base64, 32 bytes)."""
    typer.echo(generate_master_key())
