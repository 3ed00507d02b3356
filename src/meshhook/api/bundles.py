"""Bundles: export (one workflow, chosen keys, a whole project), import, and the
bundle's JSON Schema. Export and import need the admin role."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from meshhook.api.bodies import bundle_sized, raw_body
from meshhook.api.deps import CurrentActor, DatabaseDep
from meshhook.api.schemas.problems import ProblemOut
from meshhook.domain.accounts import Role
from meshhook.domain.errors import Problem, ValidationFailed
from meshhook.services import bundles

router = APIRouter(tags=["bundles"])

_PROJECT = "/api/v1/projects/{project}"
_BUNDLE_CONTENT = {
    "application/json": {
        "schema": {
            "type": "object",
            "description": "A workflow bundle: see /api/v1/schemas/workflow-bundle.v1.json",
        }
    }
}


def _bundle_response(exported: bundles.ExportedBundle) -> Response:
    return Response(
        exported.data,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{exported.filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/api/v1/schemas/workflow-bundle.v1.json",
    name="get_bundle_schema",
    responses={200: {"content": {"application/schema+json": {}}}},
)
def get_bundle_schema() -> Response:
    """The JSON Schema (draft 2020-12) of bundle format version 1 (no auth needed)."""
    return Response(
        bundles.schema_bytes(),
        media_type="application/schema+json",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get(
    _PROJECT + "/workflows/{workflow}/export",
    name="export_workflow",
    responses={200: {"content": _BUNDLE_CONTENT}},
)
def export_workflow(project: str, workflow: str, actor: CurrentActor, db: DatabaseDep) -> Response:
    """A bundle holding one workflow (by id or key), as canonical JSON (admin)."""
    return _bundle_response(bundles.export_workflow(db, actor, project, workflow))


def _keys(keys: str | None) -> list[str] | None:
    if keys is None:
        return None
    chosen = [key.strip() for key in keys.split(",") if key.strip()]
    if not chosen:
        raise ValidationFailed(
            "keys is empty: leave it out to export every workflow",
            errors=[Problem("/keys", "request.empty", "name at least one workflow key")],
        )
    return chosen


@router.get(
    _PROJECT + "/export", name="export_project", responses={200: {"content": _BUNDLE_CONTENT}}
)
def export_project(
    project: str,
    actor: CurrentActor,
    db: DatabaseDep,
    keys: Annotated[
        str | None,
        Query(description="Comma-separated workflow keys; default: every live workflow."),
    ] = None,
) -> Response:
    """A bundle of the project's workflows, or of the ones named in ``keys`` (admin)."""
    return _bundle_response(bundles.export_bundle(db, actor, project, _keys(keys)))


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


@router.post(
    _PROJECT + "/import",
    name="import_bundle",
    openapi_extra={"requestBody": {"required": True, "content": _BUNDLE_CONTENT}},
)
@bundle_sized
def import_bundle(
    project: str,
    actor: CurrentActor,
    db: DatabaseDep,
    body: Annotated[bytes, Depends(raw_body(role=Role.ADMIN))],
    force: Annotated[
        bool, Query(description="Replace workflows whose key exists (their history goes).")
    ] = False,
    dry_run: Annotated[bool, Query(description="Check and report; write nothing.")] = False,
) -> ImportReportOut:
    """Import a bundle, all or nothing, matched by key (admin).

    Existing keys → 409 unless ``force``; ``dry_run`` reports create/replace with a
    diff for replacements; missing secrets come back as warnings.
    """
    report = bundles.import_bundle(db, actor, project, body, force=force, dry_run=dry_run)
    return ImportReportOut.of(report)
