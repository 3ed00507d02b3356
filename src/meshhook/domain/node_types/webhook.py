"""``webhook``: a run starts when an HTTP request arrives (optionally HMAC-signed
or carrying a JWT); limits and an optional body schema (docs/webhooks.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshhook.domain import json_schema, pointers
from meshhook.domain.node_types.base import ConfigIssue, NodeType
from meshhook.domain.webhooks import DEFAULT_BURST, DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_PER_SECOND

JWT_ALGORITHMS = ("HS256", "RS256", "ES256")

HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
PATH_PATTERN = r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$"


def _one_check(config: Mapping[str, Any]) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    if "hmac_secret" in config and "jwt" in config:
        issues.append(
            ConfigIssue("/jwt", "config.webhook_checks", "use hmac_secret or jwt, not both")
        )
    schema = config.get("body_schema")
    if isinstance(schema, dict):
        try:
            json_schema.check_schema(schema)
        except json_schema.SchemaError as exc:
            issues.append(
                ConfigIssue(
                    pointers.join("/body_schema", *exc.absolute_path),
                    "config.body_schema",
                    f"body_schema is not a valid JSON Schema: {exc.message}",
                )
            )
    return issues


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
            "jwt": {
                "type": "object",
                "title": "JWT bearer tokens",
                "description": "Instead of an HMAC signature: requests carry "
                "Authorization: Bearer <JWT>, checked with this key (exp required; "
                "nbf, iss and aud checked).",
                "additionalProperties": False,
                "required": ["algorithm", "key"],
                "properties": {
                    "algorithm": {"type": "string", "enum": list(JWT_ALGORITHMS)},
                    "key": {
                        "type": "string",
                        "title": "Key",
                        "description": "A secret reference: the HS256 shared secret, or the "
                        "RS256/ES256 public key (PEM).",
                        "minLength": 1,
                        "writeOnly": True,
                    },
                    "issuer": {"type": "string", "minLength": 1, "maxLength": 500},
                    "audience": {"type": "string", "minLength": 1, "maxLength": 500},
                    "leeway_seconds": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": 300,
                        "default": 0,
                    },
                },
            },
            "max_body_bytes": {
                "type": "integer",
                "title": "Largest body (bytes)",
                "description": "Larger requests get 413 (default 1 MiB; at most the "
                "server's MESHHOOK_MAX_BODY_BYTES).",
                "minimum": 1,
                "maximum": 64 * 1024 * 1024,
                "default": DEFAULT_MAX_BODY_BYTES,
            },
            "rate_per_second": {
                "type": "number",
                "title": "Requests per second",
                "description": "Token-bucket refill rate; beyond it requests get 429.",
                "exclusiveMinimum": 0,
                "maximum": 100000,
                "default": DEFAULT_RATE_PER_SECOND,
            },
            "burst": {
                "type": "integer",
                "title": "Burst",
                "description": "Requests accepted at once before the rate applies.",
                "minimum": 1,
                "maximum": 100000,
                "default": DEFAULT_BURST,
            },
            "body_schema": {
                "type": "object",
                "title": "Body schema",
                "description": "A JSON Schema the (JSON) body must match; else 422.",
            },
        },
    },
    sensitive_fields=("/hmac_secret", "/jwt/key"),
    check_config=_one_check,
)
