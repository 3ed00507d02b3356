"""A project's own redaction rules: named regular expressions and, per
workflow, JSON Pointers that are always hidden. Checked here before they are
stored; applied by :class:`~meshhook.domain.redaction.Redactor`. Pure.

A project's pattern runs on every payload and log line of the project, so a
pattern that can backtrack for minutes (``(a+)+$``) would be a denial of
service written by an admin. Three guards, in order:

1. **Length and count**: at most ``MAX_PATTERN_LENGTH`` characters and
   ``MAX_PATTERNS`` patterns per project.
2. **Compile check** with the ``regex`` module (Python's ``re`` syntax plus a
   little more), so a malformed pattern is refused with its error.
3. **Time limit**: ``regex`` takes a per-call ``timeout`` (``re`` has none,
   and a thread cannot be interrupted inside ``re``). A pattern is refused when
   it exceeds ``PROBE_TIMEOUT`` on adversarial probe strings when saved, and
   every later use gives up after ``MATCH_TIMEOUT`` and hides the *whole*
   string (fail closed: a slow pattern hides too much, never too little).

Restricting the syntax instead (no nested quantifiers, no backreferences) was
the other choice; it refuses useful patterns and still cannot prove a bound,
where a timeout bounds every case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import regex

from meshhook.domain.errors import Problem, ValidationFailed
from meshhook.domain.pointers import split

MAX_PATTERNS = 20
MAX_PATTERN_LENGTH = 200
MAX_POINTERS = 50
MAX_POINTER_LENGTH = 500
MATCH_TIMEOUT = 0.05
"""Seconds one pattern may spend on one string before the string is hidden whole."""
PROBE_TIMEOUT = 0.05
"""Seconds one pattern may spend on each probe string when it is saved."""

NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
BUILT_IN_KINDS = frozenset(
    {
        "jwt",
        "bearer_token",
        "aws_access_key",
        "aws_secret_key",
        "github_token",
        "slack_token",
        "google_api_key",
        "stripe_key",
        "email",
        "iban",
        "card_number",
        "phone",
        "secret",
        "field",
    }
)

# Strings on which exponential patterns show themselves: long runs of one
# character class followed by something that makes the match fail at the end.
_PROBES = tuple(
    run * 5_000 + tail
    for run in ("a", "0", " ", "a0", "-a", "aA", "@.")
    for tail in ("!", "\x00", "")
)


def check_pattern_name(name: str, *, path: str = "/name") -> str:
    """A lowercase identifier (it is shown as ``[redacted:<name>]``), not one
    of the built-in kinds (a reader must be able to tell them apart)."""
    if not NAME.fullmatch(name):
        raise _invalid(path, "redaction.name_invalid", "use 1-64 lowercase letters, digits and _")
    if name in BUILT_IN_KINDS:
        raise _invalid(path, "redaction.name_reserved", f"{name!r} is a built-in kind")
    return name


def check_pattern(pattern: str, *, path: str = "/pattern") -> regex.Pattern[str]:
    """The compiled pattern, or 422 naming what is wrong (too long, does not
    compile, matches the empty string, or too slow on a probe string)."""
    if not 1 <= len(pattern) <= MAX_PATTERN_LENGTH:
        raise _invalid(
            path, "redaction.pattern_length", f"use 1 to {MAX_PATTERN_LENGTH} characters"
        )
    try:
        compiled = regex.compile(pattern)
    except (regex.error, ValueError, OverflowError) as failure:
        raise _invalid(path, "redaction.pattern_invalid", f"does not compile: {failure}") from None
    if compiled.fullmatch("", timeout=PROBE_TIMEOUT) is not None:
        raise _invalid(
            path,
            "redaction.pattern_empty_match",
            "it matches the empty string: it would hide nothing",
        )
    for probe in _PROBES:
        try:
            compiled.search(probe, timeout=PROBE_TIMEOUT)
        except TimeoutError:
            raise _invalid(
                path,
                "redaction.pattern_too_slow",
                "it backtracks too much on long input (nested quantifiers such as (a+)+?)",
            ) from None
    return compiled


def check_pointers(pointers: Iterable[str], *, path: str = "/pointers") -> list[str]:
    """Distinct JSON Pointers in their order, each parseable, non-empty (the
    root would hide the whole payload: hide the fields instead) and short."""
    kept: list[str] = []
    for index, pointer in enumerate(pointers):
        where = f"{path}/{index}"
        if not 1 <= len(pointer) <= MAX_POINTER_LENGTH:
            raise _invalid(
                where, "redaction.pointer_length", f"use 1 to {MAX_POINTER_LENGTH} characters"
            )
        try:
            split(pointer)
        except ValueError as failure:
            raise _invalid(where, "redaction.pointer_invalid", str(failure)) from None
        if pointer not in kept:
            kept.append(pointer)
    if len(kept) > MAX_POINTERS:
        raise _invalid(path, "redaction.too_many", f"at most {MAX_POINTERS} pointers")
    return kept


def too_many_patterns(path: str = "/name") -> ValidationFailed:
    return _invalid(path, "redaction.too_many", f"at most {MAX_PATTERNS} patterns per project")


def _invalid(path: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[Problem(path, code, message)])
