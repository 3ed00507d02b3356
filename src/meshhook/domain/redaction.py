"""Finding personal data and credentials in text and JSON, and hiding them.

Built-in detectors (``DETECTORS``) find e-mail addresses, phone numbers,
payment card numbers (Luhn-checked), IBANs (mod-97-checked), bearer tokens,
JWTs and common cloud keys; a :class:`Redactor` adds a project's own patterns,
JSON Pointers that are always hidden, the secret values a run used, and (for
text about a run, such as an alert) the values those pointers name in the run.
What is found becomes ``[redacted:<kind>]``, so a reader still sees that
something was there and what it was. Pure: no I/O, safe on any thread.

Detection is pattern matching, so it has limits (``docs/privacy.md``): a phone
number written with unusual grouping, or a name, is not found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import regex

from meshhook.domain.pointers import split

REDACTED = "[redacted:{kind}]"


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number carries."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN (spaces allowed)."""
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


@dataclass(frozen=True, slots=True)
class Detector:
    kind: str
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None = None
    """A second test of a match (a checksum), to keep false positives out."""
    group: int = 0
    """The part of a match that is hidden (``Bearer <token>`` keeps ``Bearer``)."""
    hint: Callable[[str], bool] | None = None
    """A cheap test every text the pattern can match passes (a character or
    prefix it must contain): most strings of a payload fail it and skip the
    regular expression."""

    def hide(self, text: str) -> str:
        if self.hint is not None and not self.hint(text):
            return text
        replacement = REDACTED.format(kind=self.kind)

        def swap(match: re.Match[str]) -> str:
            found = match.group(self.group)
            if self.check is not None and not self.check(found):
                return match.group(0)
            whole, offset = match.group(0), match.start()
            start, end = match.span(self.group)
            return whole[: start - offset] + replacement + whole[end - offset :]

        return self.pattern.sub(swap, text)


class Hider(Protocol):
    def hide(self, text: str) -> str: ...


@dataclass(frozen=True, slots=True)
class CustomDetector:
    """A project's own pattern (checked by ``domain/redaction_rules.py``),
    run with a time limit: a string it cannot finish in ``timeout`` seconds is
    hidden whole, so a slow pattern hides too much, never too little."""

    kind: str
    pattern: regex.Pattern[str]
    timeout: float = 0.05

    def hide(self, text: str) -> str:
        replacement = REDACTED.format(kind=self.kind)
        try:
            hidden: str = self.pattern.sub(lambda _: replacement, text, timeout=self.timeout)
        except TimeoutError:
            return replacement
        return hidden


def _card_check(found: str) -> bool:
    digits = re.sub(r"[ -]", "", found)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


# +44 20 7946 0958, (555) 123-4567, 030-1234-5678, +4915112345678; not dates,
# versions or short numbers (the check wants 9 to 15 digits, no ISO date).
_PHONE = re.compile(
    r"(?<![\w+.-])(?<!\d )(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?|\d{2,4}[ .-])"
    r"\d{2,4}[ .-]\d{2,5}(?![\w.-])(?! \d)"
    r"|(?<![\w+])\+\d{8,15}(?!\w)"
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _phone_check(found: str) -> bool:
    digits = sum(char.isdigit() for char in found)
    return 9 <= digits <= 15 and not _ISO_DATE.fullmatch(found)


_TWO_DIGITS = re.compile(r"\d\d").search
_DIGIT = re.compile(r"\d").search


def _has_two_digits(text: str) -> bool:
    # Phone numbers (a group of 2+ digits) and IBANs (two check digits).
    return _TWO_DIGITS(text) is not None


def _has_digit(text: str) -> bool:
    # Card numbers may separate every digit ("4 1 1 1 ...").
    return _DIGIT(text) is not None


# Order matters: tokens before the pieces of them other detectors would match.
DETECTORS: tuple[Detector, ...] = (
    Detector(
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}"),
        hint=lambda text: "eyJ" in text,
    ),
    Detector(
        "bearer_token",
        re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]{16,}"),
        hint=lambda text: "bearer " in text.lower(),
    ),
    Detector(
        "aws_access_key",
        re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        hint=lambda text: "AKIA" in text or "ASIA" in text,
    ),
    Detector(
        "aws_secret_key",
        re.compile(r"(?i)aws_secret_access_key[\"'=: ]{1,4}([A-Za-z0-9/+=]{40})"),
        group=1,
        hint=lambda text: "aws_secret_access_key" in text.lower(),
    ),
    Detector(
        "github_token",
        re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
        hint=lambda text: "gh" in text,
    ),
    Detector(
        "slack_token",
        re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
        hint=lambda text: "xox" in text,
    ),
    Detector(
        "google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), hint=lambda text: "AIza" in text
    ),
    Detector(
        "stripe_key",
        re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b"),
        hint=lambda text: "_live_" in text or "_test_" in text,
    ),
    Detector(
        "email",
        re.compile(
            r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b"
        ),
        hint=lambda text: "@" in text,
    ),
    Detector(
        "iban",
        re.compile(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"),
        iban_valid,
        hint=_has_two_digits,
    ),
    Detector(
        "card_number",
        re.compile(r"(?<![\d+-])(?:\d[ -]?){12,18}\d(?![\d-])"),
        _card_check,
        hint=_has_digit,
    ),
    Detector("phone", _PHONE, _phone_check, hint=_has_two_digits),
)


MEMO_SIZE = 4096
MIN_SECRET_LENGTH = 4
"""Shorter secret values are not hidden: they would hide ordinary words."""


def secret_values(values: Iterable[str]) -> tuple[str, ...]:
    """The values worth hiding, longest first (so a value containing another
    is hidden whole)."""
    worth = {value for value in values if len(value) >= MIN_SECRET_LENGTH}
    return tuple(sorted(worth, key=len, reverse=True))


def hide_secrets(value: Any, secrets: tuple[str, ...]) -> Any:
    """A copy of the JSON ``value`` with every occurrence of each of
    ``secrets`` (from :func:`secret_values`) in its strings replaced by
    ``[redacted:secret]``; keys and non-strings are kept."""
    if not secrets:
        return value
    if isinstance(value, str):
        return _hide_secret_text(value, secrets)
    if isinstance(value, dict):
        return {key: hide_secrets(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [hide_secrets(item, secrets) for item in value]
    return value


def _hide_secret_text(text: str, secrets: tuple[str, ...], kind: str = "secret") -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED.format(kind=kind))
    return text


def pointed_values(value: Any, pointers: Iterable[str]) -> list[str]:
    """The scalars (strings and numbers, as text) that ``pointers`` name in the
    JSON ``value``, every leaf of a named object or list included: what those
    pointers hide in a payload, so that text quoting it can hide it too."""
    found: list[str] = []
    _collect(value, _parsed(pointers), found)
    return found


def _collect(value: Any, pointers: Iterable[tuple[str, ...]], found: list[str]) -> None:
    for pointer in pointers:
        for named in _at(value, pointer):
            _leaves(named, found)


def _at(value: Any, pointer: tuple[str, ...]) -> Iterable[Any]:
    if not pointer:
        yield value
        return
    head, rest = pointer[0], pointer[1:]
    if isinstance(value, dict):
        keys = list(value) if head == "*" else [head] if head in value else []
        for key in keys:
            yield from _at(value[key], rest)
    elif isinstance(value, list):
        if head == "*":
            for item in value:
                yield from _at(item, rest)
        elif head.isdigit() and int(head) < len(value):
            yield from _at(value[int(head)], rest)


def _leaves(value: Any, found: list[str]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _leaves(item, found)
    elif isinstance(value, list):
        for item in value:
            _leaves(item, found)
    elif isinstance(value, str):
        found.append(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        found.append(str(value))


# What every built-in detector's hint looks for, in one pass: a text without
# any of it (most words, codes and names) cannot hold anything they find.
_ANY_HINT = re.compile(
    r"\d|@|eyJ|AKIA|ASIA|gh|xox|AIza|_live_|_test_|(?i:bearer |aws_secret_access_key)"
).search


def redact_text(text: str, detectors: Iterable[Hider] = DETECTORS) -> str:
    """``text`` with everything the detectors find hidden."""
    if detectors is DETECTORS and _ANY_HINT(text) is None:
        return text
    for detector in detectors:
        text = detector.hide(text)
    return text


@dataclass(frozen=True, slots=True)
class Redactor:
    """What to hide for one project and workflow. Built per request: it
    remembers the texts it redacted (up to ``MEMO_SIZE``), since a run's
    payloads repeat across its events (each step's output is the next one's
    input), and forgets them with the request."""

    patterns: tuple[CustomDetector, ...] = ()
    """The project's own patterns, tried after the built-in detectors."""
    pointers: tuple[tuple[str, ...], ...] = ()
    """JSON Pointers (parsed) whose values are always hidden."""
    secrets: tuple[str, ...] = ()
    """Secret values the run used (from :func:`secret_values`): hidden
    wherever they appear."""
    fields: tuple[str, ...] = ()
    """Values the pointers name in the run a text is about (from
    :func:`pointed_values`, :meth:`quoting`), hidden wherever they appear as
    ``[redacted:field]``: a message about a run (its error, an alert) may
    quote one of them."""
    memo: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        *,
        patterns: Mapping[str, str | regex.Pattern[str]] | None = None,
        pointers: Iterable[str] = (),
        secrets: Iterable[str] = (),
        fields: Iterable[str] = (),
    ) -> Redactor:
        """From a project's ``{name: regex}`` patterns, JSON Pointer strings,
        secret values and pointed-at field values (values shorter than 4
        characters are not hidden: they would hide every occurrence of an
        ordinary word)."""
        return cls(
            patterns=tuple(
                CustomDetector(
                    name, regex.compile(pattern) if isinstance(pattern, str) else pattern
                )
                for name, pattern in (patterns or {}).items()
            ),
            pointers=tuple(_parsed(pointers)),
            secrets=secret_values(secrets),
            fields=secret_values(fields),
        )

    def quoting(self, payloads: Iterable[Any]) -> Redactor:
        """This redactor, also hiding the values its pointers name in
        ``payloads`` wherever they appear (an error message about a run may quote
        one): itself when they name nothing, else a copy with a memo of its own."""
        if not self.pointers:
            return self
        found: list[str] = []
        for payload in payloads:
            _collect(payload, self.pointers, found)
        if not found:
            return self
        return replace(self, fields=secret_values([*self.fields, *found]), memo={})

    def text(self, text: str) -> str:
        shown = self.memo.get(text)
        if shown is None:
            hidden = _hide_secret_text(text, self.secrets)
            hidden = _hide_secret_text(hidden, self.fields, "field")
            shown = redact_text(redact_text(hidden), self.patterns)
            if len(self.memo) < MEMO_SIZE:
                self.memo[text] = shown
        return shown

    def value(self, value: Any) -> Any:
        """A copy of the JSON ``value`` with every string redacted and every
        pointer's value hidden (``value`` is not changed)."""
        hidden = self._strings(value)
        for pointer in self.pointers:
            hidden = _hide_at(hidden, pointer)
        return hidden

    def _strings(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self._strings(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._strings(item) for item in value]
        return value


def _compiled(pattern: str | regex.Pattern[str]) -> regex.Pattern[str]:
    return regex.compile(pattern) if isinstance(pattern, str) else pattern


def _parsed(pointers: Iterable[str]) -> Iterable[tuple[str, ...]]:
    """The pointers that parse (a malformed one in a draft hides nothing)."""
    for pointer in pointers:
        try:
            yield tuple(split(pointer))
        except ValueError:
            continue


def _hide_at(value: Any, pointer: tuple[str, ...]) -> Any:
    """``value`` with what ``pointer`` names replaced; ``*`` matches every key or
    index at its level (``/items/*/email``)."""
    if not pointer:
        return REDACTED.format(kind="field")
    head, rest = pointer[0], pointer[1:]
    if isinstance(value, dict):
        keys = list(value) if head == "*" else [head] if head in value else []
        return {key: _hide_at(item, rest) if key in keys else item for key, item in value.items()}
    if isinstance(value, list):
        if head == "*":
            return [_hide_at(item, rest) for item in value]
        if head.isdigit() and int(head) < len(value):
            index = int(head)
            return [_hide_at(item, rest) if i == index else item for i, item in enumerate(value)]
    return value
