"""Bundles: export (one workflow, chosen keys, a whole project), import, and the
bundle's JSON Schema. Export and import need the admin role."""

from __future__ import annotations

from typing import Annotated, BinaryIO

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from meshhook.api.bodies import bundle_sized, spooled_body
from meshhook.api.deps import CurrentActor, DatabaseDep
from meshhook.api.schemas.bundles import (
    ImportReportOut,
)
from meshhook.api.threads import blocking
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


@router.post(
    _PROJECT + "/import",
    name="import_bundle",
    openapi_extra={"requestBody": {"required": True, "content": _BUNDLE_CONTENT}},
)
@bundle_sized
@blocking
def import_bundle(
    project: str,
    actor: CurrentActor,
    db: DatabaseDep,
    body: Annotated[BinaryIO, Depends(spooled_body(role=Role.ADMIN))],
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
