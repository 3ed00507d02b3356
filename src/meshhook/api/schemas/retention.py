"""Request and response bodies of ``api/retention.py``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from meshhook.api.schemas.common import RequestBody
from meshhook.domain.limits import MAX_RETENTION_DAYS
from meshhook.services.retention import PolicyView, RunReport

DELETE_DOC = (
    "Finished runs older than this many days (since they were created) are deleted with"
    " their events; null keeps them forever. Statistics are kept."
)
SCRUB_DOC = (
    "Finished runs older than this many days lose their payloads (inputs, outputs, recorded"
    " requests and responses, error details beyond code and message), keeping status,"
    " timings and statistics; null never scrubs. Fewer days than delete_after_days."
)


class RetentionBody(RequestBody):
    delete_after_days: int | None = Field(
        default=None, ge=1, le=MAX_RETENTION_DAYS, description=DELETE_DOC
    )
    scrub_after_days: int | None = Field(
        default=None, ge=1, le=MAX_RETENTION_DAYS, description=SCRUB_DOC
    )


class RetentionOut(BaseModel):
    delete_after_days: int | None = Field(description=DELETE_DOC)
    scrub_after_days: int | None = Field(description=SCRUB_DOC)
    keeps_forever: bool = Field(description="Neither age is set: nothing is ever removed.")
    updated_at: datetime | None = Field(description="Null while the default applies.")
    updated_by: str | None

    @classmethod
    def of(cls, view: PolicyView) -> RetentionOut:
        return cls(
            delete_after_days=view.policy.delete_after_days,
            scrub_after_days=view.policy.scrub_after_days,
            keeps_forever=view.policy.keeps_forever,
            updated_at=view.updated_at,
            updated_by=view.updated_by,
        )


class WorkflowBacklogOut(BaseModel):
    workflow_id: UUID
    workflow_key: str
    runs_to_delete: int = Field(description="Finished runs the policy deletes now.")
    runs_to_scrub: int = Field(description="Finished runs the policy scrubs now.")


class RetentionRunOut(BaseModel):
    dry_run: bool
    delete_before: datetime | None = Field(description="Runs created before this are deleted.")
    scrub_before: datetime | None = Field(description="Runs created before this are scrubbed.")
    workflows: list[WorkflowBacklogOut] = Field(
        description="Per workflow, what the policy removes (counted before this run)."
    )
    runs_to_delete: int
    runs_to_scrub: int
    runs_deleted: int = Field(description="0 in a dry run.")
    runs_scrubbed: int = Field(description="0 in a dry run.")

    @classmethod
    def of(cls, report: RunReport) -> RetentionRunOut:
        return cls(
            dry_run=report.dry_run,
            delete_before=report.delete_before,
            scrub_before=report.scrub_before,
            workflows=[
                WorkflowBacklogOut(
                    workflow_id=item.workflow_id,
                    workflow_key=item.workflow_key,
                    runs_to_delete=item.runs_to_delete,
                    runs_to_scrub=item.runs_to_scrub,
                )
                for item in report.workflows
            ],
            runs_to_delete=sum(item.runs_to_delete for item in report.workflows),
            runs_to_scrub=sum(item.runs_to_scrub for item in report.workflows),
            runs_deleted=report.applied.runs_deleted,
            runs_scrubbed=report.applied.runs_scrubbed,
        )
