"""Deterministic workloads: valid definitions of N nodes and one-node edits.

A webhook trigger, then transform / http_call / branch / delay nodes with
realistic configs (about 200 bytes each), wired as a tree breadth-first so that
every node is reachable and every branch has both outputs. Same ``size`` and
``seed``, same bytes, on every machine.
"""

from __future__ import annotations

import copy
import random
from collections import deque
from typing import Any

SIZES = (10, 100, 1_000, 5_000)
_BODY_TYPES = ("transform", "http_call", "branch", "delay")
_WEIGHTS = (35, 35, 15, 15)
_FIELDS = ("id", "total", "currency", "customer.email", "items[0].sku", "shipping.country")
_HOSTS = ("api.example.com", "billing.example.net", "crm.example.org", "hooks.example.io")
_PATHS = ("orders", "invoices", "customers", "shipments", "refunds", "events")


def _config(kind: str, rng: random.Random, index: int) -> dict[str, Any]:
    if kind == "transform":
        a, b = rng.sample(_FIELDS, 2)
        return {"expression": f"{{a: {a}, b: {b}, total: sum(items[].price)}}"}
    if kind == "http_call":
        return {
            "method": rng.choice(("GET", "POST", "PUT", "PATCH")),
            "url": f"https://{rng.choice(_HOSTS)}/v{rng.randint(1, 3)}/{rng.choice(_PATHS)}"
            f"/{index}",
            "headers": {"Accept": "application/json"},
            "timeout_seconds": rng.choice((5, 10, 30, 60)),
        }
    if kind == "branch":
        field = rng.choice(("total", "score", "attempts", "items_count"))
        return {"condition": f"{field} > `{rng.randint(1, 5000)}`"}
    if rng.random() < 0.5:
        return {"duration_seconds": rng.randint(1, 86_400)}
    return {"until": f"order.ship_at_{index}"}


def definition(size: int, seed: int = 7) -> dict[str, Any]:
    """A complete, publishable definition of ``size`` nodes."""
    rng = random.Random(f"{size}/{seed}")
    nodes: list[dict[str, Any]] = [
        {
            "id": "n0",
            "type": "webhook",
            "name": "Incoming order",
            "config": {"methods": ["POST"]},
            "position": {"x": 0, "y": 0},
        }
    ]
    edges: list[dict[str, Any]] = []
    open_outputs: deque[tuple[str, str | None]] = deque([("n0", None)])
    for index in range(1, size):
        # The last nodes are never branches, so branch outputs left over can end there.
        kind = rng.choices(_BODY_TYPES, _WEIGHTS)[0]
        if index >= size - 2 and kind == "branch":
            kind = "transform"
        node_id = f"n{index}"
        source, when = open_outputs.popleft() if open_outputs else (f"n{index - 1}", None)
        edge: dict[str, Any] = {"from": source, "to": node_id}
        if when is not None:
            edge["when"] = when
        edges.append(edge)
        nodes.append(
            {
                "id": node_id,
                "type": kind,
                "name": f"{kind} {index}",
                "config": _config(kind, rng, index),
                "position": {"x": 260 * (index % 40), "y": 140 * (index // 40)},
            }
        )
        if kind == "branch":
            open_outputs.extend([(node_id, "true"), (node_id, "false")])
        else:
            open_outputs.append((node_id, None))
    last = nodes[-1]["id"]
    for source, when in open_outputs:
        if when is not None:
            edges.append({"from": source, "to": last, "when": when})
    return {"nodes": nodes, "edges": edges, "settings": {"timeout_seconds": 3600}}


def edit(base: dict[str, Any], step: int) -> dict[str, Any]:
    """``base`` with one node's config changed (which node depends on ``step``)."""
    changed = copy.deepcopy(base)
    set_edit(changed, step)
    return changed


def set_edit(definition: dict[str, Any], step: int) -> None:
    """Change one node's config in place: the node ``step`` picks, a value ``step`` makes."""
    nodes = definition["nodes"]
    node = nodes[1 + (step * 7919) % (len(nodes) - 1)] if len(nodes) > 1 else nodes[0]
    config = node["config"]
    kind = node["type"]
    if kind == "transform":
        config["expression"] = f"{{edit: `{step}`, total: sum(items[].price)}}"
    elif kind == "http_call":
        config["timeout_seconds"] = 1 + step % 300
    elif kind == "branch":
        config["condition"] = f"total > `{step}`"
    elif kind == "delay":
        config.pop("until", None)
        config["duration_seconds"] = 1 + step % 86_400
    else:
        node["name"] = f"Edited {step}"


def draft(size: int, seed: int = 7) -> dict[str, Any]:
    """A draft still under construction: :func:`definition` with every third
    transform and HTTP node's config emptied (a completeness problem each, ~230
    of them at 1,000 nodes, so a version carries more than the 200 shown)."""
    value = definition(size, seed)
    for index, node in enumerate(value["nodes"]):
        if index % 3 == 0 and node["type"] in ("transform", "http_call"):
            node["config"] = {}
    return value


# Engine workloads: trivial transforms, so the engine's own cost shows.


def chain(steps: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "manual", "config": {}}]
    edges = []
    previous = "start"
    for index in range(steps):
        node_id = f"t{index}"
        nodes.append({"id": node_id, "type": "transform", "config": {"expression": "@"}})
        edges.append({"from": previous, "to": node_id})
        previous = node_id
    return {"nodes": nodes, "edges": edges, "settings": {}}


def fan_out(width: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "manual", "config": {}}]
    edges = []
    for index in range(width):
        nodes.append({"id": f"b{index}", "type": "transform", "config": {"expression": "@"}})
        edges.append({"from": "start", "to": f"b{index}"})
        edges.append({"from": f"b{index}", "to": "join"})
    nodes.append({"id": "join", "type": "transform", "config": {"expression": "keys(@)"}})
    return {"nodes": nodes, "edges": edges, "settings": {}}
