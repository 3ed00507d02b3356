"""``manual``: a run started by a person or a script, with an optional input schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshhook.domain import json_schema, pointers
from meshhook.domain.node_types.base import ConfigIssue, NodeType


def _check(config: Mapping[str, Any]) -> list[ConfigIssue]:
    schema = config.get("input_schema")
    if not isinstance(schema, dict):
        return []  # absent, or already reported by the config schema
    try:
        json_schema.check_schema(schema)
    except json_schema.SchemaError as exc:
        return [
            ConfigIssue(
                pointers.join("/input_schema", *exc.absolute_path),
                "config.input_schema",
                f"input_schema is not a valid JSON Schema: {exc.message}",
            )
        ]
    return []


MANUAL = NodeType(
    name="manual",
    title="Manual",
    description="Starts a run on demand (UI button, CLI or API), with an optional input.",
    category="trigger",
    is_trigger=True,
    max_inputs=0,
    config_schema={
        "type": "object",
        "title": "Manual trigger",
        "additionalProperties": False,
        "properties": {
            "input_schema": {
                "type": "object",
                "title": "Input schema",
                "description": "JSON Schema (draft 2020-12) the run input must match.",
            },
        },
    },
    check_config=_check,
)
