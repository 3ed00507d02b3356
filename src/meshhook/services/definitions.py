"""Definitions in a project's context: checks that read the project's secrets.

The pure part (validation, normalisation, canonical bytes, content hash, the
problems a definition has) is ``domain/preparation.py``; its names are
re-exported here for the services that used them from this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.errors import ValidationFailed
from meshhook.domain.preparation import (
    PreparedDefinition,
    blocking,
    load,
    prepare,
    prepare_like,
)
from meshhook.domain.secret_fields import secret_field_problems
from meshhook.domain.validation import ValidationReport, validate_definition
from meshhook.services.transactions import project_transaction
from meshhook.store.db import Database

__all__ = [
    "PreparedDefinition",
    "blocking",
    "check",
    "ensure_no_stored_secrets",
    "load",
    "prepare",
    "prepare_like",
]


def ensure_no_stored_secrets(data: bytes, *, what: str) -> None:
    """Refuse (422) to copy stored content that the secret rules now refuse:
    versions saved before literal credentials and misplaced references were
    refused at save (``meshhook secrets scrub`` cleans literals out of history)."""
    problems = secret_field_problems(load(data).get("nodes", []))
    if problems:
        raise ValidationFailed(
            f"{what} holds secrets where definitions may not (fix them in a new version, "
            "or have an admin run `meshhook secrets scrub`)",
            errors=problems,
        )


def check(
    db: Database, actor: Actor, project_key: str, submitted: Callable[[], Any]
) -> ValidationReport:
    """Validate a definition in a project's context without saving it (viewer).

    ``submitted`` gives the definition; it is called once the caller's token and
    role are checked, so a request body parsed by it is judged only then.
    """
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        definition = submitted()
        known = scope.secrets.names()
        hosts = scope.secrets.restricted_hosts()
    return validate_definition(definition, secret_names=known, allowed_hosts=hosts)
