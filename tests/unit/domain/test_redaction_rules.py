"""A project's own redaction rules: what is refused when saved (names,
length, compile errors, empty matches, catastrophic backtracking), and a
pattern that runs out of time hides the whole string (fail closed)."""

from __future__ import annotations

import time

import pytest
import regex

from meshhook.domain.errors import ValidationFailed
from meshhook.domain.redaction import CustomDetector, Redactor
from meshhook.domain.redaction_rules import (
    MAX_POINTERS,
    check_pattern,
    check_pattern_name,
    check_pointers,
)


@pytest.mark.parametrize(
    ("pattern", "code"),
    [
        ("(a+)+$", "redaction.pattern_too_slow"),
        ("(a|aa)+$", "redaction.pattern_too_slow"),
        ("^(([a-z])+.)+[A-Z]([a-z])+$", "redaction.pattern_too_slow"),
        ("(unclosed", "redaction.pattern_invalid"),
        ("a{2,1}", "redaction.pattern_invalid"),
        ("a?", "redaction.pattern_empty_match"),
        ("", "redaction.pattern_length"),
        ("a" * 201, "redaction.pattern_length"),
    ],
)
def test_a_dangerous_or_broken_pattern_is_refused_with_its_reason(pattern: str, code: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ValidationFailed) as refused:
        check_pattern(pattern)
    assert [(e.path, e.code) for e in refused.value.errors] == [("/pattern", code)]
    assert time.perf_counter() - started < 5, "the check itself is bounded"


@pytest.mark.parametrize("pattern", [r"EMP-\d{6}", r"\bCUST[0-9]{8}\b", r"(?i)secret-[a-z]+"])
def test_an_ordinary_pattern_is_accepted(pattern: str) -> None:
    assert check_pattern(pattern).pattern == pattern


def test_names_are_identifiers_that_do_not_shadow_built_in_kinds() -> None:
    assert check_pattern_name("employee_id") == "employee_id"
    for bad, code in (("Email", "redaction.name_invalid"), ("email", "redaction.name_reserved")):
        with pytest.raises(ValidationFailed) as refused:
            check_pattern_name(bad)
        assert refused.value.errors[0].code == code


def test_pointers_are_checked_deduplicated_and_bounded() -> None:
    assert check_pointers(["/a", "/b/*/c", "/a"]) == ["/a", "/b/*/c"]
    with pytest.raises(ValidationFailed) as refused:
        check_pointers(["/a", "b"])
    assert refused.value.errors[0].path == "/pointers/1"
    with pytest.raises(ValidationFailed):
        check_pointers([f"/{n}" for n in range(MAX_POINTERS + 1)])


def test_a_pattern_that_runs_out_of_time_hides_the_whole_string() -> None:
    # Slow only on long runs of "x", which no probe string has: the probes are
    # a first line, the timeout when applied is the bound.
    check_pattern("(x+x+)+y")
    slow = CustomDetector("slow", regex.compile("(x+x+)+y"), timeout=0.01)
    text = "x" * 5000 + " and ann's details"
    started = time.perf_counter()
    assert slow.hide(text) == "[redacted:slow]"
    assert time.perf_counter() - started < 2
    assert slow.hide("xxy and more") == "[redacted:slow] and more"


def test_project_patterns_apply_after_the_built_in_detectors() -> None:
    redactor = Redactor.build(patterns={"employee_id": r"EMP-\d{6}"})
    assert redactor.text("EMP-123456 wrote from ann@example.com") == (
        "[redacted:employee_id] wrote from [redacted:email]"
    )
