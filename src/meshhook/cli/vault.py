"""``meshhook secrets`` and ``meshhook audit`` (over the HTTP API) and
``meshhook keys`` (straight on the database and the key file)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from meshhook.cli.client import KEEP_HOSTS
from meshhook.cli.common import (
    admin_database,
    console,
    load_settings,
    read_stdin_secret,
    report_errors,
)
from meshhook.cli.output import add_row, emit, say, table, when
from meshhook.cli.remote import AsJson, Project, api
from meshhook.security.keys import generate_master_key
from meshhook.services import keys

secrets_app = typer.Typer(help="Project secrets (values are write-only).", no_args_is_help=True)
keys_app = typer.Typer(help="Key-encryption keys of the secrets vault.", no_args_is_help=True)


AllowHost = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-host",
        help="A host the value may be sent to (api.example.com, *.example.com); repeat "
        "for more. Replaces the secret's list.",
    ),
]
AnyHost = Annotated[
    bool, typer.Option("--any-host", help="Lift the host restriction: any host may get it.")
]


def _hosts_choice(allow_host: list[str] | None, any_host: bool) -> Any:
    """What to send as ``allowed_hosts``: a list, ``None`` (any host) or KEEP_HOSTS."""
    if allow_host and any_host:
        say("give --allow-host or --any-host, not both")
        raise typer.Exit(2)
    if any_host:
        return None
    return list(allow_host) if allow_host else KEEP_HOSTS


def _shown_hosts(hosts: list[str] | None) -> str:
    if hosts is None:
        return "any host"
    return ", ".join(hosts) if hosts else "no host"


@secrets_app.command("set")
def set_secret(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="e.g. CRM_API_TOKEN")],
    value_stdin: Annotated[
        bool, typer.Option("--value-stdin", help="Read the value from standard input.")
    ] = False,
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    allow_host: AllowHost = None,
    any_host: AnyHost = False,
    project: Project = "default",
) -> None:
    """Create or replace a secret. The value is read from standard input, never an argument.

    Without --allow-host or --any-host a replaced secret keeps its allowed hosts
    (a new one may go to any host).
    """
    if not value_stdin:
        say("pass --value-stdin and pipe the value in (arguments end up in shell history)")
        raise typer.Exit(2)
    hosts = _hosts_choice(allow_host, any_host)
    value = read_stdin_secret("secret value")
    with api(ctx) as client:
        found = client.set_secret(
            project, name, value, description=description, allowed_hosts=hosts
        )
    say(
        f"secret {name} stored in project {project} (sent only to "
        f"{_shown_hosts(found.get('allowed_hosts'))}); reference it as "
        f"{{{{ secrets.{name} }}}} in a credential field"
    )


@secrets_app.command("hosts")
def hosts(
    ctx: typer.Context,
    name: str,
    allow_host: AllowHost = None,
    any_host: AnyHost = False,
    no_host: Annotated[
        bool, typer.Option("--no-host", help="Send it nowhere (e.g. a webhook HMAC secret).")
    ] = False,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Show or change the hosts a secret may be sent to (its value is kept)."""
    choice = [] if no_host else _hosts_choice(allow_host, any_host)
    if no_host and (allow_host or any_host):
        say("give one of --allow-host, --any-host or --no-host")
        raise typer.Exit(2)
    with api(ctx, as_json) as client:
        if choice is KEEP_HOSTS:
            found = client.get_secret(project, name)
        else:
            found = client.update_secret(project, name, allowed_hosts=choice)
    if as_json:
        emit(found)
        return
    say(f"secret {name} may be sent to {_shown_hosts(found['allowed_hosts'])}")


@secrets_app.command("list")
def list_secrets(ctx: typer.Context, project: Project = "default", as_json: AsJson = False) -> None:
    """Names and metadata of the project's secrets."""
    with api(ctx, as_json) as client:
        found = client.list_secrets(project)
    if as_json:
        emit(found)
        return
    grid = table("name", "description", "allowed hosts", "updated", "by", "last used")
    for item in found:
        last = when(item["last_used_at"]) if item["last_used_at"] else "never"
        add_row(
            grid,
            item["name"],
            item["description"],
            _shown_hosts(item.get("allowed_hosts")),
            when(item["updated_at"]),
            item["updated_by"],
            last,
        )
    console.print(grid)


@secrets_app.command("scrub")
def scrub(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report what would be replaced.")
    ] = False,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Replace literal credentials in every stored version (trash included) by ***.

    The one exception to immutable history: version numbers stay, contents and
    hashes change, and each change is audited (secret.scrub). Rotate any
    credential it finds: it may survive in backups and earlier exports.
    """
    with api(ctx, as_json) as client:
        report = client.scrub_secrets(project, dry_run=dry_run)
    if as_json:
        emit(report)
        return
    grid = table("workflow", "version", "fields")
    for item in report["scrubbed"]:
        key = item["workflow_key"] + (" (trash)" if item["deleted"] else "")
        add_row(grid, key, str(item["version"]), ", ".join(item["pointers"]))
    if report["scrubbed"]:
        console.print(grid)
    count = sum(len(item["pointers"]) for item in report["scrubbed"])
    verb = "would replace" if dry_run else "replaced"
    say(
        f"{verb} {count} literal value(s) in {len(report['scrubbed'])} version(s); "
        f"checked {report['versions_checked']} version(s) of "
        f"{report['workflows_checked']} workflow(s)"
    )


@secrets_app.command("delete")
def delete_secret(ctx: typer.Context, name: str, project: Project = "default") -> None:
    """Delete a secret (definitions referencing it can no longer be published)."""
    with api(ctx) as client:
        client.delete_secret(project, name)
    say(f"secret {name} deleted from project {project}")


def audit(
    ctx: typer.Context,
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
    with api(ctx, as_json) as client:
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
    Servers keep serving meanwhile. Data keys do not change: secrets and sealed
    run payloads are not re-encrypted.
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
