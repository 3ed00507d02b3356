"""Sign-in for the UI (session cookie + CSRF token), the caller, their tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from meshhook.api.bodies import json_body, openapi_body
from meshhook.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentActor,
    DatabaseDep,
    SettingsDep,
)
from meshhook.api.schemas.auth import (
    LoginBody,
    LoginOut,
    MeOut,
    NewTokenBody,
    NewTokenOut,
    ProjectRef,
    SessionOut,
    TokenOut,
)
from meshhook.api.threads import blocking
from meshhook.security.tokens import csrf_token_for
from meshhook.services import accounts, logins, sessions

router = APIRouter(prefix="/api/v1", tags=["auth"])


def _me(db: DatabaseDep, actor: CurrentActor) -> MeOut:
    found = accounts.me(db, actor)
    user = found.user
    return MeOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        is_admin=user.is_admin,
        projects=[
            ProjectRef(key=project.key, name=project.name, role=role.value)
            for project, role in found.memberships
        ],
    )


@router.post(
    "/auth/login",
    name="login",
    openapi_extra=openapi_body(LoginBody),
    responses={
        401: {"description": "Wrong email or password (the same answer for unknown emails)."},
        429: {"description": "Too many attempts for this account or address; see Retry-After."},
        503: {"description": "Too many sign-ins being checked at once; see Retry-After."},
    },
)
@blocking
def login(
    body: Annotated[LoginBody, Depends(json_body(LoginBody))],
    request: Request,
    response: Response,
    db: DatabaseDep,
    settings: SettingsDep,
) -> LoginOut:
    """Check email and password; set an HttpOnly session cookie and return the CSRF token.

    Failed attempts back off per account and per client address (429 with
    ``Retry-After``); see docs/security.md, "Accounts and login".
    """
    lifetime = timedelta(days=settings.session_days)
    limits: logins.LoginLimits = request.app.state.login_limits
    address = request.client.host if request.client else "unknown"
    issued = logins.login(db, limits, body.email, body.password, address=address, lifetime=lifetime)
    csrf = csrf_token_for(issued.value)
    max_age = int(lifetime.total_seconds())
    response.set_cookie(
        SESSION_COOKIE,
        issued.value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=settings.cookies_secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=settings.cookies_secure,
        path="/",
    )
    actor = accounts.authenticate(db, issued.value)
    return LoginOut(csrf_token=csrf, expires_at=issued.token.expires_at, user=_me(db, actor))


@router.post("/auth/logout", name="logout", status_code=204)
def logout(request: Request, db: DatabaseDep, actor: CurrentActor) -> Response:
    """End the UI session (for a bearer token this does nothing)."""
    if request.cookies.get(SESSION_COOKIE) and "authorization" not in request.headers:
        accounts.logout(db, actor)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me", name="get_me")
@blocking
def get_me(db: DatabaseDep, actor: CurrentActor) -> MeOut:
    """The caller and the projects they belong to."""
    return _me(db, actor)


@router.get("/me/tokens", name="list_my_tokens")
@blocking
def list_my_tokens(db: DatabaseDep, actor: CurrentActor) -> list[TokenOut]:
    return [TokenOut.of(token) for token in accounts.list_tokens(db, actor)]


@router.post(
    "/me/tokens",
    name="create_my_token",
    status_code=201,
    openapi_extra=openapi_body(NewTokenBody),
)
@blocking
def create_my_token(
    actor: CurrentActor,
    body: Annotated[NewTokenBody, Depends(json_body(NewTokenBody))],
    db: DatabaseDep,
) -> NewTokenOut:
    """A new API token for the caller; its value is in this response only."""
    issued = accounts.create_token(
        db, actor, actor.label, name=body.name, expires_in_days=body.expires_in_days
    )
    return NewTokenOut(**TokenOut.of(issued.token).model_dump(), token=issued.value)


@router.delete("/me/tokens/{token_id}", name="revoke_my_token", status_code=204)
def revoke_my_token(token_id: UUID, db: DatabaseDep, actor: CurrentActor) -> Response:
    accounts.revoke_token(db, actor, token_id)
    return Response(status_code=204)


@router.get("/me/sessions", name="list_my_sessions")
@blocking
def list_my_sessions(db: DatabaseDep, actor: CurrentActor) -> list[SessionOut]:
    """The caller's UI sessions that are still valid, newest first."""
    return [
        SessionOut(
            id=item.id,
            created_at=item.created_at,
            expires_at=item.expires_at,
            last_used_at=item.last_used_at,
            current=item.id == actor.token_id,
        )
        for item in sessions.list_sessions(db, actor)
    ]


@router.delete("/me/sessions", name="revoke_my_other_sessions", status_code=204)
def revoke_my_other_sessions(db: DatabaseDep, actor: CurrentActor) -> Response:
    """Sign out everywhere else: every session but the one making this request."""
    sessions.revoke_other_sessions(db, actor)
    return Response(status_code=204)


@router.delete("/me/sessions/{session_id}", name="revoke_my_session", status_code=204)
def revoke_my_session(session_id: UUID, db: DatabaseDep, actor: CurrentActor) -> Response:
    """End one of the caller's sessions; it is refused (401) from the next request on."""
    sessions.revoke_session(db, actor, session_id)
    return Response(status_code=204)
