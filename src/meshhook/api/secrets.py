"""Project secrets: write-only values (admin). No response ever carries a value."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from meshhook.api.bodies import json_body, openapi_body
from meshhook.api.deps import CurrentActor, DatabaseDep
from meshhook.api.schemas.secrets import (
    ScrubOut,
    SecretBody,
    SecretOut,
    SecretSettingsBody,
)
from meshhook.api.threads import blocking
from meshhook.domain.accounts import Role
from meshhook.domain.secrets import KEEP
from meshhook.services import secret_scrub, secrets
from meshhook.services.keys import KeyProvider

router = APIRouter(prefix="/api/v1/projects/{project}/secrets", tags=["secrets"])


def get_keys(request: Request) -> KeyProvider:
    keys: KeyProvider = request.app.state.keys
    return keys


KeysDep = Annotated[KeyProvider, Depends(get_keys)]


@router.get("", name="list_secrets")
@blocking
def list_secrets(project: str, db: DatabaseDep, actor: CurrentActor) -> list[SecretOut]:
    """Names and metadata, never values (admin)."""
    return [SecretOut.of(record) for record in secrets.list_secrets(db, actor, project)]


@router.put("/{name}", name="set_secret", openapi_extra=openapi_body(SecretBody))
@blocking
def set_secret(
    project: str,
    name: str,
    actor: CurrentActor,
    body: Annotated[SecretBody, Depends(json_body(SecretBody, role=Role.ADMIN))],
    response: Response,
    db: DatabaseDep,
    keys: KeysDep,
) -> SecretOut:
    """Create (201) or replace (200) a secret; the value is encrypted at once."""
    record, created = secrets.set_secret(
        db,
        keys,
        actor,
        project,
        name,
        body.value,
        description=body.description,
        allowed_hosts=body.hosts(),
    )
    response.status_code = 201 if created else 200
    return SecretOut.of(record)


@router.post("/scrub", name="scrub_secrets")
@blocking
def scrub_secrets(
    project: str,
    db: DatabaseDep,
    actor: CurrentActor,
    dry_run: Annotated[bool, Query(description="Report what would change; write nothing.")] = False,
) -> ScrubOut:
    """Replace literal credentials in sensitive fields of every stored version of every
    workflow (trash included) by `***` (admin); audited as `secret.scrub`."""
    return ScrubOut.of(secret_scrub.scrub(db, actor, project, dry_run=dry_run))


@router.patch("/{name}", name="update_secret", openapi_extra=openapi_body(SecretSettingsBody))
@blocking
def update_secret(
    project: str,
    name: str,
    actor: CurrentActor,
    body: Annotated[SecretSettingsBody, Depends(json_body(SecretSettingsBody, role=Role.ADMIN))],
    db: DatabaseDep,
) -> SecretOut:
    """Change a secret's description or allowed hosts, keeping its value (admin)."""
    given = body.model_fields_set
    record = secrets.update_settings(
        db,
        actor,
        project,
        name,
        description=body.description
        if "description" in given and body.description is not None
        else KEEP,
        allowed_hosts=body.allowed_hosts if "allowed_hosts" in given else KEEP,
    )
    return SecretOut.of(record)


@router.get("/{name}", name="get_secret")
@blocking
def get_secret(project: str, name: str, db: DatabaseDep, actor: CurrentActor) -> SecretOut:
    """One secret's metadata (admin)."""
    return SecretOut.of(secrets.get_secret(db, actor, project, name))


@router.delete("/{name}", name="delete_secret", status_code=204)
def delete_secret(project: str, name: str, db: DatabaseDep, actor: CurrentActor) -> Response:
    secrets.delete_secret(db, actor, project, name)
    return Response(status_code=204)
