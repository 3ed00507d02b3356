"""``webhook``: a run starts when an HTTP request arrives (optionally HMAC-signed)."""

from __future__ import annotations

from meshhook.domain.node_types.base import NodeType

HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
PATH_PATTERN = r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$"

WEBHOOK = NodeType(
    name="webhook",
    title="Webhook",
    description="Starts a run when an HTTP request arrives at the workflow's webhook URL.",
    category="trigger",
    is_trigger=True,
    max_inputs=0,
    config_schema={
        "type": "object",
        "title": "Webhook trigger",
        "additionalProperties": False,
        "properties": {
            "path": {
                "type": "string",
                "title": "Path",
                "description": "Last segment of the webhook URL (a lowercase slug); "
                "defaults to the workflow key.",
                "pattern": PATH_PATTERN,
                "x-messages": {"pattern": "must be lowercase letters, digits, '-' or '_'"},
            },
            "methods": {
                "type": "array",
                "title": "Accepted methods",
                "description": "HTTP methods that start a run; others get 405.",
                "maxItems": len(HTTP_METHODS),
                "items": {"type": "string", "enum": HTTP_METHODS},
                "minItems": 1,
                "uniqueItems": True,
                "default": ["POST"],
            },
            "hmac_secret": {
                "type": "string",
                "title": "HMAC secret",
                "description": "A secret reference such as {{ secrets.WEBHOOK_SECRET }}; "
                "when set, requests must carry a valid HMAC-SHA256 signature of the body.",
                "minLength": 1,
                "writeOnly": True,
            },
        },
    },
    sensitive_fields=("/hmac_secret",),
)
