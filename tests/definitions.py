"""Small valid definitions for API tests."""

from __future__ import annotations

import copy
from typing import Any


def linear(url: str = "https://api.example.com/orders") -> dict[str, Any]:
    """manual → transform → http_call: complete, publishable."""
    return {
        "nodes": [
            {
                "id": "start",
                "type": "manual",
                "name": "Start",
                "config": {},
                "position": {"x": 0, "y": 0},
            },
            {
                "id": "shape",
                "type": "transform",
                "name": "Shape",
                "config": {"expression": "{id: id, total: total}"},
                "position": {"x": 200, "y": 0},
            },
            {
                "id": "send",
                "type": "http_call",
                "name": "Send",
                "config": {"method": "POST", "url": url},
                "position": {"x": 400, "y": 0},
            },
        ],
        "edges": [{"from": "start", "to": "shape"}, {"from": "shape", "to": "send"}],
        "settings": {"timeout_seconds": 60},
    }


def edited(definition: dict[str, Any], node_id: str, field: str, value: Any) -> dict[str, Any]:
    """A copy with one config field of one node changed."""
    copied = copy.deepcopy(definition)
    for node in copied["nodes"]:
        if node["id"] == node_id:
            node["config"][field] = value
    return copied
