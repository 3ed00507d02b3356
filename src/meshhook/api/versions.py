"""Versions of a workflow: history, one version, publish, revert, compare, aliases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from meshhook.api.bodies import json_body, model_json, openapi_body, raw_json
from meshhook.api.deps import CurrentActor, Cursor, DatabaseDep, Limit
from meshhook.api.schemas.common import Page
from meshhook.api.schemas.versions import (
    AliasBody,
    AliasOut,
    PublishBody,
    ScheduleOut,
    SchedulesOut,
    VersionDetailOut,
    VersionOut,
)
from meshhook.api.schemas.workflows import WorkflowDetailOut
from meshhook.api.threads import blocking
from meshhook.api.workflows import detail_response
from meshhook.domain.accounts import Role
from meshhook.domain.limits import (
    DEFAULT_PAGE_SIZE,
    MAX_VERSION,
    cap_problems,
)
from meshhook.services import schedules, versions

router = APIRouter(prefix="/api/v1/projects/{project}/workflows/{workflow}", tags=["versions"])


Number = Annotated[int, Query(ge=1, le=MAX_VERSION)]
PathNumber = Annotated[int, Path(ge=1, le=MAX_VERSION)]


@router.get("/versions", name="list_versions", response_model=Page[VersionOut])
def list_versions(
    project: str,
    workflow: str,
    db: DatabaseDep,
    actor: CurrentActor,
    cursor: Cursor,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> Response:
    """History, newest first."""
    infos, next_cursor = versions.history(
        db, actor, project, workflow, limit=limit, cursor=cursor.value
    )
    return model_json(
        Page[VersionOut](
            items=[VersionOut.of(info) for info in infos], next_cursor=cursor.next(next_cursor)
        )
    )


@router.get("/versions/compare", name="compare_versions")
@blocking
def compare_versions(
    project: str,
    workflow: str,
    db: DatabaseDep,
    actor: CurrentActor,
    from_: Annotated[int, Query(alias="from", ge=1, le=MAX_VERSION)],
    to: Number,
) -> dict[str, Any]:
    """Structural diff from one version to another, plus an RFC 6902 patch."""
    return versions.compare(db, actor, project, workflow, from_, to)


@router.post(
    "/versions/publish",
    name="publish_version",
    response_model=VersionOut,
    openapi_extra=openapi_body(PublishBody),
)
@blocking
def publish_version(
    project: str,
    workflow: str,
    actor: CurrentActor,
    body: Annotated[PublishBody, Depends(json_body(PublishBody, role=Role.EDITOR))],
    db: DatabaseDep,
) -> VersionOut:
    """Publish a version (default: head). Refused with the problems while it is incomplete."""
    info = versions.publish(
        db, actor, project, workflow, version=body.version, tag=body.tag, note=body.note
    )
    return VersionOut.of(info)


@router.get("/versions/{number}", name="get_version", response_model=VersionDetailOut)
def get_version(
    project: str, workflow: str, number: PathNumber, db: DatabaseDep, actor: CurrentActor
) -> Response:
    """One version with its definition."""
    version = versions.get_version(db, actor, project, workflow, number)
    fields = VersionOut.of(version.info).model_dump(mode="json")
    fields["problems"] = [problem.as_dict() for problem in cap_problems(version.problems)]
    return raw_json(fields, {"definition": version.definition})


@router.post(
    "/versions/{number}/revert", name="revert_to_version", response_model=WorkflowDetailOut
)
def revert_to_version(
    project: str,
    workflow: str,
    number: PathNumber,
    db: DatabaseDep,
    actor: CurrentActor,
    publish: bool = False,
) -> Response:
    """A new head version equal to version ``number``; ``?publish=true`` publishes it too."""
    return detail_response(versions.revert(db, actor, project, workflow, number, publish=publish))


@router.get("/schedule", name="get_schedule", response_model=SchedulesOut)
@blocking
def get_schedule(
    project: str,
    workflow: str,
    db: DatabaseDep,
    actor: CurrentActor,
    count: Annotated[int, Query(ge=1, le=50, description="How many fire times.")] = 5,
) -> SchedulesOut:
    """The workflow's schedule triggers (of its live version: alias `production`,
    else the published version) and their next fire times; empty when none."""
    views = schedules.describe(db, actor, project, workflow, count=count)
    return SchedulesOut(items=[ScheduleOut(**view.as_json()) for view in views])


@router.get("/aliases", name="list_aliases")
@blocking
def list_aliases(
    project: str, workflow: str, db: DatabaseDep, actor: CurrentActor
) -> list[AliasOut]:
    return [AliasOut.of(alias) for alias in versions.list_aliases(db, actor, project, workflow)]


@router.put("/aliases/{name}", name="set_alias", openapi_extra=openapi_body(AliasBody))
@blocking
def set_alias(
    project: str,
    workflow: str,
    name: str,
    actor: CurrentActor,
    body: Annotated[AliasBody, Depends(json_body(AliasBody, role=Role.ADMIN))],
    db: DatabaseDep,
) -> AliasOut:
    """Point an alias (e.g. ``production``) at a published version (admin),
    optionally with a weighted canary; the body replaces the alias."""
    canary = versions.Canary(body.canary.version, body.canary.weight) if body.canary else None
    return AliasOut.of(versions.set_alias(db, actor, project, workflow, name, body.version, canary))


@router.delete("/aliases/{name}", name="delete_alias", status_code=204)
def delete_alias(
    project: str, workflow: str, name: str, db: DatabaseDep, actor: CurrentActor
) -> Response:
    """Remove an alias (admin); the version it pointed at is unchanged."""
    versions.delete_alias(db, actor, project, workflow, name)
    return Response(status_code=204)
