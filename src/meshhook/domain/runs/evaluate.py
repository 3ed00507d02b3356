"""The pure node types evaluated on their input: triggers, ``transform``,
``branch``, ``terminate`` and the start of a ``delay``.

They read nothing but their config, their input and ``now`` (for a delay's due
time, which is then recorded), so a worker may run a chain of them and commit
their events together, and replay recomputes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jmespath.exceptions import JMESPathError

from meshhook.domain.expressions import search
from meshhook.domain.runs.events import error_data
from meshhook.domain.runs.graph import Node

EFFECT_TYPES = frozenset({"http_call"})
"""Node types with side effects: carried out by an executor in ``engine/``, each
attempt its own durable boundary."""


@dataclass(frozen=True, slots=True)
class Succeeded:
    output: Any
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    error: dict[str, Any]
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class TimerStarted:
    due_at: datetime


Outcome = Succeeded | Failed | TimerStarted


def evaluate(node: Node, value: Any, now: datetime) -> Outcome:
    """The outcome of a pure node on its input ``value``."""
    if node.is_trigger:
        return Succeeded(value)
    evaluator = _EVALUATORS.get(node.type)
    if evaluator is None:
        raise ValueError(f"{node.type!r} is not a pure node type")
    return evaluator(node, value, now)


def _transform(node: Node, value: Any, now: datetime) -> Outcome:
    result = _search(node, "/expression", value)
    return result if isinstance(result, Failed) else Succeeded(result.output)


def _branch(node: Node, value: Any, now: datetime) -> Outcome:
    result = _search(node, "/condition", value)
    if isinstance(result, Failed):
        return result
    return Succeeded(value, label="true" if is_truthy(result.output) else "false")


def _terminate(node: Node, value: Any, now: datetime) -> Outcome:
    status = str(node.config.get("status", "succeeded"))
    if node.config.get("output") is None:
        return Succeeded(value, label=status)
    result = _search(node, "/output", value)
    return result if isinstance(result, Failed) else Succeeded(result.output, label=status)


def _delay(node: Node, value: Any, now: datetime) -> Outcome:
    duration = node.config.get("duration_seconds")
    if duration is not None:
        return TimerStarted(now + timedelta(seconds=float(duration)))
    until = str(node.config.get("until", ""))
    if until[:4].isdigit():
        return _due(node, until)
    result = _search(node, "/until", value)
    if isinstance(result, Failed):
        return result
    if not isinstance(result.output, str):
        return _expression_failed(
            node, "/until", f"until gave {type(result.output).__name__}, not a timestamp"
        )
    return _due(node, result.output)


def _due(node: Node, text: str) -> Outcome:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return _expression_failed(node, "/until", f"{text[:100]!r} is not an ISO-8601 timestamp")
    if moment.tzinfo is None:
        return _expression_failed(node, "/until", f"{text[:100]!r} has no time zone")
    return TimerStarted(moment)


def _search(node: Node, field: str, value: Any) -> Succeeded | Failed:
    expression = str(node.config.get(field.lstrip("/"), ""))
    try:
        return Succeeded(search(expression, value))
    except JMESPathError as exc:
        return _expression_failed(node, field, _one_line(str(exc)))
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        return _expression_failed(node, field, f"cannot evaluate the expression ({exc})")


def _expression_failed(node: Node, field: str, message: str) -> Failed:
    return Failed(error_data("expression.failed", message, pointer=node.pointer(field)))


def _one_line(message: str) -> str:
    lines = (line.strip() for line in message.splitlines())
    return " ".join(line for line in lines if line and set(line) != {"^"})


def is_truthy(value: Any) -> bool:
    """JMESPath truthiness: false, null and empty strings, lists and objects are
    false; everything else (0 included) is true."""
    if value is None or value is False:
        return False
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True


_EVALUATORS = {
    "transform": _transform,
    "branch": _branch,
    "terminate": _terminate,
    "delay": _delay,
}
