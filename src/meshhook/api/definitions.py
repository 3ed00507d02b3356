"""The definition format: node types, validation without saving, templates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from meshhook.api.bodies import json_body, openapi_body
from meshhook.api.deps import CurrentActor, DatabaseDep
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
@blocking
def validate_definition(
    project: str,
    actor: CurrentActor,
    body: Annotated[ValidateBody, Depends(json_body(ValidateBody, role=Role.VIEWER))],
    db: DatabaseDep,
) -> ValidationOut:
    """``{valid, errors, warnings}`` for a definition, without saving anything."""
    return ValidationOut.model_validate(
        definitions.check(db, actor, project, body.definition).as_dict()
    )


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
