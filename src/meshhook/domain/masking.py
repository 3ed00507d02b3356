"""Hiding the values of sensitive config fields in diffs, patches and conflicts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from meshhook.domain import pointers
from meshhook.domain.node_types import REGISTRY, NodeType
from meshhook.domain.patch import deep_copy

MASK = "***"


def node_types_of(*nodes: Any) -> list[NodeType]:
    """The registered types of the given nodes (a node's type may differ by side)."""
    found: list[NodeType] = []
    for node in nodes:
        if isinstance(node, dict):
            node_type = REGISTRY.get(node.get("type"))  # type: ignore[arg-type]
            if node_type is not None and node_type not in found:
                found.append(node_type)
    return found


def _set(document: Any, tokens: list[str], value: Any) -> None:
    for token in tokens[:-1]:
        document = document[int(token)] if isinstance(document, list) else document[token]
    if isinstance(document, list):
        document[int(tokens[-1])] = value
    else:
        document[tokens[-1]] = value


def mask_config_value(types: Iterable[NodeType], inner: str, value: Any) -> tuple[Any, bool]:
    """Mask ``value`` found at ``inner`` (a pointer inside a config).

    Returns the value to show and whether anything was masked: the whole value
    when ``inner`` is sensitive, else a copy with its sensitive parts masked.
    """
    kinds = list(types)
    if inner and any(kind.is_sensitive(inner) for kind in kinds):
        return MASK, True
    tokens = pointers.split(inner)
    wrapper = value
    for token in reversed(tokens):
        wrapper = {token: wrapper}  # config-shaped, so patterns match from the root
    hits = [pointer for kind in kinds for pointer, _ in kind.sensitive_values(wrapper)]
    if not hits:
        return value, False
    masked = deep_copy(value)
    for pointer in hits:
        below = pointers.split(pointer)[len(tokens) :]
        if not below:
            return MASK, True
        _set(masked, below, MASK)
    return masked, True


def mask_in_node(types: Iterable[NodeType], pointer_in_node: str, value: Any) -> tuple[Any, bool]:
    """Like :func:`mask_config_value` for a pointer relative to a node (``/config/...``)."""
    tokens = pointers.split(pointer_in_node)
    if not tokens:
        return mask_node(value)
    if tokens[0] != "config":
        return value, False
    return mask_config_value(types, pointers.from_tokens(tokens[1:]), value)


def mask_node(node: Any) -> tuple[Any, bool]:
    """A copy of ``node`` with its sensitive config values masked (if any)."""
    if not isinstance(node, dict) or not isinstance(node.get("config"), dict):
        return node, False
    config, masked = mask_config_value(node_types_of(node), "", node["config"])
    return ({**node, "config": config}, True) if masked else (node, False)
