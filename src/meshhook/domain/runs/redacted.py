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
from meshhook.domain.runs.payloads import EVENT_METADATA
from meshhook.domain.runs.run import Run


def redact_run(run: Run, redactor: Redactor) -> Run:
    """``run`` as shown through ``redactor``, which also hides, wherever they
    appear, the values its pointers name in this run (an error message may quote
    one)."""
    view = run.view
    redactor = redactor.quoting(view.payloads())
    return replace(
        run,
        view=replace(
            view,
            input=redactor.value(view.input),
            output=redactor.value(view.output),
            error=redact_error(view.error, redactor),
            steps=[_step(step, redactor) for step in view.steps],
        ),
    )


def redact_event(event: RunEvent, redactor: Redactor) -> RunEvent:
    """Every key of the event's data that is not metadata is payload (the
    same split as sealing at rest: ``domain/runs/payloads.py``), the recorded
    HTTP ``request`` and ``response`` included."""
    data = event.data
    if data.keys() <= EVENT_METADATA:
        return event
    hidden = {key: _payload(key, value, redactor) for key, value in data.items()}
    return replace(event, data=hidden)


def _payload(key: str, value: Any, redactor: Redactor) -> Any:
    if key in EVENT_METADATA:
        return value
    return redact_error(value, redactor) if key == "error" else redactor.value(value)


def _step(step: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    shown = dict(step)
    for key in ("input", "output"):
        if key in shown:
            shown[key] = redactor.value(shown[key])
    if "error" in shown:
        shown["error"] = redact_error(shown["error"], redactor)
    return shown


def redact_error(error: Any, redactor: Redactor) -> Any:
    """An error's ``code`` stays readable (it is ours); its text and details
    are redacted like any payload."""
    if not isinstance(error, dict):
        return redactor.value(error)
    return {key: value if key == "code" else redactor.value(value) for key, value in error.items()}
