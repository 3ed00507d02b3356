"""Memoised graph checks: a one-node edit of a large workflow leaves its graph
(node ids and types, in order, and every edge) as it was, so the checks that
read only the graph are answered from a small cache instead of walking
thousands of edges again.

A graph's *signature* is a 16-byte BLAKE2b digest of exactly what those checks
read; the checks are pure functions of it, so a cached answer is the answer.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson

T = TypeVar("T")


def graph_signature(nodes: list[dict[str, Any]], edges: list[Any]) -> bytes | None:
    """The signature of a graph whose nodes are all sound (dicts with ``id`` and
    ``type``); ``None`` when an edge holds something JSON cannot (no caching)."""
    try:
        data = orjson.dumps(
            ([node["id"] for node in nodes], [node["type"] for node in nodes], edges)
        )
    except TypeError:
        return None
    return hashlib.blake2b(data, digest_size=16).digest()


class GraphMemo(Generic[T]):
    """A bounded least-recently-used map from graph signature to a check's answer.

    ``keep`` says whether an answer is small enough to hold: 64 answers of
    20,000 problems each would hold hundreds of megabytes.
    """

    def __init__(self, size: int = 64, keep: Callable[[T], bool] | None = None) -> None:
        self.size = size
        self._keep = keep
        self._entries: OrderedDict[bytes, T] = OrderedDict()

    def get(self, signature: bytes | None, compute: Callable[[], T]) -> T:
        """The answer for ``signature``, computed (and kept) when not known."""
        if signature is None:
            return compute()
        found = self._entries.get(signature)
        if found is not None:
            self._entries.move_to_end(signature)
            return found
        answer = compute()
        if self._keep is not None and not self._keep(answer):
            return answer
        self._entries[signature] = answer
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return answer

    def clear(self) -> None:
        self._entries.clear()
