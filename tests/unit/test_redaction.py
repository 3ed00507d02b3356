"""The redaction detectors: what they find, what they must leave alone, and the
Redactor's pointers and secret values; every log line goes through them."""

from __future__ import annotations

import io
import json
import logging
from contextlib import redirect_stderr
from dataclasses import replace

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from meshhook.domain.redaction import (
    DETECTORS,
    Redactor,
    iban_valid,
    luhn_valid,
    pointed_values,
    redact_text,
)
from meshhook.logs import configure_logging

FOUND = [
    ("write to jane.doe+billing@example.co.uk today", "email"),
    ("call +44 20 7946 0958 now", "phone"),
    ("(555) 123-4567", "phone"),
    ("030-1234-5678", "phone"),
    ("+4915112345678", "phone"),
    ("card 4111 1111 1111 1111", "card_number"),
    ("4111-1111-1111-1111", "card_number"),
    ("amex 378282246310005", "card_number"),
    ("IBAN GB82 WEST 1234 5698 7654 32", "iban"),
    ("DE89370400440532013000", "iban"),
    ("Authorization: Bearer abcdefghijklmnop1234", "bearer_token"),
    (
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "jwt",
    ),
    ("key AKIAIOSFODNN7EXAMPLE", "aws_access_key"),
    ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_key"),
    ("ghp_" + "a1B2" * 9, "github_token"),
    ("xoxb-1234567890-abcdefghij", "slack_token"),
    ("AIza" + "Sy" + "A" * 33, "google_api_key"),
    ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "stripe_key"),
]

LEFT_ALONE = [
    "on 2026-12-03 at 02:02:52",
    "ip 192.168.100.200",
    "run 550e8400-e29b-41d4-a716-446655440000",
    "took 12.5 ms, 1234 rows",
    "version 1.22.333",
    "id 1234567890123",
    "card 4111 1111 1111 1112 fails the Luhn check",
    "IBAN GB82 WEST 1234 5698 7654 33 fails mod 97",
    "bearer short",
    "user@localhost has no domain",
]


@pytest.mark.parametrize(("text", "kind"), FOUND)
def test_each_detector_finds_its_kind(text: str, kind: str) -> None:
    redacted = redact_text(text)
    assert f"[redacted:{kind}]" in redacted, redacted


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_bearer_keeps_the_scheme_and_hides_the_token() -> None:
    assert redact_text("Bearer abcdefghijklmnop1234") == "Bearer [redacted:bearer_token]"


def luhn_complete(body: str) -> str:
    """``body`` with the check digit that makes it Luhn-valid."""
    for digit in "0123456789":
        if luhn_valid(body + digit):
            return body + digit
    raise AssertionError("one digit always completes it")


card_bodies = st.text(alphabet="0123456789", min_size=12, max_size=18)
separators = st.sampled_from(["", " ", "-"])


@given(card_bodies, separators)
def test_every_luhn_valid_card_number_is_hidden(body: str, separator: str) -> None:
    number = luhn_complete(body)
    grouped = separator.join(number[i : i + 4] for i in range(0, len(number), 4))
    redacted = redact_text(f"paid with {grouped} yesterday")
    assert not any(char.isdigit() for char in redacted), redacted


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_sixteen_digits_failing_luhn_are_not_a_card(number: str) -> None:
    if luhn_valid(number):
        return
    assert "card_number" not in redact_text(f"order {number}")


def test_checksums() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_valid("GB82 WEST 1234 5698 7654 31")


def test_the_redactor_hides_pointers_secret_values_and_its_own_patterns() -> None:
    redactor = Redactor.build(
        patterns={"customer_id": r"\bCUS-\d{6}\b"},
        pointers=["/body/ssn", "/items/*/name"],
        secrets=["s3cr3t-value", "ab"],
    )
    value = {
        "body": {"ssn": "123", "note": "customer CUS-123456 paid"},
        "items": [{"name": "Ann", "qty": 1}, {"name": "Bob", "qty": 2}],
        "header": "X-Key: s3cr3t-value; mail ann@example.com",
        "short": "ab stays: too short to hide",
    }
    hidden = redactor.value(value)
    assert hidden == {
        "body": {"ssn": "[redacted:field]", "note": "customer [redacted:customer_id] paid"},
        "items": [{"name": "[redacted:field]", "qty": 1}, {"name": "[redacted:field]", "qty": 2}],
        "header": "X-Key: [redacted:secret]; mail [redacted:email]",
        "short": "ab stays: too short to hide",
    }
    assert value["body"]["ssn"] == "123", "the input is not changed"


def test_the_values_pointers_name_are_found_for_text_that_quotes_them() -> None:
    payload = {
        "customer": {"ref": "REF-kq7zx", "ids": [12345678, True], "tags": {"a": "VIP-1"}},
        "items": [{"name": "Ann Lee"}, {"name": "Bob Ray"}],
    }
    found = pointed_values(
        payload, ["/customer/ref", "/customer/ids", "/customer/tags", "/items/*/name", "/nope", "x"]
    )
    assert found == ["REF-kq7zx", "12345678", "VIP-1", "Ann Lee", "Bob Ray"]
    redactor = Redactor.build(fields=[*found, "ab"], secrets=["s3cr3t-value"])
    text = "REF-kq7zx failed for Ann Lee (12345678) with s3cr3t-value; ab stays"
    assert redactor.text(text) == (
        "[redacted:field] failed for [redacted:field] ([redacted:field])"
        " with [redacted:secret]; ab stays"
    )


def test_every_log_line_is_redacted() -> None:
    stream = io.StringIO()
    try:
        with redirect_stderr(stream):
            configure_logging("json", "info")
            structlog.get_logger("test").info(
                "signed in",
                email="ann@example.com",
                headers={"authorization": "Bearer " + "x" * 20},
            )
            logging.getLogger("uvicorn.error").warning("card 4111 1111 1111 1111 refused")
    finally:
        configure_logging("json", "info")  # back to the real stderr
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["email"] == "[redacted:email]"
    assert lines[0]["headers"]["authorization"] == "Bearer [redacted:bearer_token]"
    assert lines[1]["event"] == "card [redacted:card_number] refused"
    assert "ann@example.com" not in stream.getvalue()


_PIECES = st.sampled_from(
    [
        "4111 1111 1111 1111",
        "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
        "+44 20 7946 0958",
        "(555) 123-4567",
        "GB82 WEST 1234 5698 7654 32",
        "Bearer abcdefghijklmnopqrstuvwx",
        "bEaReR abcdefghijklmnopqrstuvwx",
        "AKIAABCDEFGHIJKLMNOP",
        "aws_secret_access_key=" + "a" * 40,
        "ghp_" + "a" * 36,
        "xoxb-1234567890-abc",
        "AIza" + "b" * 35,
        "sk_live_" + "c" * 20,
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijkl",
        "jane@example.com",
        "2026-12-03",
        " ",
        "-",
        "order",
    ]
)


@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=6))
def test_the_cheap_hints_never_change_what_is_found(parts: list[str]) -> None:
    text = " ".join(parts)
    without_hints = tuple(replace(detector, hint=None) for detector in DETECTORS)

    assert redact_text(text) == redact_text(text, without_hints)
