"""``http_call``: one HTTP request, with retries and optional authentication."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshhook.domain.limits import MAX_RETRY_STATUSES
from meshhook.domain.node_types.base import ConfigIssue, NodeType, credential_patterns
from meshhook.domain.runs.placeholders import placeholder_issues

HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
MAX_TIMEOUT_SECONDS = 300
# http(s)://... or a URL starting with a {{ ... }} placeholder, with placeholders
# (which may hold spaces: {{ input.order.id }}) anywhere and no other whitespace.
URL_PATTERN = r"^(?:https?://|\{\{[^{}]+\}\})(?:[^\s{}]|\{\{[^{}]+\}\})*$"
HEADER_NAME_PATTERN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
_NAME_MESSAGE = {"pattern": "must be a header name (letters, digits and -, no spaces)"}


def _auth_requires(kind: str, *fields: str) -> dict[str, Any]:
    return {
        "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
        "then": {"required": list(fields)},
    }


def _secret(title: str) -> dict[str, Any]:
    return {
        "type": "string",
        "title": title,
        "description": "A secret reference: {{ secrets.NAME }}.",
        "minLength": 1,
        "writeOnly": True,
    }


def _check(config: Mapping[str, Any]) -> list[ConfigIssue]:
    return [
        ConfigIssue(pointer, "config.placeholder", message)
        for pointer, message in placeholder_issues(config)
    ]


HTTP_CALL = NodeType(
    name="http_call",
    title="HTTP request",
    description="Sends an HTTP request; the response (status, headers, body) is its output.",
    category="action",
    error_output=True,
    config_schema={
        "type": "object",
        "title": "HTTP request",
        "additionalProperties": False,
        "required": ["url"],
        "properties": {
            "method": {
                "type": "string",
                "title": "Method",
                "enum": HTTP_METHODS,
                "default": "GET",
            },
            "url": {
                "type": "string",
                "title": "URL",
                "description": "http(s) URL; may contain {{ ... }} placeholders.",
                "pattern": URL_PATTERN,
                "x-messages": {
                    "pattern": "must start with http:// or https:// (or a {{ ... }} placeholder)"
                },
            },
            "headers": {
                "type": "object",
                "title": "Headers",
                "propertyNames": {"pattern": HEADER_NAME_PATTERN, "x-messages": _NAME_MESSAGE},
                "additionalProperties": {"type": "string"},
                "default": {},
            },
            "query": {
                "type": "object",
                "title": "Query parameters",
                "additionalProperties": {"type": "string"},
                "default": {},
            },
            "body": {
                "title": "Body",
                "description": "Any JSON value, sent as application/json.",
            },
            "timeout_seconds": {
                "type": "number",
                "title": "Timeout (seconds)",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT_SECONDS,
                "default": 30,
            },
            "retry": {
                "type": "object",
                "title": "Retry",
                "additionalProperties": False,
                "properties": {
                    "max_attempts": {
                        "type": "integer",
                        "title": "Maximum attempts",
                        "description": "1 means no retry.",
                        "minimum": 1,
                        "maximum": 10,
                        "default": 1,
                    },
                    "backoff_seconds": {
                        "type": "number",
                        "title": "Backoff (seconds)",
                        "description": "Wait before the first retry; doubles each time.",
                        "minimum": 0,
                        "default": 1,
                    },
                    "retry_on": {
                        "type": "array",
                        "title": "Retry on status",
                        "description": "Response statuses that are retried "
                        "(network errors and timeouts always are).",
                        "maxItems": MAX_RETRY_STATUSES,
                        "items": {"type": "integer", "minimum": 100, "maximum": 599},
                        "uniqueItems": True,
                        "default": [429, 502, 503, 504],
                    },
                },
            },
            "auth": {
                "type": "object",
                "title": "Authentication",
                "additionalProperties": False,
                "required": ["type"],
                "properties": {
                    "type": {"type": "string", "enum": ["bearer", "basic", "header"]},
                    "token": _secret("Bearer token"),
                    "username": {"type": "string", "title": "Username", "minLength": 1},
                    "password": _secret("Password"),
                    "header_name": {
                        "type": "string",
                        "title": "Header name",
                        "pattern": HEADER_NAME_PATTERN,
                        "x-messages": _NAME_MESSAGE,
                    },
                    "value": _secret("Header value"),
                },
                "allOf": [
                    _auth_requires("bearer", "token"),
                    _auth_requires("basic", "username", "password"),
                    _auth_requires("header", "header_name", "value"),
                ],
            },
        },
    },
    sensitive_fields=(
        "/auth/token",
        "/auth/password",
        "/auth/value",
        *credential_patterns("/headers"),
        *credential_patterns("/query"),
    ),
    check_config=_check,
    destination_field="/url",
)
