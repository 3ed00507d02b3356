"""Projects and their members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from meshhook.api.bodies import json_body, openapi_body
from meshhook.api.deps import CurrentActor, DatabaseDep
from meshhook.api.schemas.projects import (
    MemberBody,
    MemberOut,
    NewProjectBody,
    ProjectOut,
)
from meshhook.api.threads import blocking
from meshhook.domain.accounts import Role
from meshhook.services import projects

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])


@router.get("", name="list_projects")
@blocking
def list_projects(db: DatabaseDep, actor: CurrentActor) -> list[ProjectOut]:
    """The projects the caller is a member of."""
    return [ProjectOut.of(project, role) for project, role in projects.list_projects(db, actor)]


@router.post("", name="create_project", status_code=201, openapi_extra=openapi_body(NewProjectBody))
@blocking
def create_project(
    actor: CurrentActor,
    body: Annotated[NewProjectBody, Depends(json_body(NewProjectBody))],
    response: Response,
    db: DatabaseDep,
) -> ProjectOut:
    """Create a project; the caller becomes its owner."""
    project = projects.create_project(db, actor, body.key, body.name)
    response.headers["Location"] = f"/api/v1/projects/{project.key}"
    return ProjectOut.of(project, Role.OWNER)


@router.get("/{project}", name="get_project")
@blocking
def get_project(project: str, db: DatabaseDep, actor: CurrentActor) -> ProjectOut:
    found, role = projects.get_project(db, actor, project)
    return ProjectOut.of(found, role)


@router.get("/{project}/members", name="list_members")
@blocking
def list_members(project: str, db: DatabaseDep, actor: CurrentActor) -> list[MemberOut]:
    return [MemberOut.of(member) for member in projects.list_members(db, actor, project)]


@router.put("/{project}/members/{email}", name="set_member", openapi_extra=openapi_body(MemberBody))
@blocking
def set_member(
    project: str,
    email: str,
    actor: CurrentActor,
    body: Annotated[MemberBody, Depends(json_body(MemberBody, role=Role.OWNER))],
    db: DatabaseDep,
) -> MemberOut:
    """Add a member or change their role (owner).

    The answer is the same whether or not the email has an account; an email
    without one gets a pending account that ``meshhook users create`` claims.
    """
    return MemberOut.of(projects.set_member(db, actor, project, email, body.role))


@router.delete("/{project}/members/me", name="leave_project", status_code=204)
def leave_project(project: str, db: DatabaseDep, actor: CurrentActor) -> Response:
    """Leave the project (any role); the last owner cannot leave (409)."""
    projects.leave_project(db, actor, project)
    return Response(status_code=204)


@router.delete("/{project}/members/{email}", name="remove_member", status_code=204)
def remove_member(project: str, email: str, db: DatabaseDep, actor: CurrentActor) -> Response:
    """Remove a member (owner); the last owner cannot be removed."""
    projects.remove_member(db, actor, project, email)
    return Response(status_code=204)
