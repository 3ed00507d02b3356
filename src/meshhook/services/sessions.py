"""UI sessions: list and revoke your own, or (admin CLI) another user's.

A session is an ``api_tokens`` row of kind ``session`` (only its hash is
stored), so revoking one takes effect on the very next request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.orm import Session

from meshhook.domain.accounts import Actor, ApiToken, normalise_email
from meshhook.domain.errors import NotFound
from meshhook.services import audit
from meshhook.services.transactions import transaction
from meshhook.store import tokens as token_store
from meshhook.store import users as user_store
from meshhook.store.db import Database


def list_sessions(db: Database, actor: Actor) -> list[ApiToken]:
    """The caller's UI sessions that are still valid, newest first."""
    with transaction(db, actor, write=False) as session:
        assert actor.user_id is not None
        return token_store.list_sessions(session, actor.user_id, datetime.now(UTC))


def revoke_session(db: Database, actor: Actor, session_id: UUID) -> None:
    """End one of the caller's sessions (the current one too); twice is harmless."""
    with transaction(db, actor) as session:
        assert actor.user_id is not None
        found = token_store.get_for_user(session, actor.user_id, session_id)
        if found is None or found.kind != "session":
            raise NotFound(f"no session {session_id} among yours")
        if found.revoked_at is None:
            token_store.revoke(session, session_id, datetime.now(UTC))
            _audit(session, actor, actor.label, 1)


def revoke_other_sessions(db: Database, actor: Actor) -> int:
    """End every session of the caller except the one making the request."""
    with transaction(db, actor) as session:
        assert actor.user_id is not None
        count = token_store.revoke_sessions(
            session, actor.user_id, datetime.now(UTC), keep=actor.token_id
        )
        if count:
            _audit(session, actor, actor.label, count)
    return count


def list_user_sessions(db: Database, email: str) -> list[ApiToken]:
    """Another user's live sessions (admin CLI)."""
    with transaction(db, write=False) as session:
        user = user_store.get_by_email(session, normalise_email(email))
        if user is None or user.pending:
            raise NotFound(f"no user with email {email!r}")
        return token_store.list_sessions(session, user.id, datetime.now(UTC))


def revoke_user_sessions(
    db: Database, actor: Actor, email: str, session_id: UUID | None = None
) -> int:
    """End one (``session_id``) or all of a user's sessions (admin CLI)."""
    now = datetime.now(UTC)
    with transaction(db, actor) as session:
        user = user_store.get_by_email(session, normalise_email(email))
        if user is None or user.pending:
            raise NotFound(f"no user with email {email!r}")
        if session_id is None:
            count = token_store.revoke_sessions(session, user.id, now)
        else:
            found = token_store.get_for_user(session, user.id, session_id)
            if found is None or found.kind != "session":
                raise NotFound(f"no session {session_id} of {user.email}")
            count = 0 if found.revoked_at else 1
            token_store.revoke(session, session_id, now)
        if count:
            _audit(session, actor, user.email, count)
    return count


def _audit(session: Session, actor: Actor, email: str, count: int) -> None:
    audit.record(
        session,
        actor,
        "session.revoke",
        object_type="user",
        object_id=email,
        summary={"sessions": count},
    )
