"""Opaque keyset cursors: the last row's sort values, base64url-encoded JSON,
signed by the API so only cursors this server issued are ever decoded.

:func:`encode_cursor` / :func:`decode_cursor` make and read the payload the
services use; :func:`sign_cursor` / :func:`unsign_cursor` wrap it with an
HMAC the API adds on the way out and checks on the way in. The key is passed
in (this module does no I/O).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

import orjson

from meshhook.domain.errors import BadRequest, Problem

# The longest cursor a listing makes is a few hundred characters (a 200-char
# name, a UUID); anything far longer is not ours and is refused unread.
MAX_CURSOR_CHARS = 2_000
_SIGNATURE_BYTES = 16
# Integers in a cursor are row ids and version numbers: 64-bit in the database.
_INT_RANGE = range(-(2**63), 2**63)


def encode_cursor(values: list[Any]) -> str:
    raw = orjson.dumps(values)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, types: tuple[type, ...]) -> list[Any]:
    """Decode a cursor made by :func:`encode_cursor` holding values of ``types``.

    A cursor that was tampered with or belongs to another listing is a 400.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != len(types)
        or not all(_is(value, kind) for value, kind in zip(values, types, strict=True))
    ):
        raise bad_cursor()
    return values


def sign_cursor(cursor: str, key: bytes) -> str:
    """``cursor`` with an HMAC-SHA256 tag under ``key``: ``<cursor>.<tag>``."""
    return f"{cursor}.{_tag(cursor, key)}"


def unsign_cursor(signed: str, keys: Iterable[bytes]) -> str:
    """The cursor inside ``signed`` when one of ``keys`` made its tag; else 400.

    Several keys are accepted so that cursors survive a key rotation.
    """
    cursor, dot, tag = signed.rpartition(".")
    if dot and len(signed) <= MAX_CURSOR_CHARS and signed.isascii():
        for key in keys:
            if hmac.compare_digest(tag, _tag(cursor, key)):
                return cursor
    raise bad_cursor()


def _tag(cursor: str, key: bytes) -> str:
    digest = hmac.new(key, cursor.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def bad_cursor() -> BadRequest:
    return BadRequest(
        "the cursor is not one this server issued for this listing",
        errors=[
            Problem("query:/cursor", "cursor.invalid", "pass next_cursor from a previous page")
        ],
    )


def _is(value: Any, kind: type) -> bool:
    # bool is an int subclass; a cursor never carries one where a number belongs.
    if not isinstance(value, kind) or isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value in _INT_RANGE
    if isinstance(value, str):
        return "\x00" not in value
    return True
