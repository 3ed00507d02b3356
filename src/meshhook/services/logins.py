"""Signing in to the UI: throttled per account and per client address, with the
password check behind a bounded gate (``security.passwords.HashGate``).

The counters live in the database (``login_attempts``), so the back-off holds
across every API process on one PostgreSQL. An unknown email is throttled,
checked (against a dummy hash) and refused exactly like a wrong password: same
status, same body, about the same time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import structlog

from meshhook.domain import login_throttle as throttle
from meshhook.domain.accounts import Actor, normalise_email
from meshhook.domain.errors import (
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from meshhook.security import passwords
from meshhook.services import audit
from meshhook.services.accounts import IssuedToken, issue_token
from meshhook.services.transactions import transaction
from meshhook.settings import Settings
from meshhook.store import login_attempts as attempt_store
from meshhook.store import users as user_store
from meshhook.store.db import Database

log = structlog.get_logger("meshhook.security")

WRONG_CREDENTIALS = "the email or password is wrong"
# Nobody: lockouts happen before anyone is known.
_ANONYMOUS = Actor(user_id=None, label="anonymous")


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """The back-off for accounts and addresses, and the hashing gate."""

    account: throttle.ThrottlePolicy
    address: throttle.ThrottlePolicy
    gate: passwords.HashGate

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        def policy(free: int) -> throttle.ThrottlePolicy:
            return throttle.ThrottlePolicy(
                free_attempts=free,
                base_delay=timedelta(seconds=1),
                max_delay=timedelta(seconds=settings.login_max_delay_seconds),
                forget_after=timedelta(seconds=settings.login_forget_seconds),
            )

        return cls(
            account=policy(settings.login_free_attempts),
            address=policy(settings.login_address_free_attempts),
            gate=passwords.HashGate(
                settings.password_hash_concurrency,
                settings.password_hash_queue,
                settings.password_hash_wait_seconds,
            ),
        )

    def policy(self, kind: str) -> throttle.ThrottlePolicy:
        return self.account if kind == "account" else self.address


def _key(kind: str, value: str) -> attempt_store.Key:
    # Hashed: the table holds no email addresses or client addresses in clear.
    return kind, hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _too_many(seconds: int) -> TooManyRequests:
    return TooManyRequests(
        f"too many sign-in attempts; try again in {seconds} s",
        extra={"retry_after": seconds},
    )


def login(
    db: Database,
    limits: LoginLimits,
    email: str,
    password: str,
    *,
    address: str,
    lifetime: timedelta,
) -> IssuedToken:
    """Check a password and open a UI session (a ``session`` kind token).

    Refused with 429 and ``retry_after`` while the account or the address is
    backing off (the password is then not even checked), with 503 when too many
    passwords are being checked at once, and with the same 401 for an unknown
    email, a wrong password, a disabled or a not-yet-created (pending) account.
    """
    try:
        account = normalise_email(email)
    except ValidationFailed:
        account = ""
    keys = [_key("account", account), _key("address", address)]
    with transaction(db, write=False) as session:
        counters = attempt_store.read(session, keys)
    now = datetime.now(UTC)
    wait = max(throttle.retry_after(counters.get(k), now, limits.policy(k[0])) for k in keys)
    if wait:
        raise _too_many(wait)
    try:
        with limits.gate.turn():
            charged = _charge(db, limits, keys)
            with transaction(db, write=False) as session:
                found = user_store.get_password_hash(session, account)
            user, digest = found if found else (None, None)
            correct = passwords.verify_password(digest, password)
    except passwords.GateBusy as error:
        raise ServiceUnavailable(
            "too many sign-ins are being checked at once; try again shortly",
            extra={"retry_after": 1},
        ) from error
    if not correct or user is None or user.pending or user.disabled_at is not None:
        _after_failure(db, limits, charged, account=account, address=address)
        raise Unauthorized(WRONG_CREDENTIALS)
    actor = Actor(user_id=user.id, label=user.email, is_admin=user.is_admin)
    with transaction(db, actor) as session:
        attempt_store.clear(session, keys[0])
        # The address paid for an attempt that was not a guess: take it back,
        # so people signing in from one office address do not lock each other out.
        address_counter = attempt_store.lock(session, keys[1], now)
        attempt_store.save(session, keys[1], throttle.refund(address_counter, limits.address))
        return issue_token(
            session, actor, user, name="ui session", kind="session", lifetime=lifetime
        )


def _charge(
    db: Database, limits: LoginLimits, keys: list[attempt_store.Key]
) -> dict[attempt_store.Key, throttle.Counter]:
    """Count this attempt against every key before the password is checked, so
    concurrent guesses cannot slip past the limit together."""
    now = datetime.now(UTC)
    charged: dict[attempt_store.Key, throttle.Counter] = {}
    with transaction(db) as session:
        policies = (limits.account, limits.address)
        idle = max(policy.forget_after + policy.max_delay for policy in policies)
        attempt_store.forget_older_than(session, now - idle)
        for key in keys:
            policy = limits.policy(key[0])
            counter = attempt_store.lock(session, key, now)
            wait = throttle.retry_after(counter, now, policy)
            if wait:
                raise _too_many(wait)  # rolls back: nothing is charged
            charged[key] = throttle.charge(counter, now, policy)
            attempt_store.save(session, key, charged[key])
    return charged


def _after_failure(
    db: Database,
    limits: LoginLimits,
    charged: dict[attempt_store.Key, throttle.Counter],
    *,
    account: str,
    address: str,
) -> None:
    """Start each back-off this failure earned from now, when the answer goes
    out (the check itself may have taken a second), and audit (a project-less
    entry) and log the failure that starts one."""
    backing_off = [
        key for key, counter in charged.items() if limits.policy(key[0]).delay(counter.failures)
    ]
    if not backing_off:
        return
    now = datetime.now(UTC)
    with transaction(db) as session:
        for key in backing_off:
            kind, policy = key[0], limits.policy(key[0])
            counter = attempt_store.lock(session, key, now)
            delay = policy.delay(counter.failures)
            until = now + delay
            if counter.locked_until is None or counter.locked_until < until:
                attempt_store.save(session, key, replace(counter, locked_until=until))
            if not throttle.locks_now(charged[key], policy):
                continue
            target = account if kind == "account" else address
            seconds = int(delay.total_seconds())
            audit.record(
                session,
                _ANONYMOUS,
                "login.lockout",
                object_type=kind,
                object_id=target[:200],
                summary={"failures": charged[key].failures, "locked_seconds": seconds},
            )
            log.warning(
                "login.lockout",
                kind=kind,
                target=target,
                failures=charged[key].failures,
                seconds=seconds,
            )
