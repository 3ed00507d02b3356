"""Project secrets: write-only values (admin). No response ever carries a value."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from meshhook.api.bodies import json_body, openapi_body
from meshhook.api.deps import CurrentActor, DatabaseDep
from meshhook.api.models import RequestBody
from meshhook.domain.accounts import Role
from meshhook.domain.secrets import SecretRecord
from meshhook.services import secrets
from meshhook.services.keys import KeyProvider

router = APIRouter(prefix="/api/v1/projects/{project}/secrets", tags=["secrets"])


def get_keys(request: Request) -> KeyProvider:
    keys: KeyProvider = request.app.state.keys
    return keys


KeysDep = Annotated[KeyProvider, Depends(get_keys)]


class SecretBody(RequestBody):
    value: str = Field(min_length=1, description="Write-only: never returned.")
    description: str = Field(default="", max_length=2_000)


class SecretOut(BaseModel):
    name: str
    description: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    last_used_at: datetime | None

    @classmethod
    def of(cls, record: SecretRecord) -> SecretOut:
        return cls(
            name=record.name,
            description=record.description,
            created_at=record.created_at,
            created_by=record.created_by,
            updated_at=record.updated_at,
            updated_by=record.updated_by,
            last_used_at=record.last_used_at,
        )


@router.get("", name="list_secrets")
def list_secrets(project: str, db: DatabaseDep, actor: CurrentActor) -> list[SecretOut]:
    """Names and metadata, never values (admin)."""
    return [SecretOut.of(record) for record in secrets.list_secrets(db, actor, project)]


@router.put("/{name}", name="set_secret", openapi_extra=openapi_body(SecretBody))
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
        db, keys, actor, project, name, body.value, description=body.description
    )
    response.status_code = 201 if created else 200
    return SecretOut.of(record)


@router.get("/{name}", name="get_secret")
def get_secret(project: str, name: str, db: DatabaseDep, actor: CurrentActor) -> SecretOut:
    """One secret's metadata (admin)."""
    return SecretOut.of(secrets.get_secret(db, actor, project, name))


@router.delete("/{name}", name="delete_secret", status_code=204)
def delete_secret(project: str, name: str, db: DatabaseDep, actor: CurrentActor) -> Response:
    secrets.delete_secret(db, actor, project, name)
    return Response(status_code=204)
