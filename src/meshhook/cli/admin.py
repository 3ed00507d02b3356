"""Admin commands that work straight on the database (bootstrap, scripts)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from meshhook.cli.common import admin_database, console, read_stdin_secret, report_errors
from meshhook.domain.accounts import Actor, Role
from meshhook.security.passwords import generate_password
from meshhook.services import accounts, projects, sessions

users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
projects_app = typer.Typer(help="Manage projects.", no_args_is_help=True)
members_app = typer.Typer(help="Manage project members.", no_args_is_help=True)
tokens_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
sessions_app = typer.Typer(help="A user's web UI sessions.", no_args_is_help=True)


@users_app.command("create")
@report_errors
def create_user(
    email: Annotated[str, typer.Argument(help="The user's email address.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    admin: Annotated[
        bool, typer.Option("--admin", help="Make the user an instance admin.")
    ] = False,
) -> None:
    """Create a user. Without --password-stdin a password is generated and printed once."""
    password = read_stdin_secret("password") if password_stdin else generate_password()
    with admin_database() as db:
        user = accounts.create_user(db, Actor.cli(), email, password=password, is_admin=admin)
    console.print(f"created user {user.email} ({user.id})", highlight=False)
    if not password_stdin:
        console.print(f"password: {password}", highlight=False)


@users_app.command("disable")
@report_errors
def disable_user(email: Annotated[str, typer.Argument(help="The user's email address.")]) -> None:
    """Disable a user: their API tokens and sessions stop working at once."""
    with admin_database() as db:
        user = accounts.set_disabled(db, Actor.cli(), email, disabled=True)
    console.print(f"disabled {user.email}; their tokens and sessions are refused", highlight=False)


@users_app.command("enable")
@report_errors
def enable_user(email: Annotated[str, typer.Argument(help="The user's email address.")]) -> None:
    """Enable a disabled user again (their API tokens work again; sessions were ended)."""
    with admin_database() as db:
        user = accounts.set_disabled(db, Actor.cli(), email, disabled=False)
    console.print(f"enabled {user.email}", highlight=False)


@sessions_app.command("list")
@report_errors
def list_sessions(email: Annotated[str, typer.Argument(help="The user's email address.")]) -> None:
    """The user's web UI sessions that are still valid, newest first."""
    with admin_database() as db:
        found = sessions.list_user_sessions(db, email)
    if not found:
        console.print(f"{email} has no open sessions", highlight=False)
    for item in found:  # one line each, so the id is never cut to fit a narrow terminal
        used = item.last_used_at.isoformat(timespec="seconds") if item.last_used_at else "never"
        expires = item.expires_at.isoformat(timespec="seconds") if item.expires_at else "never"
        print(
            f"{item.id}  created {item.created_at.isoformat(timespec='seconds')}"
            f"  last used {used}  expires {expires}"
        )


@sessions_app.command("revoke")
@report_errors
def revoke_sessions(
    email: Annotated[str, typer.Argument(help="The user's email address.")],
    session_id: Annotated[
        UUID | None, typer.Argument(help="One session id (from 'sessions list'); default: all.")
    ] = None,
) -> None:
    """End one or all of a user's web UI sessions (they must sign in again)."""
    with admin_database() as db:
        count = sessions.revoke_user_sessions(db, Actor.cli(), email, session_id)
    console.print(f"revoked {count} session(s) of {email}", highlight=False)


@projects_app.command("create")
@report_errors
def create_project(
    key: Annotated[str, typer.Argument(help="Portable slug, e.g. 'payments'.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    owner: Annotated[str, typer.Option("--owner", help="Email of the owner.")],
) -> None:
    """Create a project owned by an existing user."""
    with admin_database() as db:
        project = projects.create_project(db, Actor.cli(), key, name, owner_email=owner)
    console.print(f"created project {project.key} ({project.id}), owner {owner}", highlight=False)


@members_app.command("add")
@report_errors
def add_member(
    project: Annotated[str, typer.Argument(help="Project key.")],
    email: Annotated[str, typer.Argument(help="Email of an existing user.")],
    role: Annotated[Role, typer.Option("--role", help="The role in the project.")],
) -> None:
    """Add a user to a project, or change their role there."""
    with admin_database() as db:
        membership = projects.set_member(db, Actor.cli(), project, email, role, invite=False)
    console.print(f"{membership.email} is {membership.role.value} in {project}", highlight=False)


@tokens_app.command("create")
@report_errors
def create_token(
    email: Annotated[str, typer.Argument(help="Email of the user the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="A label to recognise it by.")] = "cli",
    expires_in: Annotated[
        int | None, typer.Option("--expires-in", help="Days until it expires (default: never).")
    ] = None,
) -> None:
    """Create an API token. The token is printed alone on the last line, once."""
    with admin_database() as db:
        issued = accounts.create_token(
            db, Actor.cli(), email, name=name, expires_in_days=expires_in
        )
    expiry = issued.token.expires_at.isoformat() if issued.token.expires_at else "never"
    console.print(
        f"token {issued.token.prefix} for {email}, expires {expiry}; it is shown only now:",
        highlight=False,
    )
    print(issued.value)
