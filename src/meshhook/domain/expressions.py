"""Expressions inside node configs: JMESPath and ``{{ secrets.NAME }}`` references."""

from __future__ import annotations

import re
from functools import lru_cache

import jmespath
from jmespath.exceptions import JMESPathError, ParseError

REFERENCE_NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]{0,127}"
# One reference anywhere in a string; whitespace inside the braces is tolerated.
SECRET_REFERENCE = re.compile(r"\{\{\s*secrets\.(" + REFERENCE_NAME_PATTERN + r")\s*\}\}")
# What a sensitive field may hold: exactly one reference, optionally after an HTTP
# auth scheme word, because "Bearer {{ secrets.X }}" carries no literal credential.
_SENSITIVE_OK = re.compile(
    r"^(?:(?:Bearer|Basic|Token)\s+)?\{\{\s*secrets\.(" + REFERENCE_NAME_PATTERN + r")\s*\}\}$"
)
# A JSON number as written in an expression (jmespath's lexer stops at the dot).
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_MAX_NUMBER_FIXES = 20
_NUMBER_KIND = "NUMBER"  # how jmespath names the type of a number token


@lru_cache(maxsize=8192)
def jmespath_error(expression: str) -> str | None:
    """Why ``expression`` does not compile as JMESPath, or ``None`` when it does.

    Cached by string: large definitions repeat the same expressions, and compiling
    is the slowest part of validating a transform or branch node.
    """
    if not expression.strip():
        return "the expression is empty"
    try:
        jmespath.compile(expression)
    except JMESPathError as exc:
        # jmespath's messages end in a caret diagram that is useless on one line.
        lines = [line.strip() for line in str(exc).splitlines()]
        text = " ".join(line for line in lines if line and set(line) != {"^"})
        return (text or type(exc).__name__) + bare_number_hint(expression, exc)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        # The lexer and parser of jmespath raise bare errors for some odd input.
        return f"cannot parse the expression ({exc})"
    return None


def bare_number_hint(expression: str, error: JMESPathError) -> str:
    """A hint for the classic mistake ``amount > 100``: literals need backticks.

    Given when the parser stopped at a number and quoting the bare numbers makes
    the expression compile, so the suggestion shown is one that works
    (``foo.1`` gets no hint: backticks would not fix it).
    """
    fixed = expression
    for _ in range(_MAX_NUMBER_FIXES):
        if not isinstance(error, ParseError) or error.token_type != _NUMBER_KIND:
            return ""
        number = _NUMBER.match(fixed, error.lex_position)
        if number is None:
            return ""
        fixed = f"{fixed[: number.start()]}`{number.group()}`{fixed[number.end() :]}"
        try:
            jmespath.compile(fixed)
        except JMESPathError as again:
            error = again
            continue
        except (ValueError, TypeError, KeyError, IndexError):
            return ""
        return f"; a number literal needs backticks in JMESPath: {fixed}"
    return ""


def is_secret_reference(value: object) -> bool:
    """Whether ``value`` may sit in a sensitive field: a reference, not a literal."""
    return isinstance(value, str) and _SENSITIVE_OK.match(value) is not None


def secret_names_in(text: str) -> list[str]:
    """Names of every ``{{ secrets.NAME }}`` reference in ``text``, in order."""
    if "secrets" not in text:
        return []
    return SECRET_REFERENCE.findall(text)
