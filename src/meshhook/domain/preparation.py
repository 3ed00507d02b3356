"""Turning a submitted definition into what is stored, and the problems a stored
definition has: pure functions, no I/O.

- :func:`prepare` validates the structure (once), normalises, and builds the
  canonical bytes and content hash (once). A structural problem is a 422.
- :func:`derived_problems` are a definition's completeness problems in a
  project's context (its secret names and restricted hosts): what publishing
  refuses, ``secret.unknown`` included. They are *derived* data: versions do
  not store them (a 1,000-node draft with 300 problems stored ~110 KB of
  problems per one-node edit); :class:`ProblemsCache` keeps recent answers by
  content hash and project context.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import orjson

from meshhook.domain import canonical
from meshhook.domain.bounded_cache import BoundedCache
from meshhook.domain.completeness import NodeProblems, completeness_findings
from meshhook.domain.errors import Problem, ValidationFailed
from meshhook.domain.indexes import AllExcept, not_in
from meshhook.domain.limits import MAX_DEFINITION_BYTES, cap_problems
from meshhook.domain.secret_fields import secret_field_problems
from meshhook.domain.splice import spliced_canonical
from meshhook.domain.structural import StructureCheck, check_structure


@dataclass(frozen=True, slots=True)
class PreparedDefinition:
    """A structurally valid definition, normalised, with its canonical bytes and hash."""

    definition: dict[str, Any]
    canonical: bytes
    content_hash: str
    # The graph signature the structural check computed (memoised graph checks).
    graph: bytes | None = None


def normalize_definition(
    definition: dict[str, Any], *, only: Iterable[int] | None = None
) -> dict[str, Any]:
    """A copy with the optional parts made explicit (``settings: {}``, ``config: {}``).

    Storing the normalised form means a definition with and without an empty
    ``settings`` has one content hash. Expects a structurally valid definition.
    ``only``: the indexes of the nodes that may lack a config (an edit's; the
    others are as in the normalised version it edits): when none does, the copy
    shares the node list instead of building another.
    """
    if only is not None and "settings" in definition:
        listed = definition["nodes"]
        if all("config" in listed[i] for i in only):
            return {**definition}
    nodes = [node if "config" in node else {**node, "config": {}} for node in definition["nodes"]]
    return {**definition, "nodes": nodes, "settings": definition.get("settings", {})}


def _refusal(problems: Sequence[Problem]) -> ValidationFailed:
    count = len(problems)
    return ValidationFailed(
        f"The definition has {count} structural problem{'s' if count > 1 else ''}",
        errors=cap_problems(problems),
    )


def prepare(
    definition: Any,
    *,
    pointer_prefix: str = "/definition",
    unchanged: Container[int] = (),
    sound_base: bool = False,
    graph: bytes | None = None,
    edit_of: tuple[bytes, dict[str, Any]] | None = None,
) -> PreparedDefinition:
    """Validate the structure (422 on failure, paths under ``pointer_prefix``) and
    compute what a version stores. The structural check runs once; the size
    limit is checked on the canonical bytes, which are built once.
    ``unchanged``: the indexes of nodes as they were in the stored version this
    is an edit of (see ``check_structure``): not checked again; with
    ``sound_base`` that version passed this check whole (secret rules included),
    so their secret rules are not checked again either. ``graph``: the graph
    signature of that version when the edit kept its graph (see
    ``check_structure``). ``edit_of``: the canonical bytes and the parsed
    definition of the version ``definition`` is a copy-on-write edit of: the
    canonical bytes are spliced from that version's (see ``domain/splice.py``)."""
    check: StructureCheck = check_structure(
        definition, unchanged=unchanged, secrets_unchanged=sound_base, graph=graph
    )
    if check.problems:
        raise under(_refusal(check.problems), pointer_prefix)
    # An edit of a version this process prepared: only its touched nodes may
    # lack a config (the others are that version's, normalised).
    edited = (
        not_in(unchanged, len(definition["nodes"]))
        if sound_base and isinstance(unchanged, AllExcept)
        else None
    )
    normalised = normalize_definition(definition, only=edited)
    data = spliced_canonical(*edit_of, normalised) if edit_of is not None else None
    if data is None:
        data = canonical.canonical_bytes(normalised, plain=check.plain)
    if len(data) > MAX_DEFINITION_BYTES:
        message = f"definition is {len(data)} bytes; the limit is 5 MiB"
        raise under(_refusal([Problem("", "limit.size", message)]), pointer_prefix)
    return PreparedDefinition(
        definition=normalised,
        canonical=data,
        content_hash=canonical.content_hash(data),
        graph=check.graph,
    )


def prepare_like(
    definition: Any,
    like: dict[str, Any],
    like_canonical: bytes | None = None,
    *,
    pointer_prefix: str = "/definition",
) -> tuple[PreparedDefinition, Container[int]]:
    """:func:`prepare` for a whole definition that is likely ``like`` with a few
    changes (a PUT of an edited head), and the indexes of its nodes that are
    exactly ``like``'s at the same index (by JSON text: see :func:`same_nodes`),
    as an :class:`AllExcept` of the others (``()`` when there are none).

    ``like`` must have passed :func:`prepare` whole (it is held in
    :data:`SOUND`); ``like_canonical`` is its canonical bytes, when known. The
    structural checks of a node are its own (only id uniqueness involves the
    others, and that is checked again), so those nodes are not checked again,
    secret rules included: the answer is :func:`prepare`'s. The result shares
    those node objects (and ``edges`` and ``settings`` when they are ``like``'s
    too) with ``like``, read-only, as a copy-on-write patch does; its canonical
    bytes are then spliced from ``like_canonical``. ``definition`` itself is
    left as it is."""
    if type(definition) is not dict or type(definition.get("nodes")) is not list:
        return prepare(definition, pointer_prefix=pointer_prefix), ()
    same = same_nodes(like, definition)
    if not same:
        return prepare(definition, pointer_prefix=pointer_prefix), ()
    held = like["nodes"]
    nodes = definition["nodes"]
    # As a patch's: the few changed nodes are visited, the runs between them
    # join the id index in bulk (``structural._node_problems``).
    unchanged = AllExcept(set(range(len(nodes))) - same)
    shared = {
        **definition,
        "nodes": [held[i] if i in same else node for i, node in enumerate(nodes)],
    }
    for key in ("edges", "settings"):
        if key in like and _same_json(definition.get(key, _ABSENT), like[key]):
            shared[key] = like[key]
    if "settings" not in definition and like.get("settings") == {}:
        shared["settings"] = like["settings"]  # what normalising adds
    prepared = prepare(
        shared,
        pointer_prefix=pointer_prefix,
        unchanged=unchanged,
        sound_base=True,
        edit_of=(like_canonical, like) if like_canonical is not None else None,
    )
    return prepared, unchanged


_ABSENT = object()


def _same_json(value: Any, held: Any) -> bool:
    """Whether ``value`` is ``held`` as JSON text (types kept: ``1`` is not ``true``)."""
    if value is _ABSENT or value != held:
        return False
    try:
        return _json(value) == _json(held)
    except orjson.JSONEncodeError:
        return False


def load(data: bytes) -> dict[str, Any]:
    """A stored definition back as JSON values."""
    value: dict[str, Any] = canonical.parse_json(data)
    return value


class SoundDefinitions:
    """Definitions this process prepared (they passed :func:`prepare` whole), by
    content hash, as parsed JSON values *shared read-only*: the next edit of a
    large workflow starts from its head without parsing it again, and patches it
    copy-on-write (``patch_definition(..., shared=True)``). Bounded by bytes
    (a parsed definition weighs about ``WEIGHT`` times its canonical bytes:
    1.3 MB for the 347 KB of 1,000 nodes, measured with tracemalloc);
    only definitions of ``MIN_BYTES`` or more are kept (smaller ones parse in
    well under a millisecond)."""

    WEIGHT = 4
    MIN_BYTES = 32 * 1024

    def __init__(self, *, max_entries: int = 16, max_bytes: int = 16 * 1024 * 1024) -> None:
        # The parsed definition, and its graph signature (see ``graph``).
        self._cache: BoundedCache[str, tuple[dict[str, Any], bytes | None]] = BoundedCache(
            max_entries=max_entries, max_bytes=max_bytes, max_entry_bytes=max_bytes // 2
        )

    def remember(self, prepared: PreparedDefinition) -> None:
        if len(prepared.canonical) >= self.MIN_BYTES:
            weight = self.WEIGHT * len(prepared.canonical)
            entry = (prepared.definition, prepared.graph)
            self._cache.put(prepared.content_hash, entry, weight)

    def get(self, content_hash: str) -> dict[str, Any] | None:
        """The parsed definition of ``content_hash`` if held: never change it."""
        entry = self._cache.lookup(content_hash)[1]
        return entry[0] if entry is not None else None

    def graph(self, content_hash: str) -> bytes | None:
        """The graph signature ``prepare`` found for ``content_hash``, if held."""
        entry = self._cache.lookup(content_hash)[1]
        return entry[1] if entry is not None else None

    def load(self, content_hash: str, data: bytes) -> dict[str, Any]:
        """The definition of ``content_hash`` (canonical ``data``), read-only."""
        held = self.get(content_hash)
        return held if held is not None else load(data)

    def clear(self) -> None:
        self._cache.clear()


SOUND = SoundDefinitions()


def blocking(problems: Collection[Problem]) -> list[Problem]:
    """The problems that block publishing (errors; warnings never do)."""
    return [problem for problem in problems if problem.severity == "error"]


def under(error: ValidationFailed, prefix: str) -> ValidationFailed:
    """``error`` with every problem path moved under ``prefix``."""
    return ValidationFailed(
        error.detail,
        errors=[
            Problem(prefix + problem.path, problem.code, problem.message, problem.severity)
            for problem in error.errors
        ],
        extra=error.extra,
    )


@dataclass(frozen=True, slots=True)
class Findings:
    """A definition's derived problems, and each node's own completeness problems
    (what an edit of other nodes reuses)."""

    problems: tuple[Problem, ...]
    by_node: NodeProblems


def derived_findings(
    definition: dict[str, Any],
    *,
    secret_names: Collection[str] | None,
    allowed_hosts: Mapping[str, Sequence[str]] | None,
    graph: bytes | None = None,
    sound: bool = False,
    known_nodes: Mapping[int, tuple[Problem, ...]] | None = None,
) -> Findings:
    """Everything publishing would refuse (and its warnings), capped.

    Secret rules first (only versions stored before they were enforced at save
    can break them; ``sound`` says the content just passed the structural check,
    which includes them), then completeness with the project's secrets.
    ``known_nodes`` are the problems of nodes unchanged since a definition
    already checked in the same context (see :func:`unchanged_nodes`).
    """
    problems: list[Problem] = []
    if not sound:
        problems.extend(secret_field_problems(definition.get("nodes", [])))
    by_node, rest = completeness_findings(
        definition,
        secret_names=secret_names,
        allowed_hosts=allowed_hosts,
        graph=graph,
        known_nodes=known_nodes,
    )
    problems.extend(chain.from_iterable(by_node))
    problems.extend(rest)
    return Findings(tuple(cap_problems(problems)), by_node)


def derived_problems(
    definition: dict[str, Any],
    *,
    secret_names: Collection[str] | None,
    allowed_hosts: Mapping[str, Sequence[str]] | None,
    graph: bytes | None = None,
) -> tuple[Problem, ...]:
    """:func:`derived_findings`' problems, checked from scratch."""
    return derived_findings(
        definition, secret_names=secret_names, allowed_hosts=allowed_hosts, graph=graph
    ).problems


def same_nodes(old: dict[str, Any], new: dict[str, Any]) -> set[int]:
    """The indexes at which ``new`` has exactly ``old``'s node.

    Python's ``==`` takes ``true`` for ``1`` and ``1.0`` for ``1``, so the nodes
    it finds equal are confirmed by their JSON text, which keeps the types
    (all at once; one by one only when that differs): a node whose ``1``
    became ``true`` is checked again, not passed as unchanged."""
    old_nodes = old.get("nodes", [])
    new_nodes = new.get("nodes", [])
    equal = [i for i, node in enumerate(new_nodes[: len(old_nodes)]) if node == old_nodes[i]]
    try:
        if _json([new_nodes[i] for i in equal]) == _json([old_nodes[i] for i in equal]):
            return set(equal)
        return {i for i in equal if _json(new_nodes[i]) == _json(old_nodes[i])}
    except orjson.JSONEncodeError:  # not JSON orjson writes: take nothing as unchanged
        return set()


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def unchanged_nodes(
    unchanged: Container[int], new: dict[str, Any], by_node: NodeProblems
) -> dict[int, tuple[Problem, ...]]:
    """The problems of the base's nodes that ``new`` has unchanged at the same
    index (``unchanged``; a node's own problems depend on nothing else but the
    project's secrets, which are part of the cache key)."""
    count = min(len(by_node), len(new.get("nodes", [])))
    if isinstance(unchanged, AllExcept):  # a patch's: drop its few touched nodes
        known = dict(enumerate(by_node[:count]))
        for i in unchanged.excluded:
            known.pop(i, None)
        return known
    return {i: by_node[i] for i in range(count) if i in unchanged}


# What a project's problems depend on besides the content: its secrets' names and
# each restricted secret's host patterns.
Context = tuple[frozenset[str], tuple[tuple[str, tuple[str, ...]], ...]]


def context_key(
    secret_names: Collection[str], allowed_hosts: Mapping[str, Sequence[str]]
) -> Context:
    return frozenset(secret_names), tuple(
        sorted((name, tuple(hosts)) for name, hosts in allowed_hosts.items())
    )


def _weight(findings: Findings) -> int:
    return sum(
        100 + len(p.path) + len(p.code) + len(p.message)
        for found in (findings.problems, *findings.by_node)
        for p in found
    ) + 8 * len(findings.by_node)


class ProblemsCache:
    """Derived problems by ``(content hash, project context)``, bounded by bytes.

    Loading a head or saving the same content again answers from here. An edit
    names its base (hash and parsed content): when the base's findings are held,
    only the nodes that changed are checked again (graph checks are memoised
    underneath; the rest is whole-definition and cheap).
    """

    def __init__(self, *, max_entries: int = 1_024, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._cache: BoundedCache[tuple[str, Context], Findings] = BoundedCache(
            max_entries=max_entries, max_bytes=max_bytes, max_entry_bytes=max_bytes // 8
        )

    def get(
        self,
        content_hash: str,
        context: Context,
        definition: Any,
        *,
        graph: bytes | None = None,
        sound: bool = False,
        base: tuple[str, Callable[[], Container[int]]] | None = None,
    ) -> tuple[Problem, ...]:
        """The problems of the content ``content_hash``; ``definition`` is its JSON
        value, or a zero-argument callable returning it (loaded only on a miss).
        ``sound``: it just passed the structural check. ``base``: the hash of the
        version it was edited from, and a callable (called only when that version's
        findings are held) giving the indexes of the nodes unchanged since."""
        key = (content_hash, context)
        held, found = self._cache.lookup(key)
        if held and found is not None:
            return found.problems
        value = definition() if callable(definition) else definition
        names, hosts = context
        known_nodes = None
        if base is not None:
            base_held, base_found = self._cache.lookup((base[0], context))
            if base_held and base_found is not None:
                known_nodes = unchanged_nodes(base[1](), value, base_found.by_node)
        findings = derived_findings(
            value,
            secret_names=names,
            allowed_hosts=dict(hosts),
            graph=graph,
            sound=sound,
            known_nodes=known_nodes,
        )
        self._cache.put(key, findings, _weight(findings) + len(content_hash))
        return findings.problems

    def clear(self) -> None:
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)
