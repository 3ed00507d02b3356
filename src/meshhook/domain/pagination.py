"""Opaque keyset cursors: the last row's sort values, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from meshhook.domain.errors import BadRequest, Problem

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


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


def bad_cursor() -> BadRequest:
    return BadRequest(
        "the cursor is not one this server issued for this listing",
        errors=[
            Problem("query:/cursor", "cursor.invalid", "pass next_cursor from a previous page")
        ],
    )


def _is(value: Any, kind: type) -> bool:
    # bool is an int subclass; a cursor never carries one where a number belongs.
    return isinstance(value, kind) and not isinstance(value, bool)
