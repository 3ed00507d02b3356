"""Request and response bodies of ``api/bundles.py``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from meshhook.api.schemas.problems import ProblemOut
from meshhook.services import bundles


class ImportedWorkflowOut(BaseModel):
    key: str
    action: str = Field(description="create or replace")
    id: UUID | None = Field(description="The new workflow id (null in a dry run).")
    replaced_id: UUID | None
    versions: int
    head_version: int
    published_version: int | None
    diff: dict[str, Any] | None = Field(
        default=None, description="Dry-run replacements: current head → bundled head."
    )


class ImportReportOut(BaseModel):
    dry_run: bool
    created: int
    replaced: int
    workflows: list[ImportedWorkflowOut]
    warnings: list[ProblemOut]

    @classmethod
    def of(cls, report: bundles.ImportReport) -> ImportReportOut:
        return cls(
            dry_run=report.dry_run,
            created=report.count("create"),
            replaced=report.count("replace"),
            workflows=[
                ImportedWorkflowOut(
                    key=item.key,
                    action=item.action,
                    id=item.workflow_id,
                    replaced_id=item.replaced_id,
                    versions=item.versions,
                    head_version=item.head_version,
                    published_version=item.published_version,
                    diff=item.diff,
                )
                for item in report.workflows
            ],
            warnings=[ProblemOut.of(warning) for warning in report.warnings],
        )
