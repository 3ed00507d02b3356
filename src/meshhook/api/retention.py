"""A project's retention policy: read it (viewer), change it or apply it now (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from meshhook.api.bodies import json_body, openapi_body
from meshhook.api.deps import CurrentActor, DatabaseDep, SettingsDep
from meshhook.api.schemas.retention import RetentionBody, RetentionOut, RetentionRunOut
from meshhook.api.threads import blocking
from meshhook.domain.accounts import Role
from meshhook.services import retention

router = APIRouter(prefix="/api/v1/projects/{project}", tags=["retention"])


@router.get("/retention", name="get_retention")
@blocking
def get_retention(project: str, db: DatabaseDep, actor: CurrentActor) -> RetentionOut:
    """The project's retention policy (by default, runs are kept forever)."""
    return RetentionOut.of(retention.get_policy(db, actor, project))


@router.put("/retention", name="set_retention", openapi_extra=openapi_body(RetentionBody))
@blocking
def set_retention(
    project: str,
    actor: CurrentActor,
    body: Annotated[RetentionBody, Depends(json_body(RetentionBody, role=Role.ADMIN))],
    db: DatabaseDep,
) -> RetentionOut:
    """Replace the policy (admin; audited). An omitted or null age removes that rule."""
    view = retention.set_policy(db, actor, project, body.delete_after_days, body.scrub_after_days)
    return RetentionOut.of(view)


@router.post("/retention/run", name="run_retention")
@blocking
def run_retention(
    project: str,
    db: DatabaseDep,
    actor: CurrentActor,
    settings: SettingsDep,
    dry_run: Annotated[
        bool, Query(description="Only count, per workflow, what would be removed.")
    ] = False,
) -> RetentionRunOut:
    """Apply the policy now (admin; audited), in short batches, or count what it
    would remove. The background job does the same periodically."""
    report = retention.run(db, actor, project, retention.Knobs.of(settings), dry_run=dry_run)
    return RetentionRunOut.of(report)
