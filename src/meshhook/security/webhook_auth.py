"""Checks that a webhook request comes from its sender: an HMAC-SHA256
signature (``X-MeshHook-Signature: t=<unix seconds>,v1=<hex>``) or a JWT bearer
token. Each check raises :class:`Refused` naming what failed, for the log; the
caller answers every failure with the same generic 401."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import jwt

ALGORITHMS = ("HS256", "RS256", "ES256")


class Refused(Exception):
    """A request that did not prove where it comes from; ``check`` says which check failed."""

    def __init__(self, check: str) -> None:
        super().__init__(check)
        self.check = check


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value signing ``body`` at ``timestamp``: HMAC-SHA256 of
    ``"<timestamp>.<body>"`` keyed with the secret's UTF-8 bytes."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    header: str | None, secret: str, body: bytes, now: float, tolerance: int
) -> None:
    """Accept when one ``v1=`` value is the signature of ``body`` at ``t=``, and
    ``t`` is within ``tolerance`` seconds of ``now`` (either way)."""
    if not header:
        raise Refused("signature.missing")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and timestamp is None:
            try:
                timestamp = int(value)
            except ValueError:
                raise Refused("signature.malformed") from None
        elif name == "v1":
            candidates.append(value.strip())
    if timestamp is None or not candidates:
        raise Refused("signature.malformed")
    if abs(now - timestamp) > tolerance:
        raise Refused("signature.stale" if timestamp < now else "signature.future")
    expected = _digest(secret, timestamp, body).encode()
    matched = False
    for candidate in candidates[:8]:
        # Every candidate is compared (no early exit), each in constant time.
        matched |= hmac.compare_digest(expected, candidate.encode())
    if not matched:
        raise Refused("signature.mismatch")


def verify_jwt(
    authorization: str | None,
    *,
    algorithm: str,
    key: str,
    issuer: str | None,
    audience: str | None,
    leeway: int,
) -> dict[str, Any]:
    """The claims of a valid ``Authorization: Bearer <JWT>``.

    Only ``algorithm`` is accepted (never ``none``, never another family: an
    HS256 token is refused by an RS256 hook, and PyJWT refuses a PEM public key
    as an HMAC secret); ``exp`` is required; ``nbf``, ``iss`` and ``aud`` are
    checked when present or configured.
    """
    if algorithm not in ALGORITHMS:
        raise Refused("jwt.algorithm")
    if not authorization:
        raise Refused("jwt.missing")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused("jwt.missing")
    required = ["exp"] + (["iss"] if issuer else []) + (["aud"] if audience else [])
    try:
        claims: dict[str, Any] = jwt.decode(
            token.strip(),
            key,
            algorithms=[algorithm],
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options={"require": required, "verify_aud": audience is not None},
        )
    except jwt.ExpiredSignatureError:
        raise Refused("jwt.expired") from None
    except jwt.ImmatureSignatureError:
        raise Refused("jwt.not_yet_valid") from None
    except jwt.InvalidAudienceError:
        raise Refused("jwt.audience") from None
    except jwt.InvalidIssuerError:
        raise Refused("jwt.issuer") from None
    except jwt.InvalidAlgorithmError:
        raise Refused("jwt.algorithm") from None
    except jwt.MissingRequiredClaimError as error:
        raise Refused(f"jwt.missing_claim.{error.claim}") from None
    except jwt.InvalidSignatureError:
        raise Refused("jwt.signature") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise Refused("jwt.invalid") from None
    return claims


def mint_test_token(key: str, *, issuer: str | None, audience: str | None) -> str:
    """An HS256 token valid for a minute, for the "test webhook" action."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "meshhook-test", "iat": now, "exp": now + 60}
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, key, algorithm="HS256")
