"""Password hashing with argon2id (argon2-cffi's tuned defaults), behind a gate
that bounds how many hashes run at once.

Each argon2id hash or verification takes 64 MiB and most of a core for a
fraction of a second: two hundred concurrent sign-ins would take gigabytes and
starve every other request. :class:`HashGate` lets ``concurrency`` run, queues
up to ``queue`` more for at most ``wait`` seconds, and turns the rest away at
once (:class:`GateBusy`), so memory stays bounded and the server's worker
threads stay free for other requests.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verifying against this when the user does not exist keeps the response time
# the same, so timing does not reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash("meshhook-dummy-password")

MIN_PASSWORD_LENGTH = 12


class GateBusy(Exception):
    """Too many password hashes are running or waiting; try again shortly."""


class HashGate:
    """At most ``concurrency`` hashes at once and ``queue`` waiting for a turn."""

    def __init__(self, concurrency: int, queue: int, wait: float) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)
        self._capacity = concurrency + queue
        self._wait = wait
        self._inside = 0
        self._lock = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold one hashing slot; :class:`GateBusy` when the queue is full or
        no slot frees up within the wait."""
        with self._lock:
            if self._inside >= self._capacity:
                raise GateBusy
            self._inside += 1
        try:
            if not self._slots.acquire(timeout=self._wait):
                raise GateBusy
            try:
                yield
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._inside -= 1


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password for bootstrap and for users created without one."""
    return secrets.token_urlsafe(18)
