"""First start: an admin, a ``default`` project and a token, printed once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from meshhook.domain.accounts import Actor
from meshhook.domain.errors import Conflict
from meshhook.security import files
from meshhook.security.passwords import generate_password
from meshhook.services import accounts, projects
from meshhook.services.transactions import transaction
from meshhook.store import users as user_store
from meshhook.store.db import Database

ADMIN_EMAIL = "admin@meshhook.local"
DEFAULT_PROJECT = "default"


@dataclass(frozen=True, slots=True)
class InitialCredentials:
    email: str
    password: str
    token: str
    project: str

    def as_text(self) -> str:
        return (
            f"email: {self.email}\n"
            f"password: {self.password}\n"
            f"token: {self.token}\n"
            f"project: {self.project}\n"
        )


def bootstrap(db: Database, credentials_file: Path) -> InitialCredentials | None:
    """Create the first admin when the database has no user at all.

    Returns the credentials to print once, or None when users already exist.
    Two servers starting together on one database: one wins, the other sees a
    conflict and carries on.
    """
    cli = Actor.cli()
    password = generate_password()
    try:
        with transaction(db, cli) as session:
            if user_store.count_users(session) > 0:
                return None
            admin = accounts.new_user(ADMIN_EMAIL, is_admin=True, display_name="Admin")
            accounts.add_user(session, cli, admin, password)
            projects.add_project(
                session, cli, projects.new_project(DEFAULT_PROJECT, "Default"), admin
            )
            issued = accounts.issue_token(session, cli, admin, name="initial")
    except Conflict:  # another server bootstrapped first (UniqueConflict included)
        return None
    credentials = InitialCredentials(ADMIN_EMAIL, password, issued.value, DEFAULT_PROJECT)
    _write_private(credentials_file, credentials.as_text())
    return credentials


def _write_private(path: Path, text: str) -> None:
    files.make_private_directory(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
