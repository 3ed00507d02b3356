"""Runs as viewers and editors see them: personal data and credentials in
payloads hidden (``domain/redaction.py``), and the workflow's own
``settings.redact`` pointers applied to every payload (the run's input and
output, each step's input, output and error, the HTTP requests and responses
recorded in events). Metadata (ids, statuses, times, node ids, error codes)
is left as it is. Pure."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from meshhook.domain.redaction import Redactor
from meshhook.domain.runs.events import RunEvent
from meshhook.domain.runs.run import Run

# Event data keys that hold payloads (the rest is metadata: attempt, due times...).
_EVENT_PAYLOADS = ("input", "output", "error", "record", "data")


def redact_run(run: Run, redactor: Redactor) -> Run:
    view = run.view
    return replace(
        run,
        view=replace(
            view,
            input=redactor.value(view.input),
            output=redactor.value(view.output),
            error=_error(view.error, redactor),
            steps=[_step(step, redactor) for step in view.steps],
        ),
    )


def redact_event(event: RunEvent, redactor: Redactor) -> RunEvent:
    data = event.data
    if not any(key in data for key in _EVENT_PAYLOADS):
        return event
    hidden = dict(data)
    for key in _EVENT_PAYLOADS:
        if key in hidden:
            hidden[key] = (
                _error(hidden[key], redactor) if key == "error" else redactor.value(hidden[key])
            )
    return replace(event, data=hidden)


def _step(step: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    shown = dict(step)
    for key in ("input", "output"):
        if key in shown:
            shown[key] = redactor.value(shown[key])
    if "error" in shown:
        shown["error"] = _error(shown["error"], redactor)
    return shown


def _error(error: Any, redactor: Redactor) -> Any:
    """An error's ``code`` stays readable (it is ours); its text and details
    are redacted like any payload."""
    if not isinstance(error, dict):
        return redactor.value(error)
    return {key: value if key == "code" else redactor.value(value) for key, value in error.items()}
