"""Three-way merge of a stale save ("yours") with what was saved since ("theirs").

Units (see :mod:`meshhook.domain.units`): each node by id without its position,
each edge by ``(from, to, when)``, each top-level settings key; positions apart.
A unit changed on one side takes that side; changed identically on both, either;
changed differently on both (delete/edit, add/add) is a conflict. A node edited
on both sides (same type on all three) is merged field by field: objects by key,
down to JSON Pointer granularity, while arrays and scalars are whole values; only
a field changed differently on both sides conflicts.
Positions never conflict: yours wins when you moved the node, else theirs.
A merge that would produce a structurally invalid graph (an edge to a node the
other side deleted, a cycle made of one edge from each side) is a conflict too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from meshhook.domain import pointers
from meshhook.domain.canonical import json_equal
from meshhook.domain.diff import field_changes
from meshhook.domain.masking import mask_in_node, mask_node, node_types_of
from meshhook.domain.patch import deep_copy
from meshhook.domain.structural import structural_problems
from meshhook.domain.units import MISSING, edge_identity, node_content

Side = Literal["yours", "theirs"]
_CONFLICT: Any = object()


@dataclass(frozen=True, slots=True)
class MergeConflict:
    """One place both sides changed differently.

    ``path`` points into *yours*, except for something you deleted: then it
    points into *theirs* and ``side`` says so. Values are ``None`` when absent on
    that side and sensitive config values are masked.
    """

    path: str
    base: Any
    theirs: Any
    yours: Any
    side: Side = "yours"
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "side": self.side,
            "reason": self.reason,
            "base": self.base,
            "theirs": self.theirs,
            "yours": self.yours,
        }


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The merged definition, or ``None`` with the conflicts that prevent it."""

    definition: dict[str, Any] | None
    conflicts: list[MergeConflict]


def _pick(base: Any, theirs: Any, yours: Any) -> Any:
    if json_equal(theirs, yours):
        return theirs
    if json_equal(base, theirs):
        return yours
    if json_equal(base, yours):
        return theirs
    return _CONFLICT


class _Side:
    """One definition indexed for merging."""

    def __init__(self, definition: dict[str, Any]) -> None:
        self.nodes: dict[str, tuple[int, dict[str, Any]]] = {
            node["id"]: (i, node) for i, node in enumerate(definition.get("nodes", []))
        }
        self.edges: dict[Any, tuple[int, dict[str, Any]]] = {
            edge_identity(edge): (k, edge) for k, edge in enumerate(definition.get("edges", []))
        }
        self.settings: dict[str, Any] = definition.get("settings", {})
        self.has_settings = "settings" in definition

    def content(self, node_id: str) -> Any:
        entry = self.nodes.get(node_id)
        return MISSING if entry is None else node_content(entry[1])

    def position(self, node_id: str) -> Any:
        entry = self.nodes.get(node_id)
        return MISSING if entry is None else entry[1].get("position", MISSING)

    def edge(self, identity: Any) -> Any:
        entry = self.edges.get(identity)
        return MISSING if entry is None else entry[1]


def _order(base: list[Any], theirs: list[Any], yours: list[Any], kept: set[Any]) -> list[Any]:
    # Theirs' order then your additions; but when theirs kept base's order, yours
    # is the only side that may have reordered, so merge(base, base, x) == x.
    first, second = (yours, theirs) if theirs == base else (theirs, yours)
    seen = set(first)
    sequence = first + [key for key in second if key not in seen]
    return [key for key in sequence if key in kept]


def _at(value: Any, where: str) -> Any:
    for token in pointers.split(where):
        if isinstance(value, dict) and token in value:
            value = value[token]
        else:
            return MISSING
    return value


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/") or not a or not b


def _shown(types: list[Any], where: str, value: Any) -> Any:
    return None if value is MISSING else mask_in_node(types, where, value)[0]


def _same_type(b: dict[str, Any], t: dict[str, Any], y: dict[str, Any]) -> bool:
    return bool(b.get("type") == t.get("type") == y.get("type"))


def _merge_fields(b: Any, t: Any, y: Any, where: str, conflicts: list[str]) -> Any:
    """Three-way merge of JSON values: objects key by key, anything else whole.

    Returns the merged value (``MISSING`` when it is absent from the result) and
    appends the pointer of each value both sides changed differently to
    ``conflicts``; the value returned is meaningless once a conflict is found.
    """
    choice = _pick(b, t, y)
    if choice is not _CONFLICT:
        return choice
    if not (isinstance(b, dict) and isinstance(t, dict) and isinstance(y, dict)):
        conflicts.append(where)
        return MISSING
    merged: dict[str, Any] = {}
    for key in dict.fromkeys([*t, *y, *b]):
        sides = (b.get(key, MISSING), t.get(key, MISSING), y.get(key, MISSING))
        value = _merge_fields(*sides, pointers.join(where, key), conflicts)
        if value is not MISSING:
            merged[key] = value
    return merged


def _merge_node(
    node_id: str, b: Any, t: Any, y: Any, yours: _Side
) -> tuple[Any, list[MergeConflict]]:
    """A node changed on both sides: its fields merged, or ``_CONFLICT`` and conflicts.

    Only an edit/edit of a node whose type is the same on all three sides is
    merged by field: a config written for another type is not mixed with this one.
    """
    if any(v is MISSING for v in (b, t, y)) or not _same_type(b, t, y):
        return _CONFLICT, []
    where: list[str] = []
    merged = _merge_fields(b, t, y, "", where)
    if not where:
        return merged, []
    types = node_types_of(b, t, y)
    base_path = f"/nodes/{yours.nodes[node_id][0]}"
    return _CONFLICT, [
        MergeConflict(
            base_path + pointer,
            _shown(types, pointer, _at(b, pointer)),
            _shown(types, pointer, _at(t, pointer)),
            _shown(types, pointer, _at(y, pointer)),
            "yours",
            f"node {node_id!r}: changed on both sides",
        )
        for pointer in where
    ]


def _node_conflicts(
    node_id: str, b: Any, t: Any, y: Any, theirs: _Side, yours: _Side
) -> list[MergeConflict]:
    types = node_types_of(b, t, y)
    if y is MISSING:
        reason = f"node {node_id!r}: deleted in yours, changed in theirs"
        where = f"/nodes/{theirs.nodes[node_id][0]}"
        shown_b, shown_t = _shown(types, "", b), _shown(types, "", t)
        return [MergeConflict(where, shown_b, shown_t, None, "theirs", reason)]
    base_path = f"/nodes/{yours.nodes[node_id][0]}"
    if t is MISSING:
        reason = f"node {node_id!r}: deleted in theirs, changed in yours"
        shown_b, shown_y = _shown(types, "", b), _shown(types, "", y)
        return [MergeConflict(base_path, shown_b, None, shown_y, "yours", reason)]
    theirs_paths = [where for _, where, _, _ in field_changes(b, t)]
    yours_paths = [where for _, where, _, _ in field_changes(b, y)]
    differing = [
        where
        for _, where, _, _ in field_changes(t, y)
        if any(_overlaps(where, p) for p in theirs_paths)
        and any(_overlaps(where, p) for p in yours_paths)
    ]
    if b is MISSING:
        verb = "added on both sides with different content"
    elif not _same_type(b, t, y):
        verb = "type changed on one side, edited on the other"
    else:
        verb = "changed on both sides"
    return [
        MergeConflict(
            base_path + where,
            _shown(types, where, _at(b, where)),
            _shown(types, where, _at(t, where)),
            _shown(types, where, _at(y, where)),
            "yours",
            f"node {node_id!r}: {verb}",
        )
        for where in differing or [""]
    ]


def _locate(
    identity_or_id: Any, kind: str, theirs: _Side, yours: _Side
) -> tuple[str, Side, Any, Any]:
    table_y = yours.nodes if kind == "nodes" else yours.edges
    table_t = theirs.nodes if kind == "nodes" else theirs.edges
    y = table_y.get(identity_or_id)
    t = table_t.get(identity_or_id)
    if y is not None:
        return f"/{kind}/{y[0]}", "yours", None if t is None else t[1], y[1]
    assert t is not None  # a unit in the result comes from one side or the other
    return f"/{kind}/{t[0]}", "theirs", t[1], None


def _structural_conflicts(
    result: dict[str, Any], base: _Side, theirs: _Side, yours: _Side
) -> list[MergeConflict]:
    conflicts: dict[str, MergeConflict] = {}
    for problem in structural_problems(result):
        tokens = pointers.split(problem.path)
        if len(tokens) >= 2 and tokens[0] in ("nodes", "edges") and tokens[1].isdigit():
            item = result[tokens[0]][int(tokens[1])]
            key = item["id"] if tokens[0] == "nodes" else edge_identity(item)
            path, side, t, y = _locate(key, tokens[0], theirs, yours)
            b_table: dict[Any, tuple[int, dict[str, Any]]] = (
                base.nodes if tokens[0] == "nodes" else base.edges
            )
            b = b_table[key][1] if key in b_table else None
            if tokens[0] == "nodes":
                b, t, y = (mask_node(v)[0] for v in (b, t, y))
            conflict = MergeConflict(path, b, t, y, side, problem.message)
        else:
            conflict = MergeConflict(problem.path, None, None, None, "yours", problem.message)
        conflicts.setdefault(conflict.path, conflict)
    return list(conflicts.values())


def three_way_merge(base: Any, theirs: Any, yours: Any) -> MergeResult:
    """Merge ``yours`` (based on ``base``) with ``theirs`` (saved since ``base``).

    All three must be structurally valid. The result holds the merged definition
    (structurally valid), or ``None`` and every conflict found.
    """
    b, t, y = _Side(base), _Side(theirs), _Side(yours)
    conflicts: list[MergeConflict] = []
    kept_nodes: dict[str, dict[str, Any]] = {}
    for node_id in t.nodes.keys() | y.nodes.keys() | b.nodes.keys():
        args = (b.content(node_id), t.content(node_id), y.content(node_id))
        choice = _pick(*args)
        if choice is _CONFLICT:
            choice, found = _merge_node(node_id, *args, y)
            if choice is _CONFLICT:
                conflicts.extend(found or _node_conflicts(node_id, *args, t, y))
                continue
        if choice is not MISSING:
            base_pos, yours_pos = b.position(node_id), y.position(node_id)
            position = yours_pos if not json_equal(base_pos, yours_pos) else t.position(node_id)
            kept_nodes[node_id] = (
                choice if position is MISSING else {**choice, "position": position}
            )
    kept_edges: dict[Any, dict[str, Any]] = {}
    for identity in t.edges.keys() | y.edges.keys() | b.edges.keys():
        choice = _pick(b.edge(identity), t.edge(identity), y.edge(identity))
        if choice is _CONFLICT:
            path, side, their_edge, your_edge = _locate(identity, "edges", t, y)
            reason = "edge added on both sides with different content"
            conflicts.append(MergeConflict(path, None, their_edge, your_edge, side, reason))
        elif choice is not MISSING:
            kept_edges[identity] = choice
    settings: dict[str, Any] = {}
    for key in dict.fromkeys([*t.settings, *y.settings, *b.settings]):
        values = [side.settings.get(key, MISSING) for side in (b, t, y)]
        choice = _pick(*values)
        if choice is _CONFLICT:
            base_v, their_v, your_v = (None if v is MISSING else v for v in values)
            path = pointers.join("/settings", key)
            reason = f"setting {key!r} changed on both sides"
            conflicts.append(MergeConflict(path, base_v, their_v, your_v, "yours", reason))
        elif choice is not MISSING:
            settings[key] = choice
    if conflicts:
        return MergeResult(None, sorted(conflicts, key=lambda c: (c.side, c.path)))
    node_order = _order(list(b.nodes), list(t.nodes), list(y.nodes), set(kept_nodes))
    edge_order = _order(list(b.edges), list(t.edges), list(y.edges), set(kept_edges))
    result: dict[str, Any] = {
        "nodes": [kept_nodes[node_id] for node_id in node_order],
        "edges": [kept_edges[identity] for identity in edge_order],
    }
    has_settings = _pick(b.has_settings, t.has_settings, y.has_settings)
    if settings or has_settings is True or has_settings is _CONFLICT:
        result["settings"] = settings
    structural = _structural_conflicts(result, b, t, y)
    if structural:
        return MergeResult(None, structural)
    # A copy, so callers may edit the result without touching the three inputs.
    return MergeResult(deep_copy(result), [])
