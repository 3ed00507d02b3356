"""``delay``: wait for a duration or until a point in time."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from meshhook.domain.expressions import jmespath_error
from meshhook.domain.node_types.base import ConfigIssue, NodeType

MAX_DELAY_SECONDS = 30 * 24 * 3600
# A JMESPath expression cannot start with four digits and a dash, so this prefix
# tells a timestamp from an expression without guessing.
_LOOKS_LIKE_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _check(config: Mapping[str, Any]) -> list[ConfigIssue]:
    until = config.get("until")
    if not isinstance(until, str) or not until.strip():
        return []  # absent, or already reported by the config schema
    if _LOOKS_LIKE_TIMESTAMP.match(until):
        try:
            moment = datetime.fromisoformat(until)
        except ValueError:
            return [ConfigIssue("/until", "config.timestamp", f"{until!r} is not ISO-8601")]
        if moment.tzinfo is None:
            return [
                ConfigIssue(
                    "/until",
                    "config.timestamp",
                    f"{until!r} has no time zone; add 'Z' or an offset such as +02:00",
                )
            ]
        return []
    error = jmespath_error(until)
    if error is not None:
        return [
            ConfigIssue(
                "/until",
                "config.jmespath",
                f"until is neither an ISO-8601 timestamp nor valid JMESPath: {error}",
            )
        ]
    return []


DELAY = NodeType(
    name="delay",
    title="Delay",
    description="Pauses the run for a duration, or until a timestamp (fixed or computed).",
    category="logic",
    config_schema={
        "type": "object",
        "title": "Delay",
        "additionalProperties": False,
        "properties": {
            "duration_seconds": {
                "type": "number",
                "title": "Duration (seconds)",
                "description": "How long to wait; at most 30 days.",
                "exclusiveMinimum": 0,
                "maximum": MAX_DELAY_SECONDS,
                # No "default": a delay without duration_seconds or until is an
                # error, so a default would promise what validation refuses.
                "examples": [60],
            },
            "until": {
                "type": "string",
                "title": "Until",
                "description": "An ISO-8601 timestamp with a time zone "
                "(2030-01-31T09:00:00Z), or JMESPath giving one (order.ship_at).",
                "minLength": 1,
            },
        },
        "oneOf": [{"required": ["duration_seconds"]}, {"required": ["until"]}],
        "x-messages": {"oneOf": "set exactly one of duration_seconds or until"},
    },
    check_config=_check,
)
