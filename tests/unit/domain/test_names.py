"""Keys and names: whole-string matches, no UUID-shaped keys, no invisible tricks."""

from __future__ import annotations

import uuid

import pytest

from meshhook.domain.accounts import check_key, check_name, looks_like_uuid, slugify
from meshhook.domain.errors import ValidationFailed
from meshhook.domain.limits import MAX_NAME_LENGTH
from meshhook.domain.workflows import check_alias_name, check_tags, check_version_tag
from meshhook.services.secrets import check_secret_name


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (check_key, "pz\n"),
        (check_alias_name, "production\n"),
        (check_version_tag, "v1\n"),
        (check_secret_name, "API_TOKEN\n"),
        (lambda tag: check_tags([tag]), "ops\n"),
    ],
)
def test_a_trailing_newline_is_refused(check: object, value: str) -> None:
    with pytest.raises(ValidationFailed):
        check(value)  # type: ignore[operator]


@pytest.mark.parametrize(
    "key",
    [
        str(uuid.UUID(int=7)),
        uuid.uuid4().hex,
        "0123-4567-89ab-cdef-0123-4567-89ab-cdef",  # dashes anywhere still parse
    ],
)
def test_uuid_shaped_keys_are_refused(key: str) -> None:
    assert looks_like_uuid(key)
    with pytest.raises(ValidationFailed) as raised:
        check_key(key)
    assert raised.value.errors[0].code == "key.invalid"


def test_keys_near_a_uuid_are_still_keys() -> None:
    assert check_key("0123456789abcdef0123456789abcde") == "0123456789abcdef0123456789abcde"
    assert check_key("order-sync") == "order-sync"


def test_a_name_that_reads_as_a_uuid_derives_a_usable_key() -> None:
    name = str(uuid.uuid4())
    key = slugify(name)
    assert check_key(key) == key
    assert key.startswith("w-")


@pytest.mark.parametrize("name", ["Pay\u202eroll", "a\nb", "tab\there", "bell\x07", "x\u2066y"])
def test_control_and_bidi_characters_in_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_name(name)
    assert raised.value.errors[0].code == "name.invalid_character"


def test_ordinary_names_pass() -> None:
    for name in ("Order sync #2", "Bestellungen für Zürich", "注文の同期", "ملف عربي"):
        assert check_name(name) == name


def test_names_are_stripped_and_their_length_is_the_limits_one() -> None:
    assert check_name("  Order sync ") == "Order sync"
    assert check_name("x" * MAX_NAME_LENGTH) == "x" * MAX_NAME_LENGTH
    for name in ("", "   ", "x" * (MAX_NAME_LENGTH + 1)):
        with pytest.raises(ValidationFailed) as raised:
            check_name(name, path="/display_name")
        assert raised.value.errors[0].code == "name.length"
        assert raised.value.errors[0].path == "/display_name"
