"""A project's own redaction rules (admin; changes audited): named patterns
for the whole project, JSON Pointers per workflow (docs/privacy.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from meshhook.api.bodies import json_body, openapi_body
from meshhook.api.deps import CurrentActor, DatabaseDep
from meshhook.api.schemas.redaction import (
    PatternBody,
    PatternOut,
    PointersBody,
    PointersOut,
    RedactionRulesOut,
)
from meshhook.api.threads import blocking
from meshhook.domain.accounts import Role
from meshhook.services import redaction

router = APIRouter(prefix="/api/v1/projects/{project}", tags=["redaction"])


@router.get("/redaction", name="redaction_rules")
@blocking
def redaction_rules(project: str, db: DatabaseDep, actor: CurrentActor) -> RedactionRulesOut:
    """The project's patterns and every workflow's pointers, with their limits (admin)."""
    return RedactionRulesOut.of(redaction.rules(db, actor, project))


@router.put(
    "/redaction/patterns/{name}",
    name="set_redaction_pattern",
    openapi_extra=openapi_body(PatternBody),
)
@blocking
def set_redaction_pattern(
    project: str,
    name: str,
    actor: CurrentActor,
    body: Annotated[PatternBody, Depends(json_body(PatternBody, role=Role.ADMIN))],
    response: Response,
    db: DatabaseDep,
) -> PatternOut:
    """Create (201) or replace (200) a pattern; audited as `redaction.pattern_set`."""
    record, created = redaction.set_pattern(db, actor, project, name, body.pattern)
    response.status_code = 201 if created else 200
    return PatternOut.of(record)


@router.delete("/redaction/patterns/{name}", name="delete_redaction_pattern", status_code=204)
def delete_redaction_pattern(
    project: str, name: str, db: DatabaseDep, actor: CurrentActor
) -> Response:
    """Remove a pattern; audited as `redaction.pattern_delete`."""
    redaction.delete_pattern(db, actor, project, name)
    return Response(status_code=204)


@router.get("/workflows/{workflow}/redaction", name="workflow_redaction")
@blocking
def workflow_redaction(
    project: str, workflow: str, db: DatabaseDep, actor: CurrentActor
) -> PointersOut:
    """The JSON Pointers always hidden in this workflow's runs (admin)."""
    return PointersOut(
        workflow=workflow, pointers=redaction.workflow_pointers(db, actor, project, workflow)
    )


@router.put(
    "/workflows/{workflow}/redaction",
    name="set_workflow_redaction",
    openapi_extra=openapi_body(PointersBody),
)
@blocking
def set_workflow_redaction(
    project: str,
    workflow: str,
    actor: CurrentActor,
    body: Annotated[PointersBody, Depends(json_body(PointersBody, role=Role.ADMIN))],
    db: DatabaseDep,
) -> PointersOut:
    """Replace the workflow's pointers; they apply at once to the runs of every
    version (beside the definition's own `settings.redact`); audited as
    `redaction.pointers_set`."""
    kept = redaction.set_workflow_pointers(db, actor, project, workflow, body.pointers)
    return PointersOut(workflow=workflow, pointers=kept)
