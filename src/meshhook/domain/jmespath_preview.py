"""Evaluating a JMESPath expression for the editor's preview, bounded.

The editor shows what a transform, branch, terminate output or ``{{ input.… }}``
placeholder gives on a sample input as the user types. It is evaluated here by
:func:`meshhook.domain.expressions.search`, the function the engine uses, so
the preview and a run agree. Everything is bounded: the expression's length and
nesting, the sample's size (by the caller), the time spent and the result's size.
"""

from __future__ import annotations

import time
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from meshhook.domain.errors import PayloadTooLarge, Problem, ValidationFailed
from meshhook.domain.expressions import (
    ExpressionTimeout,
    error_position,
    error_text,
    jmespath_error,
    search,
)

MAX_SAMPLE_BYTES = 256 * 1024
"""The largest sample input (as JSON) a preview evaluates on."""
MAX_RESULT_BYTES = 256 * 1024
"""The largest result (as JSON, roughly) a preview sends back."""
TIME_LIMIT_SECONDS = 0.5
"""How long one evaluation may take."""


def evaluate(
    expression: str,
    data: Any,
    *,
    seconds: float = TIME_LIMIT_SECONDS,
    max_result_bytes: int = MAX_RESULT_BYTES,
) -> Any:
    """The value of ``expression`` on ``data``; raises :class:`ValidationFailed`
    (the problem's ``position`` is the character the parser stopped at, when it
    knows one) or :class:`PayloadTooLarge` for a result that is too large."""
    compile_error = jmespath_error(expression)
    if compile_error is not None:
        position = _parse_position(expression)
        raise _invalid("expression.invalid", compile_error, position)
    try:
        result = search(expression, data, deadline=time.monotonic() + seconds)
    except ExpressionTimeout:
        raise _invalid(
            "expression.timeout", f"the expression took longer than {seconds:g} s", None
        ) from None
    except JMESPathError as exc:
        raise _invalid("expression.failed", error_text(exc), error_position(exc)) from None
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        raise _invalid(
            "expression.failed", f"cannot evaluate the expression ({exc})", None
        ) from None
    if not fits(result, max_result_bytes):
        raise PayloadTooLarge(
            f"the result is larger than {max_result_bytes} bytes",
            errors=[Problem("/expression", "result.too_large", "the result is too large")],
        )
    return result


def _parse_position(expression: str) -> int | None:
    try:
        jmespath.compile(expression)
    except JMESPathError as exc:
        return error_position(exc)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError):
        return None
    return None  # refused for its length or nesting: no one position


def _invalid(code: str, message: str, position: int | None) -> ValidationFailed:
    extra: dict[str, Any] = {"code": code}
    if position is not None:
        extra["position"] = position
    return ValidationFailed(message, errors=[Problem("/expression", code, message)], extra=extra)


def fits(value: Any, limit: int) -> bool:
    """Whether ``value`` as JSON is about ``limit`` bytes or less, found without
    serialising it: a result may share one large list many times over."""
    budget = limit
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            budget -= len(item) + 3
        elif isinstance(item, dict):
            budget -= 2 + len(item)
            for key, inner in item.items():
                budget -= len(str(key)) + 3
                stack.append(inner)
        elif isinstance(item, list):
            budget -= 2 + len(item)
            stack.extend(item)
        else:
            budget -= 8
        if budget < 0:
            return False
    return True
