"""A workflow definition as the engine walks it: nodes by id, edges by end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from meshhook.domain.expressions import secret_names_in
from meshhook.domain.node_types import REGISTRY

ERROR_OUTPUT = "error"
"""The ``when`` of an edge followed when its source step fails for good."""


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    when: str | None


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    type: str
    index: int
    """Position in the definition's ``nodes`` array (for JSON Pointers)."""
    config: Mapping[str, Any]
    is_trigger: bool
    named_outputs: bool
    """Whether edges leave by name (``branch``'s ``true``/``false``)."""

    def pointer(self, inside_config: str = "") -> str:
        return f"/nodes/{self.index}/config{inside_config}"

    def secret_names(self) -> list[str]:
        """The names of the secrets its config references (``{{ secrets.X }}``)."""
        return secret_names_in(orjson.dumps(self.config).decode())


@dataclass(frozen=True)
class RunGraph:
    """The nodes and edges of one published (or test) version, indexed."""

    nodes: tuple[Node, ...]
    incoming: Mapping[str, tuple[Edge, ...]]
    outgoing: Mapping[str, tuple[Edge, ...]]
    by_id: Mapping[str, Node]
    timeout_seconds: float | None = None
    """``settings.timeout_seconds`` of the definition."""
    redact: tuple[str, ...] = ()
    """``settings.redact``: JSON Pointers hidden in every payload shown."""

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any]) -> RunGraph:
        """Index a definition that passed structural validation."""
        nodes = tuple(
            Node(
                id=str(raw["id"]),
                type=str(raw["type"]),
                index=index,
                config=raw.get("config") or {},
                is_trigger=_is_trigger(str(raw["type"])),
                named_outputs=_named_outputs(str(raw["type"])),
            )
            for index, raw in enumerate(definition.get("nodes", ()))
        )
        incoming: dict[str, list[Edge]] = {node.id: [] for node in nodes}
        outgoing: dict[str, list[Edge]] = {node.id: [] for node in nodes}
        for raw in definition.get("edges", ()):
            edge = Edge(str(raw["from"]), str(raw["to"]), raw.get("when"))
            outgoing[edge.source].append(edge)
            incoming[edge.target].append(edge)
        settings = definition.get("settings") or {}
        timeout = settings.get("timeout_seconds")
        redact = settings.get("redact")
        return cls(
            timeout_seconds=float(timeout) if isinstance(timeout, int | float) else None,
            redact=tuple(
                str(pointer)
                for pointer in (redact if isinstance(redact, list) else ())
                if isinstance(pointer, str) and pointer.startswith("/")
            ),
            nodes=nodes,
            incoming={key: tuple(value) for key, value in incoming.items()},
            outgoing={key: tuple(value) for key, value in outgoing.items()},
            by_id={node.id: node for node in nodes},
        )

    def has_error_output(self, node_id: str) -> bool:
        return any(edge.when == ERROR_OUTPUT for edge in self.outgoing[node_id])

    def default_trigger(self) -> str | None:
        """The first trigger node, for a run that does not name its trigger."""
        return next((node.id for node in self.nodes if node.is_trigger), None)


def _is_trigger(type_name: str) -> bool:
    node_type = REGISTRY.get(type_name)
    return node_type is not None and node_type.is_trigger


def _named_outputs(type_name: str) -> bool:
    node_type = REGISTRY.get(type_name)
    return node_type is not None and bool(node_type.outputs)
