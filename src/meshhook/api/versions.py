"""Versions of a workflow: history, one version, publish, revert, compare, aliases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from meshhook.api.bodies import json_body, model_json, openapi_body, raw_json
from meshhook.api.deps import DEFAULT_PAGE, CurrentActor, Cursor, DatabaseDep, Limit
from meshhook.api.models import Page, RequestBody
from meshhook.api.workflows import ProblemOut, WorkflowDetailOut, detail_response
from meshhook.domain.accounts import Role
from meshhook.domain.limits import cap_problems
from meshhook.domain.workflows import Alias, VersionInfo
from meshhook.services import versions

router = APIRouter(prefix="/api/v1/projects/{project}/workflows/{workflow}", tags=["versions"])


class VersionOut(BaseModel):
    """A version in the history: metadata only. Its problems come with the
    version itself (``GET .../versions/{n}``), not with every list entry."""

    number: int
    state: str
    created_at: datetime
    created_by: str
    message: str
    content_hash: str
    parent_number: int | None
    published_at: datetime | None
    published_by: str | None
    tag: str | None
    note: str | None

    @classmethod
    def of(cls, info: VersionInfo) -> VersionOut:
        return cls(
            number=info.number,
            state=info.state.value,
            created_at=info.created_at,
            created_by=info.created_by,
            message=info.message,
            content_hash=info.content_hash,
            parent_number=info.parent_number,
            published_at=info.published_at,
            published_by=info.published_by,
            tag=info.tag,
            note=info.note,
        )


class VersionDetailOut(VersionOut):
    problems: list[ProblemOut] = Field(
        description="Completeness problems, at most 200; a final `problems.truncated` "
        "problem counts the rest."
    )
    definition: dict[str, Any]


class PublishBody(RequestBody):
    version: int | None = Field(
        default=None, ge=1, le=2_147_483_647, description="Default: the head."
    )
    tag: str | None = Field(default=None, max_length=64, description="e.g. v1.2.0")
    note: str | None = Field(default=None, max_length=2_000)


class AliasBody(RequestBody):
    version: int = Field(ge=1, le=2_147_483_647)


class AliasOut(BaseModel):
    name: str
    version: int
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, alias: Alias) -> AliasOut:
        return cls(
            name=alias.name,
            version=alias.version,
            updated_at=alias.updated_at,
            updated_by=alias.updated_by,
        )


# Version numbers are 32-bit in the database; a larger one is a 422, not a 500.
MAX_VERSION = 2_147_483_647
Number = Annotated[int, Query(ge=1, le=MAX_VERSION)]
PathNumber = Annotated[int, Path(ge=1, le=MAX_VERSION)]


@router.get("/versions", name="list_versions", response_model=Page[VersionOut])
def list_versions(
    project: str,
    workflow: str,
    db: DatabaseDep,
    actor: CurrentActor,
    cursor: Cursor,
    limit: Limit = DEFAULT_PAGE,
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


@router.get("/aliases", name="list_aliases")
def list_aliases(
    project: str, workflow: str, db: DatabaseDep, actor: CurrentActor
) -> list[AliasOut]:
    return [AliasOut.of(alias) for alias in versions.list_aliases(db, actor, project, workflow)]


@router.put("/aliases/{name}", name="set_alias", openapi_extra=openapi_body(AliasBody))
def set_alias(
    project: str,
    workflow: str,
    name: str,
    actor: CurrentActor,
    body: Annotated[AliasBody, Depends(json_body(AliasBody, role=Role.ADMIN))],
    db: DatabaseDep,
) -> AliasOut:
    """Point an alias (e.g. ``production``) at a published version (admin)."""
    return AliasOut.of(versions.set_alias(db, actor, project, workflow, name, body.version))


@router.delete("/aliases/{name}", name="delete_alias", status_code=204)
def delete_alias(
    project: str, workflow: str, name: str, db: DatabaseDep, actor: CurrentActor
) -> Response:
    """Remove an alias (admin); the version it pointed at is unchanged."""
    versions.delete_alias(db, actor, project, workflow, name)
    return Response(status_code=204)
