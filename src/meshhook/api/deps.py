"""Typed FastAPI dependencies: the database, the settings, the acting user."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.errors import Forbidden, Unauthorized
from meshhook.domain.limits import MAX_PAGE_SIZE
from meshhook.domain.pagination import sign_cursor, unsign_cursor
from meshhook.security.tokens import csrf_token_for, same_secret
from meshhook.services import accounts
from meshhook.services.keys import KeyProvider
from meshhook.services.transactions import check_role
from meshhook.settings import Settings
from meshhook.store.db import Database

SESSION_COOKIE = "meshhook_session"
CSRF_COOKIE = "meshhook_csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


# The small dependencies are ``async``: FastAPI runs a plain ``def`` dependency
# in the thread pool, a hop per request that costs more than their work.
async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def current_actor(request: Request, db: DatabaseDep) -> AsyncIterator[Actor]:
    """The caller, from ``Authorization: Bearer`` or the UI session cookie.

    Cookie-authenticated writes must echo the session's CSRF token in
    ``X-CSRF-Token``: a cross-site form can send the cookie, never the header.

    A write checks the token here, first, unless the route checks the caller's
    role in ``{project}`` before reading the body
    (:func:`project_role`): that check then verifies the token in its own
    transaction, one thread hop and one transaction fewer, and still before a
    byte of the body is read or the endpoint runs. A read (GET, HEAD, OPTIONS)
    gets a :class:`~meshhook.services.credentials.PendingActor`, checked inside
    the transaction that answers it, so it costs one transaction, not two. The
    answers stay those of an eager check: an endpoint that never used the actor
    has it checked when it returns, and any error raised before it was checked
    (a 422 for a query parameter, a 404) gives way to the 401 of a refused token.

    A session cookie's write is treated as a bearer token's once its CSRF header
    matches: that header is derived from the cookie alone
    (:func:`~meshhook.security.tokens.csrf_token_for`), so matching it needs no
    query. A missing or wrong header checks the session at once, so a refused
    session still answers 401 before the header's 403.
    """
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use the header Authorization: Bearer <token>")
        value = value.strip()
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie is None:
            raise Unauthorized("sign in, or send Authorization: Bearer <token>")
        value = cookie
    if request.method not in _SAFE_METHODS:
        if header is None and not same_secret(
            request.headers.get(CSRF_HEADER, ""), csrf_token_for(value)
        ):
            # The session first: a refused one is 401 whatever the header says.
            await run_in_threadpool(accounts.authenticate, db, value)
            raise Forbidden("missing or wrong X-CSRF-Token header for a cookie-authenticated write")
        if not _checks_role(request):
            yield await run_in_threadpool(accounts.authenticate, db, value)
            return
    pending = accounts.pending(db, value)
    try:
        yield pending
    except Unauthorized:
        raise
    except Exception:
        if not pending.checked:
            await run_in_threadpool(pending.resolve)  # a refused token answers 401 instead
        raise
    if not pending.checked:
        await run_in_threadpool(pending.resolve)
    pending.resolve()  # raises Unauthorized for a refused token


# ``scope="function"``: the check after ``yield`` runs before the response is
# sent, so it can still turn it into a 401.
CurrentActor = Annotated[Actor, Depends(current_actor, scope="function")]


def project_role(minimum: Role) -> Callable[[str, Actor, Database], Actor]:
    """A dependency: the caller, once their role in ``{project}`` is at least
    ``minimum`` (404 for a non-member, 403 below it).

    Body-reading dependencies depend on this, so the check runs before the body
    is read; the service checks again inside its own transaction. A bearer
    token of a write on such a route is verified here, in the same transaction
    (see :func:`current_actor`): use this only as a dependency of the route's
    body reader, never after something that reads the body or acts.
    """

    def check(project: str, actor: CurrentActor, db: DatabaseDep) -> Actor:
        check_role(db, actor, project, minimum)  # verifies a pending actor's token first
        return actor

    setattr(check, _ROLE_CHECK, True)
    return check


_ROLE_CHECK = "meshhook_checks_role"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def checks_role_first(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint whose first transaction checks the caller's role in
    ``{project}`` before it parses the body or acts (a bearer token of a write
    is then verified there too, as under :func:`project_role`)."""
    setattr(endpoint, _ROLE_CHECK, True)
    return endpoint


def _checks_role(request: Request) -> bool:
    """Whether the matched route checks the caller's role (and so the token)
    before its body is parsed; worked out once per route and kept on it."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return False
    known: bool | None = getattr(route, _ROLE_CHECK, None)
    if known is None:
        endpoint = getattr(route, "endpoint", None)
        known = bool(getattr(endpoint, _ROLE_CHECK, False)) or _has_role_check(dependant)
        setattr(route, _ROLE_CHECK, known)
    return known


def _has_role_check(dependant: Any) -> bool:
    return any(
        getattr(sub.call, _ROLE_CHECK, False) or _has_role_check(sub)
        for sub in dependant.dependencies
    )


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")]
# Page cursors are signed with a key derived from the master key: every
# process of an installation shares it (it must, to read secrets), so a cursor
# from one API process is good on another; cursors from before a rotation
# stay good while the old key is still in the keyring.
_CURSOR_KEY_PURPOSE = b"meshhook page cursor v1"


def _cursor_keys(request: Request) -> list[bytes]:
    provider: KeyProvider = request.app.state.keys
    return cursor_keys(provider)


def cursor_keys(provider: KeyProvider) -> list[bytes]:
    """The keys page cursors are signed with (the first) and accepted under."""
    keyring = provider.keyring
    return [
        hmac.new(key.material, _CURSOR_KEY_PURPOSE, hashlib.sha256).digest()
        for key in (keyring.active, *keyring.others)
    ]


@dataclass(frozen=True, slots=True)
class PageCursor:
    """The ``cursor`` query parameter, checked: ``value`` is what the service
    issued (``None`` on a first page); :meth:`next` signs the next one."""

    value: str | None
    key: bytes

    def next(self, cursor: str | None) -> str | None:
        return sign_cursor(cursor, self.key) if cursor else None


def page_cursor(
    request: Request,
    cursor: Annotated[str | None, Query(description="next_cursor from the previous page.")] = None,
) -> PageCursor:
    """400 for any cursor this server did not sign (forged, edited, truncated)."""
    keys = _cursor_keys(request)
    return PageCursor(unsign_cursor(cursor, keys) if cursor is not None else None, keys[0])


Cursor = Annotated[PageCursor, Depends(page_cursor)]
