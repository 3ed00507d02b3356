"""Completeness validation: problems a draft may keep but publishing refuses."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, cast

import orjson

from meshhook.domain import json_schema, pointers
from meshhook.domain.bounded_cache import BoundedCache
from meshhook.domain.config_problems import config_problems
from meshhook.domain.errors import Problem
from meshhook.domain.expressions import secret_names_in
from meshhook.domain.graph_memo import GraphMemo
from meshhook.domain.limits import CONFIG_CACHE_BYTES, MAX_CACHED_CONFIG_BYTES, MAX_MEMO_PROBLEMS
from meshhook.domain.node_types import REGISTRY, NodeType
from meshhook.domain.secret_fields import host_problems

MAX_RUN_TIMEOUT_SECONDS = 365 * 24 * 3600

# Settings are free-form; only the keys the engine reads are constrained.
SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "timeout_seconds": {
            "type": "number",
            "title": "Run timeout (seconds)",
            "exclusiveMinimum": 0,
            "maximum": MAX_RUN_TIMEOUT_SECONDS,
        },
        "redact": {
            "type": "array",
            "title": "Always hide these fields of every payload (JSON Pointers; * = any key)",
            "maxItems": 100,
            "items": {"type": "string", "pattern": "^(/([^~/]|~[01])*)+$", "maxLength": 500},
        },
    },
}
_SETTINGS_VALIDATOR = json_schema.Validator(SETTINGS_SCHEMA)


# Configs checked recently, by node type and content: a one-node edit of a large
# workflow re-checks one config instead of all of them (the checks are pure).
# Bounded by bytes: a 4 MB config is checked afresh each time, never kept.
_CONFIG_ANSWERS: BoundedCache[tuple[str, str], tuple[Problem, ...]] = BoundedCache(
    max_entries=8_192,
    max_bytes=CONFIG_CACHE_BYTES,
    max_entry_bytes=MAX_CACHED_CONFIG_BYTES,
)


def _weight(config_json: str, problems: tuple[Problem, ...]) -> int:
    return len(config_json) + sum(
        100 + len(problem.path) + len(problem.message) for problem in problems
    )


def _relative_config_problems(type_name: str, config_json: str) -> tuple[Problem, ...]:
    """``config_problems`` with pointers relative to the config (``""`` is the config)."""
    key = (type_name, config_json)
    held, found = _CONFIG_ANSWERS.lookup(key)
    if held and found is not None:
        return found
    problems = tuple(config_problems(REGISTRY[type_name], orjson.loads(config_json), ""))
    if len(config_json) <= MAX_CACHED_CONFIG_BYTES:
        _CONFIG_ANSWERS.put(key, problems, _weight(config_json, problems))
    return problems


def _node_config_problems(node_type: NodeType, config: Any, i: int) -> list[Problem]:
    """The problems of node ``i``'s config, pointers under ``/nodes/{i}/config``."""
    try:
        # Key order kept: problems come out in that order. Decoded to a str because
        # orjson returns small outputs in a 4 KB buffer: 8,192 bytes keys held
        # 33 MB, the exactly sized strings hold under 2 MB.
        key = orjson.dumps(config).decode()
    except TypeError:  # not plain JSON: no caching
        return config_problems(node_type, config, f"/nodes/{i}/config")
    found = _relative_config_problems(node_type.name, key)
    if not found:
        return []
    base = f"/nodes/{i}/config"
    return [
        Problem(base + problem.path, problem.code, problem.message, problem.severity)
        for problem in found
    ]


def _config_secret_refs(config: Any, base: str) -> Iterator[tuple[str, str]]:
    """Each ``(pointer, name)`` of a secret reference inside ``config``."""
    # Pointers are built per container, not per string: most strings are not
    # references, and this runs over every config of every save.
    stack: list[tuple[Any, str]] = [(config, base)]
    while stack:
        current, path = stack.pop()
        items = current.items() if isinstance(current, dict) else enumerate(current)
        for key, child in items:
            if isinstance(child, str):
                if "secrets" in child:
                    for name in secret_names_in(child):
                        yield pointers.join(path, key), name
            elif isinstance(child, dict | list):
                stack.append((child, pointers.join(path, key)))


def secret_references(definition: Any) -> set[str]:
    """Names of all secrets referenced (``{{ secrets.NAME }}``) in node configs."""
    names: set[str] = set()
    nodes = definition.get("nodes") if isinstance(definition, dict) else None
    for node in nodes if isinstance(nodes, list) else ():
        if isinstance(node, dict):
            config = node.get("config")
            if isinstance(config, dict | list):
                names.update(name for _, name in _config_secret_refs(config, ""))
    return names


def _graph_problems(
    nodes: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    types: dict[str, NodeType],
) -> tuple[Problem, ...]:
    problems: list[Problem] = []
    index = {node["id"]: i for i, node in enumerate(nodes)}
    successors: dict[str, list[str]] = {node_id: [] for node_id in index}
    incoming: dict[str, list[int]] = {node_id: [] for node_id in index}
    used_outputs: dict[str, set[str]] = {node_id: set() for node_id in index}
    for k, edge in enumerate(edges):
        source, target, when = edge["from"], edge["to"], edge.get("when")
        source_type = types.get(source)
        if source_type is not None and source_type.outputs == ():
            problems.append(
                Problem(
                    f"/edges/{k}",
                    "terminate.has_outgoing",
                    f"{source!r} is a {source_type.name} node and ends the run; "
                    "nothing may follow it",
                )
            )
        elif source_type is not None and source_type.outputs and when is None:
            outputs = " or ".join(repr(o) for o in source_type.outputs)
            problems.append(
                Problem(
                    f"/edges/{k}",
                    "edge.missing_when",
                    f"an edge from {source_type.name} node {source!r} needs when: {outputs}",
                )
            )
        successors[source].append(target)
        incoming[target].append(k)
        if when is not None:
            used_outputs[source].add(when)
    triggers: list[str] = []
    for node_id, i in index.items():
        node_type = types.get(node_id)
        if node_type is None:
            continue
        for output in node_type.outputs or ():
            if output not in used_outputs[node_id]:
                problems.append(
                    Problem(
                        f"/nodes/{i}",
                        "branch.missing_output",
                        f"{node_id!r} has no edge for its {output!r} output",
                    )
                )
        limit = node_type.max_inputs
        if limit is not None and len(incoming[node_id]) > limit:
            why = (
                f"{node_id!r} is a trigger; nothing may lead into it"
                if limit == 0
                else f"{node_id!r} accepts at most {limit} incoming edge(s)"
            )
            for k in incoming[node_id][limit:]:
                problems.append(Problem(f"/edges/{k}", "node.too_many_inputs", why))
        if node_type.is_trigger:
            triggers.append(node_id)
    if not triggers:
        problems.append(
            Problem("/nodes", "graph.no_trigger", "add a trigger (webhook or manual) to start runs")
        )
        return tuple(problems)
    for extra in triggers[1:]:
        problems.append(
            Problem(
                f"/nodes/{index[extra]}",
                "graph.multiple_triggers",
                f"{extra!r} is a second trigger; a workflow has exactly one "
                f"(the first is {triggers[0]!r})",
            )
        )
    reached = set(triggers)
    queue = deque(triggers)
    while queue:
        for successor in successors[queue.popleft()]:
            if successor not in reached:
                reached.add(successor)
                queue.append(successor)
    for node_id, i in index.items():
        if node_id not in reached:
            problems.append(
                Problem(
                    f"/nodes/{i}",
                    "graph.unreachable",
                    f"{node_id!r} is not reachable from the trigger and will never run",
                    severity="warning",
                )
            )
    return tuple(problems)


# Graph problems by graph signature (see domain/graph_memo.py).
_GRAPH_PROBLEMS: GraphMemo[tuple[Problem, ...]] = GraphMemo(
    keep=lambda problems: len(problems) <= MAX_MEMO_PROBLEMS
)


def completeness_problems(
    definition: Any,
    *,
    secret_names: Collection[str] | None = None,
    allowed_hosts: Mapping[str, Sequence[str]] | None = None,
    graph: bytes | None = None,
) -> list[Problem]:
    """Problems that block publishing; call only when ``structural_problems`` is empty.

    When ``secret_names`` (the project's secrets) is given, references to other
    names are reported as ``secret.unknown``; ``None`` skips that check.
    ``allowed_hosts`` (the project's restricted secrets, name → host patterns)
    reports nodes that would send one to a host it does not allow.
    ``graph`` is the definition's graph signature when already known
    (``check_structure`` computes it): the graph checks are then memoised.
    """
    by_node, rest = completeness_findings(
        definition, secret_names=secret_names, allowed_hosts=allowed_hosts, graph=graph
    )
    problems = [problem for found in by_node for problem in found]
    problems.extend(rest)
    return problems


NodeProblems = tuple[tuple[Problem, ...], ...]


def completeness_findings(
    definition: Any,
    *,
    secret_names: Collection[str] | None = None,
    allowed_hosts: Mapping[str, Sequence[str]] | None = None,
    graph: bytes | None = None,
    known_nodes: Mapping[int, tuple[Problem, ...]] | None = None,
) -> tuple[NodeProblems, list[Problem]]:
    """:func:`completeness_problems` in two parts: each node's own problems (its
    config, its unknown secrets), in node order, and the rest (hosts, graph,
    settings). ``known_nodes`` gives the answer for nodes known unchanged at the
    same index since a definition already checked with the same secret names
    (incremental validation: a one-node edit re-checks one node)."""
    nodes: list[dict[str, Any]] = definition.get("nodes", [])
    edges: list[dict[str, Any]] = definition.get("edges", [])
    known = None if secret_names is None else frozenset(secret_names)
    reuse = known_nodes or {}
    by_node: list[tuple[Problem, ...] | None] = list(map(reuse.get, range(len(nodes))))
    for i in [i for i, held in enumerate(by_node) if held is None]:
        node = nodes[i]
        node_type = REGISTRY[node["type"]]
        config = node.get("config", {})
        found = _node_config_problems(node_type, config, i)
        if known is not None and isinstance(config, dict):
            for path, name in _config_secret_refs(config, f"/nodes/{i}/config"):
                if name not in known:
                    found.append(
                        Problem(
                            path,
                            "secret.unknown",
                            f"secret {name!r} does not exist in this project; "
                            f"create it with `meshhook secrets set {name}`",
                        )
                    )
        by_node[i] = tuple(found)
    problems: list[Problem] = []
    if allowed_hosts:
        problems.extend(host_problems(definition, allowed_hosts))

    def graph_problems() -> tuple[Problem, ...]:
        types = {node["id"]: REGISTRY[node["type"]] for node in nodes}
        return _graph_problems(nodes, edges, types)

    problems.extend(_GRAPH_PROBLEMS.get(graph, graph_problems))
    settings = definition.get("settings", {})
    for error in _SETTINGS_VALIDATOR.iter_errors(settings):
        problems.append(
            Problem(
                pointers.join("/settings", *error.absolute_path),
                "settings.schema",
                error.message,
            )
        )
    return cast(NodeProblems, tuple(by_node)), problems
