"""Typed FastAPI dependencies: the database, the settings, the acting user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.errors import Forbidden, Unauthorized
from meshhook.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT
from meshhook.security.tokens import csrf_token_for, same_secret
from meshhook.services import accounts
from meshhook.services.transactions import check_role
from meshhook.settings import Settings
from meshhook.store.db import Database

SESSION_COOKIE = "meshhook_session"
CSRF_COOKIE = "meshhook_csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_actor(request: Request, db: DatabaseDep) -> Actor:
    """The caller, from ``Authorization: Bearer`` or the UI session cookie.

    Cookie-authenticated writes must echo the session's CSRF token in
    ``X-CSRF-Token``: a cross-site form can send the cookie, never the header.
    """
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use the header Authorization: Bearer <token>")
        return accounts.authenticate(db, value.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise Unauthorized("sign in, or send Authorization: Bearer <token>")
    actor = accounts.authenticate(db, cookie)
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not same_secret(sent, csrf_token_for(cookie)):
            raise Forbidden("missing or wrong X-CSRF-Token header for a cookie-authenticated write")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def project_role(minimum: Role) -> Callable[[str, Actor, Database], Actor]:
    """A dependency: the caller, once their role in ``{project}`` is at least
    ``minimum`` (404 for a non-member, 403 below it).

    Body-reading dependencies depend on this, so the check runs before the body
    is read; the service checks again inside its own transaction.
    """

    def check(project: str, actor: CurrentActor, db: DatabaseDep) -> Actor:
        check_role(db, actor, project, minimum)
        return actor

    return check


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Cursor = Annotated[str | None, Query(description="next_cursor from the previous page.")]
DEFAULT_PAGE = DEFAULT_LIMIT
