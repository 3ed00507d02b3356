"""``schedule``: runs start at the times of a cron expression (in a time zone)
or at a fixed interval; workers fire each due time exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshhook.domain.node_types.base import ConfigIssue, NodeType
from meshhook.domain.schedules import (
    DEFAULT_MAX_CATCH_UP,
    DEFAULT_TIMEZONE,
    MAX_CATCH_UP,
    MAX_EVERY_SECONDS,
    cron_problem,
    timezone_problem,
)


def _check(config: Mapping[str, Any]) -> list[ConfigIssue]:
    issues = []
    cron = config.get("cron")
    if isinstance(cron, str) and cron.strip():
        problem = cron_problem(cron)
        if problem is not None:
            issues.append(
                ConfigIssue("/cron", "config.cron", f"{cron!r} is not a cron expression: {problem}")
            )
    zone = config.get("timezone")
    if isinstance(zone, str) and zone:
        problem = timezone_problem(zone)
        if problem is not None:
            issues.append(ConfigIssue("/timezone", "config.timezone", problem))
    return issues


SCHEDULE = NodeType(
    name="schedule",
    title="Schedule",
    description="Starts a run at the times of a cron expression (in a time zone) or every "
    "N seconds, for the workflow's published version (alias production first).",
    category="trigger",
    is_trigger=True,
    max_inputs=0,
    config_schema={
        "type": "object",
        "title": "Schedule trigger",
        "additionalProperties": False,
        "properties": {
            "cron": {
                "type": "string",
                "title": "Cron expression",
                "description": "Five fields: minute hour day-of-month month day-of-week "
                "(0 9 * * 1-5 = weekdays at 09:00).",
                "minLength": 1,
                "maxLength": 200,
                "examples": ["0 9 * * 1-5"],
            },
            "timezone": {
                "type": "string",
                "title": "Time zone",
                "description": "The IANA time zone the cron expression is read in.",
                "minLength": 1,
                "maxLength": 64,
                "default": DEFAULT_TIMEZONE,
                "examples": ["Europe/Berlin"],
            },
            "every_seconds": {
                "type": "integer",
                "title": "Every (seconds)",
                "description": "Fire at a fixed interval instead: at the multiples of it "
                "since 1970-01-01T00:00Z.",
                "minimum": 1,
                "maximum": MAX_EVERY_SECONDS,
                "examples": [3600],
            },
            "catch_up": {
                "type": "string",
                "title": "Catch up",
                "description": "Fires missed while no worker ran: none (skip them), "
                "latest (run the most recent one) or all (run each, up to max_catch_up).",
                "enum": ["none", "latest", "all"],
                "default": "latest",
            },
            "max_catch_up": {
                "type": "integer",
                "title": "Most missed fires to run",
                "description": "With catch_up all: at most this many, the latest ones.",
                "minimum": 1,
                "maximum": MAX_CATCH_UP,
                "default": DEFAULT_MAX_CATCH_UP,
            },
        },
        "oneOf": [{"required": ["cron"]}, {"required": ["every_seconds"]}],
        "x-messages": {"oneOf": "set exactly one of cron or every_seconds"},
    },
    check_config=_check,
)
