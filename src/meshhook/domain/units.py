"""The units a definition is compared and merged by.

- ``("node", id)``: a node's content without its position;
- ``("position", id)``: its position (layout is cosmetic, so apart);
- ``("edge", from, to, when)``: an edge by identity (``when`` ``""`` when absent);
- ``("setting", key)``: one top-level key of ``settings``;
- ``("definition", key)``: any other top-level key (only in invalid documents).
"""

from __future__ import annotations

from typing import Any

from meshhook.domain.canonical import json_equal

UnitKey = tuple[str, ...]
MISSING: Any = object()


def node_content(node: dict[str, Any]) -> dict[str, Any]:
    """The node without ``position``."""
    return {key: value for key, value in node.items() if key != "position"}


def edge_identity(edge: Any) -> UnitKey:
    """``("edge", from, to, when)``; non-objects get a key no real edge has."""
    if not isinstance(edge, dict):
        return ("edge", "\0invalid", repr(edge), "")
    when = edge.get("when")
    return ("edge", str(edge.get("from")), str(edge.get("to")), "" if when is None else str(when))


def units_of(definition: Any) -> dict[UnitKey, Any]:
    """Every unit of ``definition`` and its value."""
    units: dict[UnitKey, Any] = {}
    if not isinstance(definition, dict):
        return {("definition", ""): definition}
    for key, value in definition.items():
        if key not in ("nodes", "edges", "settings"):
            units[("definition", key)] = value
    nodes = definition.get("nodes")
    for node in nodes if isinstance(nodes, list) else ():
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            units[("node", node["id"])] = node_content(node)
            if "position" in node:
                units[("position", node["id"])] = node["position"]
    edges = definition.get("edges")
    for edge in edges if isinstance(edges, list) else ():
        units[edge_identity(edge)] = edge
    settings = definition.get("settings")
    if isinstance(settings, dict):
        for key, value in settings.items():
            units[("setting", key)] = value
    return units


def changed_units(base: Any, other: Any) -> set[UnitKey]:
    """Keys of the units that differ (added, removed or changed) from base to other."""
    a, b = units_of(base), units_of(other)
    return {
        key
        for key in a.keys() | b.keys()
        if not json_equal(a.get(key, MISSING), b.get(key, MISSING))
    }
