"""Structured logging: JSON lines in production, readable lines on a terminal.

Every line carries the request id bound by the HTTP middleware (structlog
context variables), so one request's lines can be found together, and every
line is redacted (``domain/redaction.py``): e-mail addresses, card numbers,
tokens and the like never reach a log file, whoever logged them.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Literal

import structlog

from meshhook.domain.redaction import Redactor, redact_text

LogFormat = Literal["auto", "json", "console"]


_project_redactors: dict[str, Redactor] = {}
_project_lock = threading.Lock()


def use_project_patterns(project_key: str, patterns: Mapping[str, str]) -> None:
    """Redact the log lines that name ``project_key`` (the ``project`` field a
    project transaction binds) with its own patterns too: called by the
    redaction service whenever it loads or changes them, so this process uses
    what it last saw."""
    with _project_lock:
        if not patterns:
            _project_redactors.pop(project_key, None)
        elif project_key not in _project_redactors or {
            detector.kind: detector.pattern.pattern
            for detector in _project_redactors[project_key].patterns
        } != dict(patterns):
            _project_redactors[project_key] = Redactor.build(patterns=patterns)


def redact_event(
    _logger: object, _method: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    """Hide personal data and credentials in every string of a log line (and
    the project's own patterns when the line names a project)."""
    project = event.get("project")
    redactor = _project_redactors.get(project) if isinstance(project, str) else None
    hide = redact_text if redactor is None else redactor.text
    return {key: _redacted(value, hide) for key, value in event.items()}


def _redacted(value: object, hide: Callable[[str], str]) -> object:
    if isinstance(value, str):
        return hide(value)
    if isinstance(value, dict):
        return {key: _redacted(item, hide) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, hide) for item in value]
    return value


def configure_logging(log_format: LogFormat = "auto", level: str = "info") -> None:
    """Configure structlog and route stdlib logging (uvicorn, alembic) through it."""
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, redact_event, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_event,
                renderer,
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The HTTP middleware logs each request once, with its id; uvicorn's access
    # log would only repeat it without the id.
    logging.getLogger("uvicorn.access").disabled = True
