"""The definition format: node types, validation without saving, templates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from meshhook.api.bodies import body_is_small, openapi_body, parse_model
from meshhook.api.deps import CurrentActor, DatabaseDep, checks_role_first
from meshhook.api.schemas.definitions import (
    TemplateOut,
    ValidateBody,
    ValidationOut,
)
from meshhook.api.threads import blocking
from meshhook.domain.accounts import Role
from meshhook.domain.node_types import node_types_as_json
from meshhook.services import definitions, workflows
from meshhook.services.templates import builtin_templates
from meshhook.services.transactions import check_role

router = APIRouter(prefix="/api/v1", tags=["definitions"])


@router.get("/node-types", name="list_node_types")
async def list_node_types(_actor: CurrentActor) -> list[dict[str, Any]]:
    """Every node type with its config JSON Schema, sensitive fields and arity."""
    return node_types_as_json()


@router.post(
    "/projects/{project}/validate",
    name="validate_definition",
    response_model=ValidationOut,
    openapi_extra=openapi_body(ValidateBody),
)
@checks_role_first
async def validate_definition(
    project: str, request: Request, actor: CurrentActor, db: DatabaseDep
) -> ValidationOut:
    """``{valid, errors, warnings}`` for a definition, without saving anything."""
    # The editor sends this after each edit. A small body is taken as it
    # arrived and parsed inside the check's one transaction, once token and
    # role are checked there (as the definition PATCH does); a larger one is
    # read only after a role check of its own.
    if not body_is_small(request):
        await run_in_threadpool(check_role, db, actor, project, Role.VIEWER)
    raw = await request.body()

    def submitted() -> Any:
        return parse_model(ValidateBody, raw).definition

    report = await run_in_threadpool(definitions.check, db, actor, project, submitted)
    return ValidationOut.model_validate(report.as_dict())


@router.get("/templates", name="list_templates")
@blocking
def list_templates(db: DatabaseDep, actor: CurrentActor) -> list[TemplateOut]:
    """Built-in templates and the template workflows of the caller's projects."""
    builtins = [
        TemplateOut(
            key=template.key,
            name=template.name,
            description=template.description,
            tags=list(template.tags),
            builtin=True,
        )
        for template in builtin_templates().values()
    ]
    own = [
        TemplateOut(
            id=str(workflow.id),
            key=workflow.key,
            project=project,
            name=workflow.name,
            description=workflow.description,
            tags=list(workflow.tags),
            builtin=False,
        )
        for project, workflow in workflows.list_templates(db, actor)
    ]
    return builtins + own
