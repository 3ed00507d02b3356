"""Workflows: create, list, read, save, edit metadata, delete, restore, clone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from meshhook.api.bodies import (
    JSON_PATCH,
    body_is_small,
    check_json_patch_type,
    json_body,
    model_json,
    openapi_body,
    parse_json_patch,
    raw_json,
)
from meshhook.api.deps import CurrentActor, Cursor, DatabaseDep, Limit, checks_role_first
from meshhook.api.schemas.common import Page
from meshhook.api.schemas.workflows import (
    CloneBody,
    CreateBody,
    PatchBody,
    RestoreBody,
    SaveBody,
    WorkflowDetailOut,
    WorkflowOut,
    WorkflowSavedOut,
)
from meshhook.domain.accounts import Role
from meshhook.domain.errors import BadRequest, PreconditionRequired
from meshhook.domain.limits import (
    DEFAULT_PAGE_SIZE,
    MAX_SEARCH_LENGTH,
    MAX_TAG_LENGTH,
    cap_problems,
)
from meshhook.domain.workflows import WorkflowFilter
from meshhook.services import versions, workflows
from meshhook.services.transactions import check_role
from meshhook.services.workflows import NewWorkflow, WorkflowDetail

router = APIRouter(prefix="/api/v1/projects/{project}/workflows", tags=["workflows"])


async def restore_body(request: Request) -> RestoreBody:
    """The restore body is optional: no body restores under the old key."""
    if not (await request.body()).strip():
        return RestoreBody()
    return await json_body(RestoreBody)(request)


def detail_response(
    found: WorkflowDetail, *, status_code: int = 200, project: str = "", minimal: bool = False
) -> Response:
    """The workflow with its head definition; ``ETag`` is the head version.

    ``minimal`` (a save that asked ``Prefer: return=minimal``): without the
    definition, unless the save was merged (the caller cannot know the result
    then); ``Preference-Applied`` says when it was left out."""
    fields = WorkflowOut.of(found.workflow).model_dump(mode="json")
    fields["content_hash"] = found.head.content_hash
    fields["problems"] = [problem.as_dict() for problem in cap_problems(found.problems)]
    fields["merged"] = found.merged
    headers = {"ETag": f'"{found.workflow.head_version}"'}
    if status_code == 201:
        headers["Location"] = f"/api/v1/projects/{project}/workflows/{found.workflow.id}"
    if minimal and not found.merged:
        headers["Preference-Applied"] = RETURN_MINIMAL
        return raw_json(fields, {}, status_code=status_code, headers=headers)
    return raw_json(
        fields, {"definition": found.definition}, status_code=status_code, headers=headers
    )


RETURN_MINIMAL = "return=minimal"
PreferHeader = Annotated[
    str | None,
    Header(
        description="RFC 7240. `return=minimal`: answer without the saved definition"
        " (sent again only when the save was merged)."
    ),
]


def wants_minimal(prefer: str | None) -> bool:
    """Whether a ``Prefer`` header (RFC 7240) asks for ``return=minimal``."""
    if not prefer:
        return False
    for preference in prefer.split(","):
        name, _, value = preference.split(";", 1)[0].partition("=")
        if name.strip().lower() == "return" and value.strip().strip('"').lower() == "minimal":
            return True
    return False


def parse_if_match(value: str | None) -> int:
    """``If-Match: "3"`` → 3. Required on saves: 428 without it."""
    if value is None:
        raise PreconditionRequired(
            'a save must send If-Match: "<version it is based on>" (the ETag of the read)'
        )
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        raise BadRequest(
            f"If-Match must name one version number, like \"3\" (got {value!r}); '*' is refused"
            " because it would overwrite changes you have not seen"
        )
    return int(text)


@router.post(
    "",
    name="create_workflow",
    status_code=201,
    response_model=WorkflowDetailOut,
    openapi_extra=openapi_body(CreateBody),
)
def create_workflow(
    project: str,
    actor: CurrentActor,
    body: Annotated[CreateBody, Depends(json_body(CreateBody, role=Role.EDITOR))],
    db: DatabaseDep,
) -> Response:
    """Create a workflow from a definition or a template; its first version is 1."""
    new = NewWorkflow(
        name=body.name,
        key=body.key,
        description=body.description,
        tags=tuple(body.tags),
        is_template=body.is_template,
    )
    created = workflows.create(
        db, actor, project, new, definition=body.definition, template=body.template
    )
    return detail_response(created, status_code=201, project=project)


@router.get("", name="list_workflows", response_model=Page[WorkflowOut])
def list_workflows(
    project: str,
    db: DatabaseDep,
    actor: CurrentActor,
    cursor: Cursor,
    q: Annotated[
        str | None,
        Query(max_length=MAX_SEARCH_LENGTH, description="Search name, description, key."),
    ] = None,
    tag: Annotated[str | None, Query(max_length=MAX_TAG_LENGTH)] = None,
    is_template: bool | None = None,
    published: bool | None = None,
    deleted: Annotated[bool, Query(description="true lists the trash.")] = False,
    sort: Annotated[
        str,
        Query(pattern=r"^-?(name|updated_at|created_at)$", description="e.g. name, -updated_at"),
    ] = workflows.DEFAULT_SORT,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> Response:
    """Workflow metadata (no definitions), filtered, sorted, keyset-paginated."""
    filters = WorkflowFilter(
        q=q, tag=tag, is_template=is_template, published=published, deleted=deleted
    )
    rows, next_cursor = workflows.list_workflows(
        db, actor, project, filters, sort=sort, limit=limit, cursor=cursor.value
    )
    return model_json(
        Page[WorkflowOut](
            items=[WorkflowOut.of(row) for row in rows], next_cursor=cursor.next(next_cursor)
        )
    )


@router.get("/{workflow}", name="get_workflow", response_model=WorkflowDetailOut)
def get_workflow(project: str, workflow: str, db: DatabaseDep, actor: CurrentActor) -> Response:
    """The workflow and its head definition; ETag is the head version number."""
    return detail_response(workflows.get(db, actor, project, workflow))


@router.put(
    "/{workflow}",
    name="save_workflow",
    response_model=WorkflowSavedOut,
    openapi_extra=openapi_body(SaveBody),
)
def save_workflow(
    project: str,
    workflow: str,
    actor: CurrentActor,
    body: Annotated[SaveBody, Depends(json_body(SaveBody, role=Role.EDITOR))],
    db: DatabaseDep,
    if_match: Annotated[str | None, Header(description='"<base version>"')] = None,
    prefer: PreferHeader = None,
) -> Response:
    """Save a new version; a stale If-Match is merged or refused with the conflicts.
    With ``Prefer: return=minimal`` the answer leaves the definition out (see
    ``definition``)."""
    saved = versions.save(
        db,
        actor,
        project,
        workflow,
        body.definition,
        base_version=parse_if_match(if_match),
        message=body.message,
        fresh=True,  # parsed from this request's body, nobody else holds it
    )
    return detail_response(saved, minimal=wants_minimal(prefer))


_PATCH_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            JSON_PATCH: {
                "schema": {
                    "type": "array",
                    "description": "RFC 6902 operations on the base version's definition",
                    "items": {
                        "type": "object",
                        "required": ["op", "path"],
                        "properties": {
                            "op": {
                                "type": "string",
                                "enum": ["add", "remove", "replace", "move", "copy", "test"],
                            },
                            "path": {"type": "string", "description": "JSON Pointer"},
                            "from": {"type": "string", "description": "JSON Pointer"},
                            "value": {},
                        },
                    },
                }
            }
        },
    }
}


@router.patch(
    "/{workflow}/definition",
    name="patch_workflow_definition",
    response_model=WorkflowSavedOut,
    openapi_extra=_PATCH_OPENAPI,
)
@checks_role_first
async def patch_workflow_definition(
    project: str,
    workflow: str,
    request: Request,
    actor: CurrentActor,
    db: DatabaseDep,
    if_match: Annotated[str | None, Header(description='"<base version>"')] = None,
    message: Annotated[str, Query(description="The version's message")] = "",
    prefer: PreferHeader = None,
) -> Response:
    """Save a new version from an RFC 6902 JSON Patch (``application/json-patch+json``)
    applied to the If-Match version's definition; then exactly as a PUT (a stale
    base is merged or refused with the conflicts). A patch that does not apply is
    422 with pointers into the patch (``/3``: its fourth operation). With
    ``Prefer: return=minimal`` the answer leaves the definition out."""
    # The answers come in the order of every write: 401, the role (404, 403),
    # then the body (415, 400, 422), If-Match (428), the save. A small patch is
    # taken as it arrived and parsed in the save's own transaction once the role
    # is checked there: one transaction and one thread hop. A larger one is read
    # only after a role check of its own.
    small = body_is_small(request)
    if not small:
        await run_in_threadpool(check_role, db, actor, project, Role.EDITOR)
        check_json_patch_type(request)
    raw = await request.body()

    def edit() -> versions.PatchRequest:
        if small:
            check_json_patch_type(request)
        patch = parse_json_patch(raw)
        return versions.PatchRequest(patch, parse_if_match(if_match), message)

    def save() -> Response:
        saved = versions.save_patch(db, actor, project, workflow, edit)
        return detail_response(saved, minimal=wants_minimal(prefer))

    return await run_in_threadpool(save)


@router.patch(
    "/{workflow}",
    name="update_workflow",
    response_model=WorkflowDetailOut,
    openapi_extra=openapi_body(PatchBody),
)
def update_workflow(
    project: str,
    workflow: str,
    actor: CurrentActor,
    body: Annotated[PatchBody, Depends(json_body(PatchBody, role=Role.EDITOR))],
    db: DatabaseDep,
) -> Response:
    """Change metadata only: key, name, description, tags, is_template."""
    # null means "leave as it is", like an absent field.
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return detail_response(workflows.update_metadata(db, actor, project, workflow, changes))


@router.delete("/{workflow}", name="delete_workflow", status_code=204)
def delete_workflow(project: str, workflow: str, db: DatabaseDep, actor: CurrentActor) -> Response:
    """Move to the trash (restorable by id)."""
    workflows.delete(db, actor, project, workflow)
    return Response(status_code=204)


@router.post(
    "/{workflow}/restore",
    name="restore_workflow",
    response_model=WorkflowDetailOut,
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": RestoreBody.model_json_schema()}},
        }
    },
)
def restore_workflow(
    project: str,
    workflow: str,
    db: DatabaseDep,
    actor: CurrentActor,
    body: Annotated[RestoreBody, Depends(restore_body)],
) -> Response:
    """Bring a deleted workflow back (by id), optionally under a new key."""
    return detail_response(workflows.restore(db, actor, project, workflow, body.key))


@router.post(
    "/{workflow}/clone",
    name="clone_workflow",
    status_code=201,
    response_model=WorkflowDetailOut,
    openapi_extra=openapi_body(CloneBody),
)
def clone_workflow(
    project: str,
    workflow: str,
    actor: CurrentActor,
    body: Annotated[CloneBody, Depends(json_body(CloneBody, role=Role.EDITOR))],
    db: DatabaseDep,
) -> Response:
    """A new workflow whose version 1 is this workflow's head."""
    cloned = workflows.clone(
        db, actor, project, workflow, NewWorkflow(name=body.name, key=body.key)
    )
    return detail_response(cloned, status_code=201, project=project)
