"""Bearer tokens: random, shown once, stored only as a SHA-256 hash.

A token looks like ``mh_<prefix>_<secret>``. The prefix is stored in clear so a
user can tell tokens apart in a list; the secret has 256 bits of entropy, which
is why a fast hash is enough (there is nothing to brute-force).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

TOKEN_SCHEME = "mh"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True, slots=True)
class NewToken:
    value: str
    prefix: str
    digest: str


def new_token() -> NewToken:
    prefix = secrets.token_hex(4)
    value = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewToken(value=value, prefix=f"{TOKEN_SCHEME}_{prefix}", digest=token_digest(value))


def token_digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    return value.startswith(f"{TOKEN_SCHEME}_") and 16 < len(value) < 200


def csrf_token_for(session_token: str) -> str:
    """The CSRF token bound to a session cookie.

    Derived from the HttpOnly session token, so page scripts of another origin
    can neither read nor compute it; nothing extra is stored.
    """
    return hmac.new(session_token.encode(), b"meshhook-csrf", hashlib.sha256).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
