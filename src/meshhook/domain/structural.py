"""Structural validation: the problems that make a definition unsavable (422).

Everything here is iterative (no recursion), so a 5,000-node chain or a
maliciously deep document cannot exhaust the stack.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Container, Iterable
from dataclasses import dataclass
from typing import Any

from meshhook.domain import pointers
from meshhook.domain.errors import Problem
from meshhook.domain.graph_memo import GraphMemo, graph_signature
from meshhook.domain.indexes import AllExcept, not_in
from meshhook.domain.limits import (
    MAX_DEFINITION_BYTES,
    MAX_DEPTH,
    MAX_EDGES,
    MAX_MEMO_PROBLEMS,
    MAX_NAME_LENGTH,
    MAX_NODE_ID_LENGTH,
    MAX_NODES,
)
from meshhook.domain.node_types import REGISTRY, NodeType
from meshhook.domain.secret_fields import secret_field_problems

# Beyond this many cycles the rest of the report is noise; fixing these reveals more.
MAX_CYCLES_REPORTED = 10

NODE_ID_PATTERN = re.compile(rf"[A-Za-z0-9_][A-Za-z0-9_-]{{0,{MAX_NODE_ID_LENGTH - 1}}}")
__all__ = [
    "MAX_DEFINITION_BYTES",
    "MAX_DEPTH",
    "MAX_EDGES",
    "MAX_NAME_LENGTH",
    "MAX_NODES",
    "StructureCheck",
    "check_structure",
    "structural_problems",
]

TOP_LEVEL_KEYS = frozenset({"nodes", "edges", "settings"})
NODE_KEYS = frozenset({"id", "type", "name", "config", "position"})
EDGE_KEYS = frozenset({"from", "to", "when"})


_PLAIN_SCALARS = (str, int, bool, type(None))


def _walk_free_form(value: Any, limit: int) -> tuple[bool, bool]:
    """Whether containers nest more than ``limit`` levels (``value`` is level 1),
    and whether every scalar is a plain JSON one (exact ``str``, ``int``,
    ``bool``, ``None`` or a finite ``float``): what lets canonicalisation skip
    its own walk (:func:`meshhook.domain.canonical.canonical_bytes`)."""
    plain = True
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            return True, plain
        # Exact type tests: this loop touches every value of every config.
        for child in current.values() if type(current) is dict else current:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append((child, depth + 1))
            elif kind not in _PLAIN_SCALARS and not (kind is float and math.isfinite(child)):
                plain = False
    return False, plain


def _first_too_deep(value: Any, limit: int, base: str) -> str:
    # Second, slower pass that tracks pointers; runs only when something is too deep.
    stack: list[tuple[Any, int, str]] = [(value, 1, base)]
    while stack:
        current, depth, path = stack.pop()
        if depth > limit:
            return path
        items = current.items() if type(current) is dict else enumerate(current)
        for key, child in items:
            if type(child) in (dict, list):
                stack.append((child, depth + 1, pointers.join(path, key)))
    return base


def _free_form_problem(
    definition: dict[str, Any], unchanged: Container[int] = ()
) -> tuple[Problem | None, bool]:
    """The depth problem, if any, and whether all free-form values are plain JSON.

    Only ``config`` and ``settings`` are free-form; every other part has a fixed
    shape whose violations are reported as shape problems, so only those two are
    walked. Levels count from the definition itself (a config is level 4)."""
    # (value, level, index of its node or -1 for the settings)
    roots: list[tuple[Any, int, int]] = []
    settings = definition.get("settings")
    if type(settings) is dict:
        roots.append((settings, 2, -1))
    nodes = definition.get("nodes")
    listed: list[Any] = nodes if type(nodes) is list else []
    # Unchanged nodes are as deep and as plain as in the checked definition they come from.
    for i in not_in(unchanged, len(listed)):
        node = listed[i]
        config = node.get("config") if type(node) is dict else None
        if type(config) is dict and config:
            roots.append((config, 4, i))
    plain = True
    for value, level, i in roots:
        too_deep, plain_here = _walk_free_form(value, MAX_DEPTH - level + 1)
        if too_deep:
            base = "/settings" if i < 0 else f"/nodes/{i}/config"
            problem = Problem(
                _first_too_deep(value, MAX_DEPTH - level + 1, base),
                "limit.depth",
                f"JSON is nested deeper than {MAX_DEPTH} levels",
            )
            return problem, False
        plain = plain and plain_here
    return None, plain


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _valid_position(position: Any) -> bool:
    return (
        isinstance(position, dict)
        and position.keys() == {"x", "y"}
        and _is_number(position["x"])
        and _is_number(position["y"])
    )


_NO_VALUE = object()
_TYPES: dict[str, NodeType] = dict(REGISTRY)
_ID_MATCH = NODE_ID_PATTERN.fullmatch


def _plain_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or (kind is float and math.isfinite(value))


def _node_problems(
    nodes: list[Any], problems: list[Problem], unchanged: Container[int] = ()
) -> tuple[dict[str, int], dict[str, NodeType]]:
    """Check each node; return the index and the type of each usable node id.

    A node in ``unchanged`` passed these checks in the definition it comes from:
    only its id's uniqueness among the others is checked again."""
    index: dict[str, int] = {}
    types: dict[str, NodeType] = {}
    if not isinstance(unchanged, AllExcept):
        _check_nodes(nodes, range(len(nodes)), unchanged, index, types, problems)
        return index, types
    # A patch's: runs of untouched nodes between the few it touched. A run's ids
    # were unique in the checked base; unless a touched node took one of them,
    # the run joins the index whole, in bulk.
    start = 0
    for touched in [*not_in(unchanged, len(nodes)), len(nodes)]:
        if start < touched:
            run = {nodes[i]["id"]: i for i in range(start, touched)}
            if len(run) == touched - start and run.keys().isdisjoint(index):
                index.update(run)
                types.update({node_id: _TYPES[nodes[i]["type"]] for node_id, i in run.items()})
            else:
                _check_nodes(nodes, range(start, touched), unchanged, index, types, problems)
        if touched < len(nodes):
            _check_nodes(nodes, (touched,), unchanged, index, types, problems)
        start = touched + 1
    return index, types


def _check_nodes(
    nodes: list[Any],
    indexes: Iterable[int],
    unchanged: Container[int],
    index: dict[str, int],
    types: dict[str, NodeType],
    problems: list[Problem],
) -> None:
    """:func:`_node_problems` for the nodes at ``indexes``, in that order."""
    for i in indexes:
        node = nodes[i]
        if i in unchanged:
            node_id = node["id"]
            if node_id not in index:
                index[node_id] = i
                types[node_id] = _TYPES[node["type"]]
                continue
        # The common case, a sound node, in one expression; anything else (or
        # anything unusual, like a subclass) takes the detailed checks below.
        if type(node) is dict and node.keys() <= NODE_KEYS:
            node_id = node.get("id")
            type_name = node.get("type")
            name = node.get("name")
            position = node.get("position", _NO_VALUE)
            config = node.get("config", _NO_VALUE)
            if (
                type(node_id) is str
                and node_id not in index
                and _ID_MATCH(node_id) is not None
                and type(type_name) is str
                and (node_type := _TYPES.get(type_name)) is not None
                and (name is None or (type(name) is str and len(name) <= MAX_NAME_LENGTH))
                and (
                    position is _NO_VALUE
                    or (
                        type(position) is dict
                        and len(position) == 2
                        and _plain_number(position.get("x", _NO_VALUE))
                        and _plain_number(position.get("y", _NO_VALUE))
                    )
                )
                and (config is _NO_VALUE or type(config) is dict)
            ):
                index[node_id] = i
                types[node_id] = node_type
                continue
        _one_node_problems(i, node, index, types, problems)


def _one_node_problems(
    i: int,
    node: Any,
    index: dict[str, int],
    types: dict[str, NodeType],
    problems: list[Problem],
) -> None:
    base = f"/nodes/{i}"
    if not isinstance(node, dict):
        problems.append(Problem(base, "node.not_object", "a node must be a JSON object"))
        return
    if not NODE_KEYS.issuperset(node):
        for key in sorted(set(node) - NODE_KEYS):
            problems.append(
                Problem(pointers.join(base, key), "node.unknown_key", f"unknown key {key!r}")
            )
    node_id = node.get("id")
    if not isinstance(node_id, str) or NODE_ID_PATTERN.fullmatch(node_id) is None:
        problems.append(
            Problem(
                base + "/id",
                "node.invalid_id",
                "id must be 1-64 letters, digits, '_' or '-', not starting with '-'",
            )
        )
        node_id = None
    elif node_id in index:
        problems.append(
            Problem(
                base + "/id",
                "node.duplicate_id",
                f"id {node_id!r} is already used by /nodes/{index[node_id]}",
            )
        )
        node_id = None
    else:
        index[node_id] = i
    type_name = node.get("type")
    if not isinstance(type_name, str):
        problems.append(Problem(base + "/type", "node.invalid_type", "type must be a string"))
    elif (node_type := REGISTRY.get(type_name)) is None:
        known = ", ".join(REGISTRY)
        problems.append(
            Problem(
                base + "/type",
                "node.unknown_type",
                f"unknown node type {type_name!r} (known: {known})",
            )
        )
    elif node_id is not None:
        types[node_id] = node_type
    name = node.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME_LENGTH):
        problems.append(
            Problem(
                base + "/name",
                "node.invalid_name",
                f"name must be a string of at most {MAX_NAME_LENGTH} characters",
            )
        )
    if "position" in node and not _valid_position(node["position"]):
        problems.append(
            Problem(
                base + "/position",
                "node.invalid_position",
                "position must be {x: number, y: number}",
            )
        )
    if "config" in node and not isinstance(node["config"], dict):
        problems.append(
            Problem(base + "/config", "node.invalid_config", "config must be an object")
        )


def _edge_problems(
    edges: list[Any],
    index: dict[str, int],
    types: dict[str, NodeType],
    problems: list[Problem],
) -> list[tuple[str, str, int]]:
    """Check each edge; return the usable ones as (from, to, edge index)."""
    usable: list[tuple[str, str, int]] = []
    seen: dict[tuple[str, str, str | None], int] = {}
    for k, edge in enumerate(edges):
        # The common case first (see _node_problems); the rest gets the details.
        if type(edge) is dict and edge.keys() <= EDGE_KEYS:
            source = edge.get("from")
            target = edge.get("to")
            when = edge.get("when")
            if (
                type(source) is str
                and type(target) is str
                and source != target
                and source in index
                and target in index
                and (
                    ("when" not in edge)
                    if when is None
                    else (
                        type(when) is str
                        and (source_type := types.get(source)) is not None
                        and source_type.has_output(when)
                    )
                )
                and (source, target, when) not in seen
            ):
                seen[(source, target, when)] = k
                usable.append((source, target, k))
                continue
        _one_edge_problems(k, edge, index, types, seen, usable, problems)
    return usable


def _one_edge_problems(
    k: int,
    edge: Any,
    index: dict[str, int],
    types: dict[str, NodeType],
    seen: dict[tuple[str, str, str | None], int],
    usable: list[tuple[str, str, int]],
    problems: list[Problem],
) -> None:
    base = f"/edges/{k}"
    if not isinstance(edge, dict):
        problems.append(Problem(base, "edge.not_object", "an edge must be a JSON object"))
        return
    if not EDGE_KEYS.issuperset(edge):
        for key in sorted(set(edge) - EDGE_KEYS):
            problems.append(
                Problem(pointers.join(base, key), "edge.unknown_key", f"unknown key {key!r}")
            )
    ends_ok = True
    for end in ("from", "to"):
        value = edge.get(end)
        if not isinstance(value, str):
            problems.append(
                Problem(f"{base}/{end}", "edge.invalid_endpoint", f"{end} must be a node id")
            )
            ends_ok = False
        elif value not in index:
            problems.append(
                Problem(f"{base}/{end}", "edge.unknown_node", f"no node has id {value!r}")
            )
            ends_ok = False
    when = edge.get("when")
    if "when" in edge and not isinstance(when, str):
        problems.append(Problem(base + "/when", "edge.invalid_when", "when must be a string"))
        return
    if not ends_ok:
        return
    source, target = edge["from"], edge["to"]
    if source == target:
        problems.append(
            Problem(base, "edge.self_loop", f"edge from {source!r} to itself (a cycle)")
        )
        return
    source_type = types.get(source)
    if when is not None and source_type is not None and not source_type.has_output(when):
        outputs = (*(source_type.outputs or ()), *(["error"] if source_type.error_output else []))
        offer = (
            f"its outputs are {', '.join(map(repr, outputs))}"
            if outputs
            else "it has no named outputs; remove `when`"
        )
        problems.append(
            Problem(
                base + "/when",
                "edge.unknown_output",
                f"{source!r} ({source_type.name}) has no output {when!r}: {offer}",
            )
        )
        return
    identity = (source, target, when)
    if identity in seen:
        problems.append(Problem(base, "edge.duplicate", f"same edge as /edges/{seen[identity]}"))
        return
    seen[identity] = k
    usable.append((source, target, k))


def _cycle_problems(
    order: dict[str, int], edges: list[tuple[str, str, int]], problems: list[Problem]
) -> None:
    successors: dict[str, list[str]] = {node: [] for node in order}
    indegree = dict.fromkeys(order, 0)
    for source, target, _ in edges:
        successors[source].append(target)
        indegree[target] += 1
    remaining = set(order)
    _prune_acyclic(remaining, successors, indegree)
    if not remaining:
        return  # acyclic, the usual answer: nothing else to build
    predecessors: dict[str, list[str]] = {node: [] for node in order}
    edge_at: dict[tuple[str, str], int] = {}
    for source, target, k in edges:
        predecessors[target].append(source)
        edge_at.setdefault((source, target), k)
    for _ in range(MAX_CYCLES_REPORTED):
        if not remaining:
            return
        # Kahn's pruning leaves only nodes with a remaining predecessor, so walking
        # predecessors from any of them must come back to a node already visited.
        start = min(remaining, key=order.__getitem__)
        visited: dict[str, int] = {}
        walk: list[str] = []
        current = start
        while current not in visited:
            visited[current] = len(walk)
            walk.append(current)
            current = next(p for p in predecessors[current] if p in remaining)
        cycle = walk[visited[current] :][::-1]
        first = min(range(len(cycle)), key=lambda j: order[cycle[j]])
        cycle = cycle[first:] + cycle[:first]
        closing = edge_at[(cycle[-1], cycle[0])]
        problems.append(
            Problem(
                f"/edges/{closing}",
                "graph.cycle",
                "cycle: " + " → ".join([*cycle, cycle[0]]),
            )
        )
        remaining.difference_update(cycle)
        indegree = {
            node: sum(1 for p in predecessors[node] if p in remaining) for node in remaining
        }
        _prune_acyclic(remaining, successors, indegree)


def _prune_acyclic(
    remaining: set[str], successors: dict[str, list[str]], indegree: dict[str, int]
) -> None:
    """Remove from ``remaining`` every node not on or after a cycle (Kahn's algorithm).

    ``indegree`` counts each remaining node's edges from remaining nodes; it is used up.
    """
    queue = deque(node for node, degree in indegree.items() if degree == 0)
    while queue:
        node = queue.popleft()
        remaining.discard(node)
        for successor in successors[node]:
            if successor in remaining:
                indegree[successor] -= 1
                if indegree[successor] == 0:
                    queue.append(successor)


@dataclass(frozen=True, slots=True)
class StructureCheck:
    """What :func:`check_structure` found.

    ``plain`` (meaningful only without problems) says every scalar is of an
    exact JSON type with finite numbers, so canonicalisation need not walk the
    definition again (``canonical_bytes(..., plain=True)``).
    """

    problems: list[Problem]
    plain: bool = False
    # The graph's signature (domain/graph_memo.py) when it was computed.
    graph: bytes | None = None


def structural_problems(definition: Any, *, size_bytes: int | None = None) -> list[Problem]:
    """Problems that reject a save: shapes, ids, types, edges, cycles, limits, and
    secrets out of place (literal credentials, references outside credential fields).

    ``size_bytes`` is the size of the request body when known (the 5 MiB limit).
    An empty list means the definition can be stored and diffed; it may still be
    incomplete (see :func:`meshhook.domain.validation.completeness_problems`).
    """
    return check_structure(definition, size_bytes=size_bytes).problems


def check_structure(
    definition: Any,
    *,
    size_bytes: int | None = None,
    unchanged: Container[int] = (),
    secrets_unchanged: bool = False,
    graph: bytes | None = None,
) -> StructureCheck:
    """:func:`structural_problems`, and whether the definition is plain JSON.

    ``unchanged`` (incremental validation) holds the indexes of nodes that are,
    at the same index, exactly as in a definition that passed this check, parsed
    from JSON (a stored version): their shape and depth are not checked again.
    Edges and the graph are always checked whole (memoised by graph signature),
    and so are the secret rules (cached per config) unless ``secrets_unchanged``
    says that definition passed them too (a stored version may predate them).
    ``graph``: the graph signature, when known to be that definition's (an edit
    that changed no node id, type or edge: ``patch.keeps_graph``); it is then
    not computed again."""
    return StructureCheck(
        *_check(
            definition,
            size_bytes,
            unchanged,
            unchanged if secrets_unchanged else (),
            known_graph=graph,
        )
    )


def _check(
    definition: Any,
    size_bytes: int | None,
    unchanged: Container[int] = (),
    secrets_unchanged: Container[int] = (),
    known_graph: bytes | None = None,
) -> tuple[list[Problem], bool, bytes | None]:
    if size_bytes is not None and size_bytes > MAX_DEFINITION_BYTES:
        message = f"definition is {size_bytes} bytes; the limit is 5 MiB"
        return [Problem("", "limit.size", message)], False, None
    if not isinstance(definition, dict):
        problem = Problem("", "definition.not_object", "a definition must be a JSON object")
        return [problem], False, None
    problems: list[Problem] = []
    for key in sorted(set(definition) - TOP_LEVEL_KEYS):
        problems.append(
            Problem(
                pointers.join("", key),
                "definition.unknown_key",
                f"unknown key {key!r}; a definition has nodes, edges and settings",
            )
        )
    if "settings" in definition and not isinstance(definition["settings"], dict):
        problems.append(
            Problem("/settings", "definition.invalid_type", "settings must be an object")
        )
    nodes = definition.get("nodes")
    edges = definition.get("edges")
    for key, value in (("nodes", nodes), ("edges", edges)):
        if value is None and key not in definition:
            problems.append(Problem(f"/{key}", "definition.missing_key", f"{key} is required"))
        elif not isinstance(value, list):
            problems.append(
                Problem(f"/{key}", "definition.invalid_type", f"{key} must be an array")
            )
    if not isinstance(nodes, list) or not isinstance(edges, list):
        return problems, False, None
    if len(nodes) > MAX_NODES:
        problems.append(
            Problem("/nodes", "limit.nodes", f"{len(nodes)} nodes; the limit is {MAX_NODES}")
        )
    if len(edges) > MAX_EDGES:
        problems.append(
            Problem("/edges", "limit.edges", f"{len(edges)} edges; the limit is {MAX_EDGES}")
        )
    if len(nodes) > MAX_NODES or len(edges) > MAX_EDGES:
        return problems, False, None
    depth_problem, plain = _free_form_problem(definition, unchanged)
    if depth_problem is not None:
        # Other checks are pointless on (and could be slowed by) such a document.
        return [*problems, depth_problem], False, None
    if known_graph is not None and isinstance(unchanged, AllExcept):
        # An edit of a checked definition that kept every node id and type, in
        # order, and every edge: the ids are unique and typed as there, so only
        # the nodes the edit touched are checked (their ids against no other).
        _check_nodes(nodes, not_in(unchanged, len(nodes)), (), {}, {}, problems)
        found: tuple[dict[str, int], dict[str, NodeType]] | None = None
    else:
        found = _node_problems(nodes, problems, unchanged)
    # With every node sound, the edge and cycle checks read only the graph.
    if problems:
        graph = None
    elif known_graph is None:
        graph = graph_signature(nodes, edges)
    else:
        graph = known_graph
    problems.extend(
        _GRAPH_PROBLEMS.get(
            graph, lambda: _graph_problems(edges, *(found or _node_problems(nodes, [], ())))
        )
    )
    # Literal credentials and misplaced secret references: never stored (secret_fields.py).
    problems.extend(secret_field_problems(nodes, skip=secrets_unchanged))
    return problems, plain and not problems, graph


# Edge and cycle problems by graph signature.
_GRAPH_PROBLEMS: GraphMemo[tuple[Problem, ...]] = GraphMemo(
    keep=lambda problems: len(problems) <= MAX_MEMO_PROBLEMS
)


def _graph_problems(
    edges: list[Any], index: dict[str, int], types: dict[str, NodeType]
) -> tuple[Problem, ...]:
    problems: list[Problem] = []
    usable = _edge_problems(edges, index, types, problems)
    _cycle_problems(index, usable, problems)
    return tuple(problems)
