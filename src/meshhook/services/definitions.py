"""Turning a submitted definition into what is stored: validated, normalised,
canonical bytes, content hash and completeness problems, computed once."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from meshhook.domain import canonical
from meshhook.domain.accounts import Actor, Role
from meshhook.domain.errors import Problem, ValidationFailed
from meshhook.domain.limits import cap_problems
from meshhook.domain.secret_fields import secret_field_problems
from meshhook.domain.validation import (
    MAX_DEFINITION_BYTES,
    ValidationReport,
    completeness_problems,
    ensure_structurally_valid,
    normalize_definition,
    validate_definition,
)
from meshhook.services.transactions import project_transaction
from meshhook.store.db import Database


@dataclass(frozen=True, slots=True)
class PreparedDefinition:
    definition: dict[str, Any]
    canonical: bytes
    content_hash: str
    problems: tuple[Problem, ...]


def prepare(
    definition: Any,
    *,
    pointer_prefix: str = "/definition",
    secret_names: Collection[str] | None = None,
) -> PreparedDefinition:
    """Validate structure (422 on failure, paths under ``pointer_prefix``) and
    compute everything a version stores."""
    try:
        check = ensure_structurally_valid(definition)
        normalised = normalize_definition(definition)
        data = canonical.canonical_bytes(normalised, plain=check.plain)
        if len(data) > MAX_DEFINITION_BYTES:
            ensure_structurally_valid(normalised, size_bytes=len(data))
    except ValidationFailed as error:
        raise _under(error, pointer_prefix) from None
    return PreparedDefinition(
        definition=normalised,
        canonical=data,
        content_hash=canonical.content_hash(data),
        # Stored with the version and served with it: capped (MAX_PROBLEMS and a
        # problems.truncated summary), so a 90 KB definition no longer stores 9.5 MB.
        problems=tuple(
            cap_problems(
                completeness_problems(normalised, secret_names=secret_names, graph=check.graph)
            )
        ),
    )


def load(data: bytes) -> dict[str, Any]:
    """A stored definition back as JSON values."""
    value: dict[str, Any] = canonical.parse_json(data)
    return value


def blocking(problems: Collection[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.severity == "error"]


def _under(error: ValidationFailed, prefix: str) -> ValidationFailed:
    return ValidationFailed(
        error.detail,
        errors=[
            Problem(prefix + problem.path, problem.code, problem.message, problem.severity)
            for problem in error.errors
        ],
        extra=error.extra,
    )


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


def check(db: Database, actor: Actor, project_key: str, definition: Any) -> ValidationReport:
    """Validate a definition in a project's context without saving it (viewer)."""
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        known = scope.secrets.names()
        hosts = scope.secrets.restricted_hosts()
    return validate_definition(definition, secret_names=known, allowed_hosts=hosts)
