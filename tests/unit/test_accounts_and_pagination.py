from __future__ import annotations

import pytest

from meshhook.domain.accounts import Role, check_key, normalise_email, slugify
from meshhook.domain.errors import BadRequest, ValidationFailed
from meshhook.domain.pagination import decode_cursor, encode_cursor


def test_each_role_includes_the_ones_below_it() -> None:
    assert Role.OWNER.includes(Role.ADMIN)
    assert Role.ADMIN.includes(Role.EDITOR)
    assert Role.EDITOR.includes(Role.VIEWER)
    assert not Role.VIEWER.includes(Role.EDITOR)
    assert not Role.ADMIN.includes(Role.OWNER)


@pytest.mark.parametrize("key", ["default", "a", "order-sync-2", "x" * 64])
def test_valid_keys_pass(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize("key", ["", "Upper", "-lead", "trail-", "sp ace", "x" * 65, "ünï"])
def test_invalid_keys_are_refused_with_a_pointer(key: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_key(key)
    assert raised.value.errors[0].path == "/key"


def test_emails_are_normalised_and_checked() -> None:
    assert normalise_email("  Alice@Example.COM ") == "alice@example.com"
    with pytest.raises(ValidationFailed):
        normalise_email("not-an-email")


def test_slugify_derives_portable_keys() -> None:
    assert slugify("Order sync #2") == "order-sync-2"
    assert slugify("!!!") == "workflow"
    assert len(slugify("x" * 100)) == 64


def test_cursors_round_trip_and_refuse_tampering() -> None:
    cursor = encode_cursor(["2026-01-01", 42])
    assert decode_cursor(cursor, types=(str, int)) == ["2026-01-01", 42]
    for bad in ("%%%", encode_cursor([1]), encode_cursor(["a", True]), encode_cursor({"a": 1})):  # type: ignore[arg-type]
        with pytest.raises(BadRequest):
            decode_cursor(bad, types=(str, int))
