"""Signed cursors: only a tag made with one of the server's keys opens one."""

from __future__ import annotations

import pytest

from meshhook.domain.errors import BadRequest
from meshhook.domain.pagination import decode_cursor, encode_cursor, sign_cursor, unsign_cursor

KEY, OLD, OTHER = b"k" * 32, b"o" * 32, b"x" * 32


def test_a_signed_cursor_opens_with_its_key_or_after_a_rotation() -> None:
    cursor = encode_cursor(["name", "Order sync", "b0c0"])
    assert unsign_cursor(sign_cursor(cursor, KEY), [KEY]) == cursor
    assert unsign_cursor(sign_cursor(cursor, OLD), [KEY, OLD]) == cursor


@pytest.mark.parametrize(
    "signed",
    [
        sign_cursor(encode_cursor([1]), OTHER),  # another installation's
        encode_cursor([1]),  # unsigned
        sign_cursor(encode_cursor([1]), KEY)[:-2],  # truncated tag
        sign_cursor(encode_cursor([2]), KEY).replace(encode_cursor([2]), encode_cursor([3])),
        "é." + sign_cursor("x", KEY).split(".")[1],
        sign_cursor("a" * 3000, KEY),  # longer than any listing makes
        "",
        ".",
    ],
)
def test_anything_else_is_a_400_on_the_cursor(signed: str) -> None:
    with pytest.raises(BadRequest) as raised:
        unsign_cursor(signed, [KEY])
    assert raised.value.errors[0].path == "query:/cursor"


@pytest.mark.parametrize("values", [[2**63], [-(2**63) - 1], ["a\x00b"]])
def test_values_no_column_can_hold_are_refused_even_when_decoded(values: list[object]) -> None:
    text = encode_cursor(values) if values != [-(2**63) - 1] else "Wy05MjIzMzcyMDM2ODU0Nzc1ODA5XQ"
    kind = str if isinstance(values[0], str) else int
    with pytest.raises(BadRequest):
        decode_cursor(text, types=(kind,))
