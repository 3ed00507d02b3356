"""``branch``: route to the ``true`` or the ``false`` output by a JMESPath condition."""

from __future__ import annotations

from meshhook.domain.node_types.base import NodeType

BRANCH = NodeType(
    name="branch",
    title="Branch",
    description="Evaluates a JMESPath condition; follows the edges marked "
    '`when: "true"` when it is truthy, else those marked `when: "false"`.',
    category="logic",
    outputs=("true", "false"),
    config_schema={
        "type": "object",
        "title": "Branch",
        "additionalProperties": False,
        "required": ["condition"],
        "properties": {
            "condition": {
                "type": "string",
                "title": "Condition",
                "description": "JMESPath; JMESPath truthiness decides the output.",
                "minLength": 1,
                "examples": ["amount > `1000`"],
            },
        },
    },
    jmespath_fields=("/condition",),
)
