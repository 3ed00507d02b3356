"""Structural diff of two definitions, and the JSON Patch between them.

Nodes are matched by id and edges by identity ``(from, to, when)``. Positions are
reported under ``layout`` and never as a change. Sensitive config values are
masked everywhere by default; ``mask=False`` (internal use only) gives the exact
patch, for which ``apply_patch(old, diff["patch"]) == new`` holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from meshhook.domain import pointers
from meshhook.domain.canonical import json_equal
from meshhook.domain.masking import mask_in_node, mask_node, node_types_of
from meshhook.domain.patch import apply_patch
from meshhook.domain.units import MISSING, changed_units, edge_identity

__all__ = ["apply_patch", "changed_units", "diff_definitions", "field_changes"]

Change = tuple[str, str, Any, Any]  # (op, pointer, old, new); MISSING marks absence


def field_changes(old: Any, new: Any, path: str = "") -> list[Change]:
    """Leaf-most differences between two JSON values, objects compared by key.

    Arrays that differ are reported whole: an index-by-index diff of a list of
    HTTP methods or status codes reads worse than "was [...], is [...]". Sorted by
    pointer; no pointer is a prefix of another, so the order never matters to a patch.
    """
    changes: list[Change] = []
    stack: list[tuple[Any, Any, str]] = [(old, new, path)]
    while stack:
        a, b, where = stack.pop()
        if json_equal(a, b):
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            pending: list[tuple[Any, Any, str]] = []
            for key, value in a.items():
                if key not in b:
                    changes.append(("remove", pointers.join(where, key), value, MISSING))
                else:
                    pending.append((value, b[key], pointers.join(where, key)))
            for key, value in b.items():
                if key not in a:
                    changes.append(("add", pointers.join(where, key), MISSING, value))
            stack.extend(reversed(pending))
        else:
            changes.append(("replace", where, a, b))
    changes.sort(key=lambda change: change[1])
    return changes


def _present(value: Any) -> Any:
    return None if value is MISSING else value


def _keyed(items: list[Any], key: Callable[[Any], Any]) -> list[tuple[Any, int]]:
    # The occurrence count keeps the patch exact even for (invalid) duplicates.
    seen: dict[Any, int] = {}
    keys = []
    for item in items:
        k = key(item)
        seen[k] = seen.get(k, 0) + 1
        keys.append((k, seen[k]))
    return keys


def _node_key(node: Any) -> Any:
    return node.get("id") if isinstance(node, dict) else ("\0invalid", repr(node))


def _list_ops(
    base: str,
    old_items: list[Any],
    new_items: list[Any],
    key: Callable[[Any], Any],
    inner_ops: Callable[[str, Any, Any], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Ops turning one list into the other: removals, then additions and moves in
    the new order, then in-place edits of the items both hold, by final index."""
    old_keys, new_keys = _keyed(old_items, key), _keyed(new_items, key)
    old_at = {k: i for i, k in enumerate(old_keys)}
    wanted = set(new_keys)
    ops: list[dict[str, Any]] = []
    current = list(old_keys)
    for i in reversed(range(len(old_keys))):
        if old_keys[i] not in wanted:
            ops.append({"op": "remove", "path": f"{base}/{i}"})
            del current[i]
    for j, k in enumerate(new_keys):
        if k not in old_at:
            ops.append({"op": "add", "path": f"{base}/{j}", "value": new_items[j]})
            current.insert(j, k)
        elif current[j] != k:
            i = current.index(k, j)
            ops.append({"op": "move", "from": f"{base}/{i}", "path": f"{base}/{j}"})
            current.insert(j, current.pop(i))
    for j, k in enumerate(new_keys):
        if k in old_at:
            ops.extend(inner_ops(f"{base}/{j}", old_items[old_at[k]], new_items[j]))
    return ops


def _change_ops(base: str, old: Any, new: Any) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for op, where, _, value in field_changes(old, new):
        entry: dict[str, Any] = {"op": op, "path": base + where}
        if op != "remove":
            entry["value"] = value
        ops.append(entry)
    return ops


def _edge_ops(base: str, old: Any, new: Any) -> list[dict[str, Any]]:
    return [] if json_equal(old, new) else [{"op": "replace", "path": base, "value": new}]


def _patch(old: Any, new: Any) -> list[dict[str, Any]]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if json_equal(old, new) else [{"op": "replace", "path": "", "value": new}]
    ops: list[dict[str, Any]] = []
    for key in old:
        if key not in new:
            ops.append({"op": "remove", "path": pointers.join("", key)})
    for key, value in new.items():
        where = pointers.join("", key)
        if key not in old:
            ops.append({"op": "add", "path": where, "value": value})
        elif key in ("nodes", "edges") and isinstance(old[key], list) and isinstance(value, list):
            if key == "nodes":
                ops.extend(_list_ops(where, old[key], value, _node_key, _change_ops))
            else:
                ops.extend(_list_ops(where, old[key], value, edge_identity, _edge_ops))
        else:
            ops.extend(_change_ops(where, old[key], value))
    return ops


def _mask_patch(ops: list[dict[str, Any]], new: Any) -> list[dict[str, Any]]:
    """Mask values bound for sensitive fields; nodes are found by their final index."""
    nodes = new.get("nodes") if isinstance(new, dict) else None
    masked_ops = []
    for op in ops:
        tokens = pointers.split(op["path"])
        if "value" in op and len(tokens) >= 2 and tokens[0] == "nodes" and isinstance(nodes, list):
            index = int(tokens[1]) if tokens[1].isdigit() else len(nodes) - 1
            node = nodes[index] if 0 <= index < len(nodes) else None
            inner = pointers.from_tokens(tokens[2:])
            value, masked = mask_in_node(node_types_of(node), inner, op["value"])
            if masked:
                op = {**op, "value": value, "masked": True}
        masked_ops.append(op)
    return masked_ops


def _list(definition: Any, key: str) -> list[Any]:
    value = definition.get(key) if isinstance(definition, dict) else None
    return value if isinstance(value, list) else []


def _by_id(nodes: list[Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in nodes if isinstance(n, dict) and isinstance(n.get("id"), str)}


def _mask_side(types: list[Any], where: str, value: Any) -> tuple[Any, bool]:
    return (value, False) if value is MISSING else mask_in_node(types, where, value)


def _node_fields(old: dict[str, Any], new: dict[str, Any], mask: bool) -> Iterator[dict[str, Any]]:
    strip = {k: v for k, v in old.items() if k != "position"}
    types = node_types_of(old, new)
    for op, where, before, after in field_changes(
        strip, {k: v for k, v in new.items() if k != "position"}
    ):
        hidden = False
        if mask:
            before, hidden_old = _mask_side(types, where, before)
            after, hidden_new = _mask_side(types, where, after)
            hidden = hidden_old or hidden_new
        yield {
            "path": where,
            "op": op,
            "old": _present(before),
            "new": _present(after),
            "masked": hidden,
        }


def diff_definitions(old: Any, new: Any, *, mask: bool = True) -> dict[str, Any]:
    """A structural diff (see the module docstring), with an RFC 6902 ``patch``.

    Expects structurally valid definitions; the patch stays exact for any JSON.
    """
    before, after = _by_id(_list(old, "nodes")), _by_id(_list(new, "nodes"))

    def show(node: Any) -> Any:
        return mask_node(node)[0] if mask else node

    added = [show(n) for node_id, n in after.items() if node_id not in before]
    removed = [show(n) for node_id, n in before.items() if node_id not in after]
    changed = []
    moved = []
    for node_id, n in after.items():
        o = before.get(node_id)
        if o is None:
            continue
        fields = list(_node_fields(o, n, mask))
        if fields:
            changed.append({"id": node_id, "fields": fields})
        if not json_equal(o.get("position", MISSING), n.get("position", MISSING)):
            moved.append({"id": node_id, "old": o.get("position"), "new": n.get("position")})
    old_edges = {edge_identity(e): e for e in _list(old, "edges")}
    new_edges = {edge_identity(e): e for e in _list(new, "edges")}
    old_settings = old.get("settings", {}) if isinstance(old, dict) else {}
    new_settings = new.get("settings", {}) if isinstance(new, dict) else {}
    settings = [
        {"path": where, "op": op, "old": _present(a), "new": _present(b)}
        for op, where, a, b in field_changes(old_settings, new_settings)
    ]
    patch = _patch(old, new)
    edges_added = [e for k, e in new_edges.items() if k not in old_edges]
    edges_removed = [e for k, e in old_edges.items() if k not in new_edges]
    return {
        "nodes": {"added": added, "removed": removed, "changed": changed},
        "edges": {"added": edges_added, "removed": edges_removed},
        "settings": {"changed": settings},
        "layout": {"moved": moved},
        "patch": _mask_patch(patch, new) if mask else patch,
        "summary": {
            "nodes_added": len(added),
            "nodes_removed": len(removed),
            "nodes_changed": len(changed),
            "edges_added": len(edges_added),
            "edges_removed": len(edges_removed),
            "settings_changed": len(settings),
            "nodes_moved": len(moved),
            "identical": not patch,
        },
    }
