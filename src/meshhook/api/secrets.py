"""Project secrets: write-only values (admin). No response ever carries a value."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from meshhook.api.bodies import json_body, openapi_body
from meshhook.api.deps import CurrentActor, DatabaseDep
from meshhook.api.schemas.common import RequestBody
from meshhook.domain.accounts import Role
from meshhook.domain.limits import MAX_ALLOWED_HOSTS, MAX_NOTE_LENGTH
from meshhook.domain.secrets import KEEP, Keep, SecretRecord
from meshhook.services import secret_scrub, secrets
from meshhook.services.keys import KeyProvider
from meshhook.services.secret_scrub import ScrubReport

router = APIRouter(prefix="/api/v1/projects/{project}/secrets", tags=["secrets"])


def get_keys(request: Request) -> KeyProvider:
    keys: KeyProvider = request.app.state.keys
    return keys


KeysDep = Annotated[KeyProvider, Depends(get_keys)]


_HOSTS = (
    "Hosts the value may be sent to: `api.example.com`, `*.example.com` (subdomains) or an "
    f"IP address; at most {MAX_ALLOWED_HOSTS}. `null`: any host; `[]`: none."
)


class SecretBody(RequestBody):
    value: str = Field(min_length=1, description="Write-only: never returned.")
    description: str = Field(default="", max_length=MAX_NOTE_LENGTH)
    allowed_hosts: list[str] | None = Field(
        default=None, description=_HOSTS + " Absent: a replaced secret keeps its list."
    )

    def hosts(self) -> list[str] | Keep | None:
        return self.allowed_hosts if "allowed_hosts" in self.model_fields_set else KEEP


class SecretSettingsBody(RequestBody):
    description: str | None = Field(default=None, max_length=MAX_NOTE_LENGTH)
    allowed_hosts: list[str] | None = Field(default=None, description=_HOSTS + " Absent: kept.")


class ScrubbedVersionOut(BaseModel):
    workflow_id: UUID
    workflow_key: str
    deleted: bool = Field(description="The workflow is in the trash.")
    version: int
    pointers: list[str] = Field(description="JSON Pointers of the values replaced by ***.")


class ScrubOut(BaseModel):
    dry_run: bool
    workflows_checked: int
    versions_checked: int
    scrubbed: list[ScrubbedVersionOut]

    @classmethod
    def of(cls, report: ScrubReport) -> ScrubOut:
        return cls(
            dry_run=report.dry_run,
            workflows_checked=report.workflows_checked,
            versions_checked=report.versions_checked,
            scrubbed=[
                ScrubbedVersionOut(
                    workflow_id=item.workflow_id,
                    workflow_key=item.workflow_key,
                    deleted=item.deleted,
                    version=item.number,
                    pointers=list(item.pointers),
                )
                for item in report.scrubbed
            ],
        )


class SecretOut(BaseModel):
    name: str
    description: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    last_used_at: datetime | None
    allowed_hosts: list[str] | None = Field(
        description="Hosts the value may be sent to; null: any host."
    )

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
            allowed_hosts=None if record.allowed_hosts is None else list(record.allowed_hosts),
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
def get_secret(project: str, name: str, db: DatabaseDep, actor: CurrentActor) -> SecretOut:
    """One secret's metadata (admin)."""
    return SecretOut.of(secrets.get_secret(db, actor, project, name))


@router.delete("/{name}", name="delete_secret", status_code=204)
def delete_secret(project: str, name: str, db: DatabaseDep, actor: CurrentActor) -> Response:
    secrets.delete_secret(db, actor, project, name)
    return Response(status_code=204)
