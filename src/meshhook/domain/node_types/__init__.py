"""The node-type registry: one module per type, collected here.

Adding a node type means one new module defining a :class:`NodeType` and one line
in ``_ALL`` below (plus its tests and its section in docs/definition-format.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from meshhook.domain.node_types.base import ConfigIssue, NodeType
from meshhook.domain.node_types.branch import BRANCH
from meshhook.domain.node_types.delay import DELAY
from meshhook.domain.node_types.http_call import HTTP_CALL
from meshhook.domain.node_types.manual import MANUAL
from meshhook.domain.node_types.schedule import SCHEDULE
from meshhook.domain.node_types.terminate import TERMINATE
from meshhook.domain.node_types.transform import TRANSFORM
from meshhook.domain.node_types.webhook import WEBHOOK

__all__ = ["REGISTRY", "ConfigIssue", "NodeType", "get_node_type", "node_types_as_json"]

_ALL = (WEBHOOK, MANUAL, SCHEDULE, TRANSFORM, HTTP_CALL, BRANCH, DELAY, TERMINATE)

REGISTRY: Mapping[str, NodeType] = MappingProxyType({t.name: t for t in _ALL})


def get_node_type(name: str) -> NodeType | None:
    """The registered node type called ``name``, or ``None``."""
    return REGISTRY.get(name)


def node_types_as_json() -> list[dict[str, Any]]:
    """Every node type as served by ``GET /api/v1/node-types``, in palette order."""
    return [node_type.as_json() for node_type in _ALL]
