"""Request and response bodies of ``api/secrets.py``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from meshhook.api.schemas.common import RequestBody
from meshhook.domain.limits import MAX_ALLOWED_HOSTS, MAX_NOTE_LENGTH
from meshhook.domain.secrets import KEEP, Keep, SecretRecord
from meshhook.services.secret_scrub import ScrubReport

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
