"""``terminate``: end the run with a status and an optional output."""

from __future__ import annotations

from meshhook.domain.node_types.base import NodeType

TERMINATE = NodeType(
    name="terminate",
    title="Terminate",
    description="Ends the run as succeeded or failed; nothing may follow it.",
    category="logic",
    outputs=(),
    config_schema={
        "type": "object",
        "title": "Terminate",
        "additionalProperties": False,
        "properties": {
            "status": {
                "type": "string",
                "title": "Run status",
                "enum": ["succeeded", "failed"],
                "default": "succeeded",
            },
            "output": {
                "type": "string",
                "title": "Run output",
                "description": "JMESPath evaluated on the input; its result is the run output.",
                "minLength": 1,
            },
        },
    },
    jmespath_fields=("/output",),
)
