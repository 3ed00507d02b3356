"""Error outputs: an action node may have an edge `when: "error"`."""

from __future__ import annotations

from typing import Any

from meshhook.domain.validation import validate_definition


def flow(source_type: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {"id": "risky", "type": source_type, "config": config},
            {"id": "ok", "type": "terminate", "config": {}},
            {"id": "handler", "type": "terminate", "config": {"status": "failed"}},
        ],
        "edges": [
            {"from": "start", "to": "risky"},
            {"from": "risky", "to": "ok"},
            {"from": "risky", "to": "handler", "when": "error"},
        ],
        "settings": {},
    }


def test_transform_and_http_call_may_have_an_error_edge() -> None:
    for source_type, config in (
        ("transform", {"expression": "@"}),
        ("http_call", {"url": "https://api.example.com"}),
    ):
        report = validate_definition(flow(source_type, config))
        assert report.errors == [], (source_type, report.errors)


def test_other_nodes_have_no_error_output() -> None:
    report = validate_definition(flow("delay", {"duration_seconds": 5}))

    assert [(p.code, p.path) for p in report.errors] == [("edge.unknown_output", "/edges/2/when")]
