"""``transform``: reshape the data with a JMESPath expression."""

from __future__ import annotations

from meshhook.domain.node_types.base import NodeType

TRANSFORM = NodeType(
    name="transform",
    title="Transform",
    description="Evaluates a JMESPath expression on its input; the result is its output.",
    category="action",
    error_output=True,
    config_schema={
        "type": "object",
        "title": "Transform",
        "additionalProperties": False,
        "required": ["expression"],
        "properties": {
            "expression": {
                "type": "string",
                "title": "Expression",
                "description": "JMESPath evaluated against the node input.",
                "minLength": 1,
                "examples": ["{id: order.id, total: sum(order.items[].price)}"],
            },
        },
    },
    jmespath_fields=("/expression",),
)
