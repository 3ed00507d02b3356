"""Expressions inside node configs: JMESPath and ``{{ secrets.NAME }}`` references."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import jmespath
from jmespath.exceptions import JMESPathError, ParseError
from jmespath.visitor import TreeInterpreter

if TYPE_CHECKING:
    from jmespath.visitor import _TreeNode

from meshhook.domain.bounded_cache import BoundedCache
from meshhook.domain.limits import (
    EXPRESSION_CACHE_BYTES,
    MAX_EXPRESSION_LENGTH,
    MAX_EXPRESSION_NESTING,
)

REFERENCE_NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]{0,127}"
# One reference anywhere in a string; whitespace inside the braces is tolerated.
SECRET_REFERENCE = re.compile(r"\{\{\s*secrets\.(" + REFERENCE_NAME_PATTERN + r")\s*\}\}")
# What a sensitive field may hold: exactly one reference, optionally after an HTTP
# auth scheme word, because "Bearer {{ secrets.X }}" carries no literal credential.
_SENSITIVE_OK = re.compile(
    r"^(?:(?:Bearer|Basic|Token)\s+)?\{\{\s*secrets\.(" + REFERENCE_NAME_PATTERN + r")\s*\}\}$"
)
# A JSON number as written in an expression (jmespath's lexer stops at the dot).
# Only JSON's spelling, standing alone: `0000` or `1x` inside backticks would be
# read as a (deprecated) string literal, not a number.
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])")
_MAX_NUMBER_FIXES = 20
_NUMBER_KIND = "NUMBER"  # how jmespath names the type of a number token

# Answers by expression text. Every key is at most MAX_EXPRESSION_LENGTH
# characters (longer text is refused before it gets here), and the whole cache
# is bounded by bytes, so attacker-sized strings are never kept.
_ANSWERS: BoundedCache[str, str | None] = BoundedCache(
    max_entries=8_192,
    max_bytes=EXPRESSION_CACHE_BYTES,
    max_entry_bytes=4 * MAX_EXPRESSION_LENGTH + 1_024,
)
_QUOTES = frozenset("'\"`")
_OPENING = frozenset("([{")
_CLOSING = frozenset(")]}")


def _nesting_error(expression: str) -> str | None:
    """Why ``expression`` nests too deeply, or ``None``: jmespath's parser is
    recursive, so ``(`` x 600 used to end in a RecursionError (a 500)."""
    depth = 0
    quote = ""
    escaped = False
    for position, char in enumerate(expression, start=1):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in _QUOTES:
            quote = char
        elif char in _OPENING:
            depth += 1
            if depth > MAX_EXPRESSION_NESTING:
                return (
                    f"brackets are nested more than {MAX_EXPRESSION_NESTING} levels deep "
                    f"(at character {position})"
                )
        elif char in _CLOSING and depth:
            depth -= 1
    return None


def _shortened(text: str) -> str:
    return text if len(text) <= 200 else text[:199] + "…"


def _compile_error(expression: str) -> str | None:
    try:
        jmespath.compile(expression)
    except JMESPathError as exc:
        # jmespath's messages end in a caret diagram that is useless on one line.
        lines = [line.strip() for line in str(exc).splitlines()]
        text = " ".join(line for line in lines if line and set(line) != {"^"})
        # The message quotes the whole expression; the problem's pointer says where.
        text = text.split(', for expression: "', 1)[0]
        return (_shortened(text) or type(exc).__name__) + bare_number_hint(expression, exc)
    except RecursionError:
        # Chains of projections (a[*][*]...) recurse without brackets nesting.
        return "the expression is nested too deeply"
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        # The lexer and parser of jmespath raise bare errors for some odd input.
        return f"cannot parse the expression ({_shortened(str(exc))})"
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


def jmespath_error(expression: str) -> str | None:
    """Why ``expression`` does not compile as JMESPath, or ``None`` when it does.

    Text longer than ``MAX_EXPRESSION_LENGTH`` or nested deeper than
    ``MAX_EXPRESSION_NESTING`` is refused before compiling. Answers are cached
    by text: large definitions repeat the same expressions, and compiling is the
    slowest part of validating a transform or branch node.
    """
    if len(expression) > MAX_EXPRESSION_LENGTH:
        return (
            f"the expression is {len(expression)} characters long; "
            f"the limit is {MAX_EXPRESSION_LENGTH}"
        )
    held, answer = _ANSWERS.lookup(expression)
    if held:
        return answer
    if not expression.strip():
        answer = "the expression is empty"
    else:
        answer = _nesting_error(expression) or _compile_error(expression)
    _ANSWERS.put(expression, answer, 2 * len(expression) + 2 * len(answer or ""))
    return answer


def is_secret_reference(value: object) -> bool:
    """Whether ``value`` may sit in a sensitive field: a reference, not a literal."""
    return isinstance(value, str) and _SENSITIVE_OK.match(value) is not None


def secret_names_in(text: str) -> list[str]:
    """Names of every ``{{ secrets.NAME }}`` reference in ``text``, in order."""
    if "secrets" not in text:
        return []
    return SECRET_REFERENCE.findall(text)


class ExpressionTimeout(Exception):
    """Evaluating an expression took longer than its deadline allowed."""


class _DeadlineInterpreter(TreeInterpreter):
    """jmespath's interpreter, checking a monotonic deadline every few hundred
    nodes visited (functions such as ``sort_by`` visit through ``visit`` too)."""

    _EVERY = 256

    def __init__(self, deadline: float) -> None:
        super().__init__()
        self._deadline = deadline
        self._visits = 0

    def visit(self, node: _TreeNode, *args: Any, **kwargs: Any) -> Any:
        self._visits += 1
        if self._visits % self._EVERY == 0 and time.monotonic() > self._deadline:
            raise ExpressionTimeout
        return super().visit(node, *args, **kwargs)


def search(expression: str, value: Any, *, deadline: float | None = None) -> Any:
    """JMESPath ``expression`` on ``value``: the one evaluation the engine
    (transform, branch, terminate, delay, ``{{ input.… }}``) and the editor's
    preview (``POST /api/v1/jmespath/evaluate``) share.

    Raises jmespath's errors (``ParseError`` and ``LexerError`` carry
    ``lex_position``) and, past ``deadline`` (a ``time.monotonic()`` value),
    :class:`ExpressionTimeout`.
    """
    parsed = jmespath.compile(expression)
    if deadline is None:
        return parsed.search(value)
    return _DeadlineInterpreter(deadline).visit(parsed.parsed, value)


def error_text(error: BaseException) -> str:
    """jmespath's message on one line: without the caret diagram and without
    the quoted expression (the position says where)."""
    lines = (line.strip() for line in str(error).splitlines())
    text = " ".join(line for line in lines if line and set(line) != {"^"})
    return text.split(', for expression: "', 1)[0] or type(error).__name__


def error_position(error: BaseException) -> int | None:
    """The character offset a parse or lex error points at, when it has one."""
    position = getattr(error, "lex_position", None)
    return position if isinstance(position, int) and position >= 0 else None
