"""Checking a bearer token or session cookie, and the actor that checks it late.

:func:`verify` is the one check (well-formed, known by its hash, user neither
disabled nor pending, token neither revoked nor expired); it runs inside the
caller's transaction. :class:`PendingActor` is a credential not yet checked:
the API hands one to a read, and :func:`~meshhook.services.transactions.transaction`
checks it inside the read's own transaction, so a GET is one transaction, not
one to authenticate and another to answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.orm import Session

from meshhook.domain.accounts import Actor
from meshhook.domain.errors import Unauthorized
from meshhook.security import tokens as token_codec
from meshhook.store import tokens as token_store

# Writing last_used_at on every request would turn each read into a write;
# minute precision is plenty for "last used".
LAST_USED_PRECISION = timedelta(minutes=1)


def check_form(value: str) -> None:
    """401 for a value that cannot be a token (checked before any query)."""
    if not token_codec.looks_like_token(value):
        raise Unauthorized("the token is malformed")


def verify(
    session: Session, value: str, now: datetime, *, enter_as: str | None = None
) -> tuple[Actor, bool]:
    """The actor ``value`` stands for, or ``Unauthorized``; and whether its
    ``last_used_at`` is due an update (at most once per
    :data:`LAST_USED_PRECISION`), which the caller writes. The lookup also names
    the user as the transaction's acting user (the memberships' row-level
    security) and, with ``enter_as``, starts the transaction as that app role
    (see ``find_by_digest``); a refused token raises, so its transaction rolls
    back."""
    check_form(value)
    digest = token_codec.token_digest(value)
    found = token_store.find_by_digest(session, digest, name_user=True, enter_as=enter_as)
    if found is None:
        raise Unauthorized("the token is not valid")
    token, user = found
    if user.disabled_at is not None or user.pending:
        raise Unauthorized("the account is disabled")
    if token.revoked_at is not None:
        raise Unauthorized("the token was revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized("the token has expired")
    due = token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION
    actor = Actor(user_id=user.id, label=user.email, is_admin=user.is_admin, token_id=token.id)
    return actor, due


class PendingActor(Actor):
    """An actor whose token is checked on first use.

    Inside :func:`~meshhook.services.transactions.transaction` it is checked in
    that transaction (:meth:`verify_in`); reading any field before that checks it
    in a transaction of its own (``fallback``), so code that reads the actor
    first behaves as with an eager one. Once checked it answers from the result;
    a refused token raises ``Unauthorized`` at every use.
    """

    __slots__ = ("_actor", "_error", "_fallback", "_value")
    _actor: Actor | None
    _error: Unauthorized | None
    _fallback: Callable[[str], Actor]
    _value: str

    def __init__(self, value: str, fallback: Callable[[str], Actor]) -> None:
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "_fallback", fallback)
        object.__setattr__(self, "_actor", None)
        object.__setattr__(self, "_error", None)

    @property
    def checked(self) -> bool:
        """Whether the token was checked (accepted or refused)."""
        return self._actor is not None or self._error is not None

    def verify_in(
        self, session: Session, now: datetime, *, enter_as: str | None = None
    ) -> tuple[Actor, bool]:
        """Check the token inside ``session``'s transaction (see :func:`verify`);
        call only while :attr:`checked` is false (with ``enter_as`` the check is
        what scopes the transaction)."""
        if self._error is not None:
            raise self._error
        if self._actor is not None:
            return self._actor, False
        try:
            actor, due = verify(session, self._value, now, enter_as=enter_as)
        except Unauthorized as error:
            object.__setattr__(self, "_error", error)
            raise
        object.__setattr__(self, "_actor", actor)
        return actor, due

    def resolve(self) -> Actor:
        """The checked actor, checking the token in its own transaction if needed."""
        if self._error is not None:
            raise self._error
        actor = self._actor
        if actor is None:
            try:
                actor = self._fallback(self._value)
            except Unauthorized as error:
                object.__setattr__(self, "_error", error)
                raise
            object.__setattr__(self, "_actor", actor)
        return actor

    @property
    def user_id(self) -> UUID | None:
        return self.resolve().user_id

    @property
    def label(self) -> str:
        return self.resolve().label

    @property
    def is_admin(self) -> bool:
        return self.resolve().is_admin

    @property
    def token_id(self) -> UUID | None:
        return self.resolve().token_id
