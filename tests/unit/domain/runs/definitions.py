"""Small definitions for the engine's tests."""

from __future__ import annotations

from typing import Any


def node(node_id: str, type: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": type, "config": config}


def edge(source: str, target: str, when: str | None = None) -> dict[str, Any]:
    raw = {"from": source, "to": target}
    if when is not None:
        raw["when"] = when
    return raw


def definition(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], **settings: Any) -> Any:
    return {"nodes": nodes, "edges": edges, "settings": settings}


def chain(*expressions: str) -> dict[str, Any]:
    """manual -> transform -> transform -> ..."""
    nodes = [node("start", "manual")]
    edges = []
    previous = "start"
    for index, expression in enumerate(expressions):
        nodes.append(node(f"t{index}", "transform", expression=expression))
        edges.append(edge(previous, f"t{index}"))
        previous = f"t{index}"
    return definition(nodes, edges)
