"""Hypothesis strategies: valid definitions and edits that keep them valid.

Validity by construction: edges only go from an earlier node to a later one in
list order (so the graph is acyclic), branch edges carry ``when``, nothing leaves
a terminate node, and node ids are unique.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

IDS = st.from_regex(r"[a-z][a-z0-9_-]{0,6}", fullmatch=True)
NAMES = st.text(min_size=0, max_size=12)
JMESPATH = st.sampled_from(
    ["@", "body", "body.amount > `10`", "items[0].id", "{a: b}", "length(@)"]
)
POSITIONS = st.builds(
    lambda x, y: {"x": x, "y": y},
    st.integers(-2000, 2000) | st.floats(-2000, 2000, allow_nan=False).map(lambda f: round(f, 2)),
    st.integers(-2000, 2000),
)
SCALARS = st.none() | st.booleans() | st.integers(-10, 10) | st.text(max_size=6)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
SECRET_REF = st.sampled_from(
    ["{{ secrets.API_TOKEN }}", "{{secrets.OTHER}}", "Bearer {{ secrets.API_TOKEN }}", "***"]
)

CONFIGS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "webhook": st.fixed_dictionaries(
        {},
        optional={
            "methods": st.sampled_from([["POST"], ["GET", "POST"]]),
            "hmac_secret": SECRET_REF,
        },
    ),
    "manual": st.fixed_dictionaries({}, optional={"input_schema": st.just({"type": "object"})}),
    "transform": st.fixed_dictionaries({"expression": JMESPATH}),
    "http_call": st.fixed_dictionaries(
        {"url": st.sampled_from(["https://a.example.com/x", "http://b.example.com"])},
        optional={
            "method": st.sampled_from(["GET", "POST"]),
            # Secret references only where they are allowed: credential headers.
            "headers": st.fixed_dictionaries(
                {},
                optional={
                    "Accept": st.sampled_from(["application/json", "*/*"]),
                    "Authorization": SECRET_REF,
                    "X-Api-Key": SECRET_REF,
                    "Content-Type": st.just("application/json"),
                },
            ),
            "body": JSON,
            "timeout_seconds": st.integers(1, 300),
            "auth": st.builds(lambda t: {"type": "bearer", "token": t}, SECRET_REF),
        },
    ),
    "branch": st.fixed_dictionaries({"condition": JMESPATH}),
    "delay": st.fixed_dictionaries({"duration_seconds": st.integers(1, 1000)}),
    "schedule": st.one_of(
        st.fixed_dictionaries(
            {"cron": st.sampled_from(["0 9 * * 1-5", "*/5 * * * *"])},
            optional={
                "timezone": st.sampled_from(["UTC", "Europe/Berlin"]),
                "catch_up": st.sampled_from(["none", "latest", "all"]),
            },
        ),
        st.fixed_dictionaries(
            {"every_seconds": st.integers(1, 86_400)},
            optional={"max_catch_up": st.integers(1, 100)},
        ),
    ),
    "terminate": st.fixed_dictionaries(
        {}, optional={"status": st.sampled_from(["succeeded", "failed"])}
    ),
}
BODY_TYPES = ["transform", "http_call", "branch", "delay", "terminate"]


@st.composite
def nodes(draw: st.DrawFn, node_id: str, node_type: str) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "type": node_type, "config": draw(CONFIGS[node_type])}
    if draw(st.booleans()):
        node["name"] = draw(NAMES)
    if draw(st.booleans()):
        node["position"] = draw(POSITIONS)
    return node


def _edge(draw: st.DrawFn, source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any] | None:
    if source["type"] == "terminate" or target["type"] in ("webhook", "manual"):
        return None
    edge = {"from": source["id"], "to": target["id"]}
    if source["type"] == "branch":
        edge["when"] = draw(st.sampled_from(["true", "false"]))
    return edge


@st.composite
def definitions(draw: st.DrawFn, max_nodes: int = 7) -> dict[str, Any]:
    """A structurally valid definition (completeness is not guaranteed)."""
    ids = draw(st.lists(IDS, min_size=1, max_size=max_nodes, unique=True))
    trigger = draw(st.sampled_from(["webhook", "manual"]))
    types = [trigger] + [draw(st.sampled_from(BODY_TYPES)) for _ in ids[1:]]
    node_list = [draw(nodes(i, t)) for i, t in zip(ids, types, strict=True)]
    edges: list[dict[str, Any]] = []
    seen = set()
    for _ in range(draw(st.integers(0, 2 * len(ids)))):
        if len(ids) < 2:
            break
        a = draw(st.integers(0, len(ids) - 2))
        b = draw(st.integers(a + 1, len(ids) - 1))
        edge = _edge(draw, node_list[a], node_list[b])
        if edge is not None and (key := tuple(sorted(edge.items()))) not in seen:
            seen.add(key)
            edges.append(edge)
    definition: dict[str, Any] = {"nodes": node_list, "edges": edges}
    if draw(st.booleans()):
        definition["settings"] = draw(
            st.dictionaries(
                st.sampled_from(["timeout_seconds", "owner", "labels"]), SCALARS, max_size=3
            )
        )
    return definition


@st.composite
def edited(draw: st.DrawFn, definition: dict[str, Any], max_edits: int = 4) -> dict[str, Any]:
    """``definition`` after a few random edits that keep it structurally valid."""
    result = copy.deepcopy(definition)
    for _ in range(draw(st.integers(1, max_edits))):
        draw(st.sampled_from(EDITS))(draw, result)
    return result


def _add_node(draw: st.DrawFn, d: dict[str, Any]) -> None:
    taken = {n["id"] for n in d["nodes"]}
    new_id = draw(IDS.filter(lambda i: i not in taken))
    at = draw(st.integers(1, len(d["nodes"])))
    d["nodes"].insert(at, draw(nodes(new_id, draw(st.sampled_from(BODY_TYPES)))))


def _remove_node(draw: st.DrawFn, d: dict[str, Any]) -> None:
    if len(d["nodes"]) < 2:
        return
    gone = d["nodes"].pop(draw(st.integers(1, len(d["nodes"]) - 1)))["id"]
    d["edges"] = [e for e in d["edges"] if gone not in (e["from"], e["to"])]


def _change_node(draw: st.DrawFn, d: dict[str, Any]) -> None:
    node = d["nodes"][draw(st.integers(0, len(d["nodes"]) - 1))]
    if draw(st.booleans()):
        node["name"] = draw(NAMES)
    else:
        node["config"] = draw(CONFIGS[node["type"]])


def _change_config_field(draw: st.DrawFn, d: dict[str, Any]) -> None:
    """Set or drop one config field, the way a form edits a single input."""
    node = d["nodes"][draw(st.integers(0, len(d["nodes"]) - 1))]
    fresh = draw(CONFIGS[node["type"]])
    key = draw(st.sampled_from(sorted({*fresh, *node["config"]}) or ["unused"]))
    if key in fresh:
        node["config"][key] = fresh[key]
    else:
        node["config"].pop(key, None)


def _move_node(draw: st.DrawFn, d: dict[str, Any]) -> None:
    d["nodes"][draw(st.integers(0, len(d["nodes"]) - 1))]["position"] = draw(POSITIONS)


def _add_edge(draw: st.DrawFn, d: dict[str, Any]) -> None:
    if len(d["nodes"]) < 2:
        return
    a = draw(st.integers(0, len(d["nodes"]) - 2))
    b = draw(st.integers(a + 1, len(d["nodes"]) - 1))
    edge = _edge(draw, d["nodes"][a], d["nodes"][b])
    if edge is not None and edge not in d["edges"]:
        d["edges"].append(edge)


def _remove_edge(draw: st.DrawFn, d: dict[str, Any]) -> None:
    if d["edges"]:
        d["edges"].pop(draw(st.integers(0, len(d["edges"]) - 1)))


def _change_settings(draw: st.DrawFn, d: dict[str, Any]) -> None:
    settings = d.setdefault("settings", {})
    key = draw(st.sampled_from(["timeout_seconds", "owner", "labels"]))
    if key in settings and draw(st.booleans()):
        del settings[key]
    else:
        settings[key] = draw(SCALARS)


EDITS = [
    _add_node,
    _remove_node,
    _change_node,
    _change_config_field,
    _move_node,
    _add_edge,
    _remove_edge,
    _change_settings,
]
