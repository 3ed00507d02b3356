"""Where a version's canonical text lives: delta chains plus the head's full text.

History grows with the change, not the workflow:

- ``workflow_versions.content`` holds each version packed (``store/deltas.py``):
  a *delta* against the version saved before it (``base_number``), or, every
  ``MAX_CHAIN_LENGTH`` versions or whenever a delta would not pay, a
  zlib-compressed *keyframe*. ``keyframe`` names the version a row's chain
  starts from, so any version is rebuilt from one range read of at most
  ``MAX_CHAIN_LENGTH`` rows.
- ``workflow_heads`` keeps the newest version's full text per workflow, so
  loading the head (what every read and save does) is one primary-key read,
  and the next save diffs against it without rebuilding anything.

Every read and write names the project as well as the workflow (the callers
are ``VersionStore`` methods, bound to one project).

Rows are deleted only with their workflow (``ON DELETE CASCADE``): a purge
(bundle import with ``force``) takes the whole chain and the head with it, and
no row is shared between workflows, so nothing can leak or dangle. A soft
delete keeps everything, because the workflow stays restorable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from meshhook.store import deltas
from meshhook.store.tables import workflow_heads, workflow_versions

# Longest delta chain: bounds the work of loading an old version (one keyframe
# plus this many small deltas) and adds 1/MAX_CHAIN_LENGTH of a compressed
# keyframe to the average save.
MAX_CHAIN_LENGTH = 64
# A delta larger than this fraction of the text is stored as a keyframe instead.
_DELTA_WORTH = 4

_CACHE = "meshhook.version_heads"
# Heads one transaction keeps (the most recently seen): a save needs one; an
# import of a thousand workflows must not keep every head's text until it
# commits (issue #15 §4). A head evicted is read again, with the transaction's
# own writes, so the bound never changes an answer.
_HEADS_KEPT = 8


@dataclass(frozen=True, slots=True)
class Head:
    """The newest version of a workflow, with where its delta chain stands."""

    number: int
    keyframe: int
    chain_length: int
    chain_bytes: int
    text: bytes


@dataclass(frozen=True, slots=True)
class Packed:
    """What one ``workflow_versions`` row stores for its content."""

    content: bytes
    base_number: int | None
    keyframe: int


def pack(head: Head | None, number: int, text: bytes) -> tuple[Packed, Head | None]:
    """How to store version ``number`` given the current head; and the new head.

    A version older than the head (only imports write those) is a keyframe and
    leaves the head alone.
    """
    if head is not None and number <= head.number:
        return Packed(deltas.pack_keyframe(text), None, number), None
    if head is not None and head.chain_length + 1 < MAX_CHAIN_LENGTH:
        delta = deltas.pack_delta(deltas.diff_texts(head.text, text))
        chain_bytes = head.chain_bytes + len(delta)
        if len(delta) * _DELTA_WORTH <= len(text) and chain_bytes <= len(text):
            packed = Packed(delta, head.number, head.keyframe)
            return packed, Head(number, head.keyframe, head.chain_length + 1, chain_bytes, text)
    return Packed(deltas.pack_keyframe(text), None, number), Head(number, number, 0, 0, text)


# Every save reads and writes the head: built once (store/__init__.py, "Statements").
# The WHERE parameter is named apart from the columns the UPDATE sets.
_HEAD = select(workflow_heads).where(
    workflow_heads.c.project_id == bindparam("project_id"),
    workflow_heads.c.workflow_id == bindparam("workflow_id"),
)
_UPDATE_HEAD = update(workflow_heads).where(
    workflow_heads.c.project_id == bindparam("head_project"),
    workflow_heads.c.workflow_id == bindparam("head_of"),
)
_INSERT_HEAD = insert(workflow_heads)


def current_head(session: Session, project_id: UUID, workflow_id: UUID) -> Head | None:
    """The head as this transaction last saw it, else as stored."""
    cached = _cache(session).get((project_id, workflow_id))
    if cached is not None:
        return cached
    row = session.execute(_HEAD, {"project_id": project_id, "workflow_id": workflow_id}).first()
    if row is None:
        return None
    return remember(session, project_id, workflow_id, _head_of(row))


def _head_of(row: Any) -> Head:
    return Head(
        number=row.number,
        keyframe=row.keyframe,
        chain_length=row.chain_length,
        chain_bytes=row.chain_bytes,
        text=row.definition.encode(),
    )


def put_head(
    session: Session, project_id: UUID, workflow_id: UUID, head: Head, *, exists: bool
) -> None:
    values = {
        "number": head.number,
        "keyframe": head.keyframe,
        "chain_length": head.chain_length,
        "chain_bytes": head.chain_bytes,
        "definition": head.text.decode(),
    }
    if exists:
        session.execute(
            _UPDATE_HEAD, {"head_project": project_id, "head_of": workflow_id, **values}
        )
    else:
        session.execute(
            _INSERT_HEAD, {"workflow_id": workflow_id, "project_id": project_id, **values}
        )
    remember(session, project_id, workflow_id, head)


def remember(session: Session, project_id: UUID, workflow_id: UUID, head: Head) -> Head:
    """Keep the head for the rest of this transaction (a save reads, then diffs),
    among the last ``_HEADS_KEPT`` heads it saw."""
    cache = _cache(session)
    key = (project_id, workflow_id)
    cache.pop(key, None)
    cache[key] = head
    while len(cache) > _HEADS_KEPT:
        del cache[next(iter(cache))]
    return head


def _cache(session: Session) -> dict[tuple[UUID, UUID], Head]:
    # Keyed by the transaction: what one transaction saw says nothing about the next.
    transaction = session.get_transaction()
    entry = session.info.get(_CACHE)
    if entry is None or entry[0] is not transaction:
        entry = (transaction, {})
        session.info[_CACHE] = entry
    cache: dict[tuple[UUID, UUID], Head] = entry[1]
    return cache


def rebuild(
    session: Session, project_id: UUID, workflow_id: UUID, number: int, keyframe: int
) -> bytes:
    """The canonical text of a version that is not the head: its chain, replayed."""
    rows = session.execute(
        select(
            workflow_versions.c.number,
            workflow_versions.c.base_number,
            workflow_versions.c.content,
        ).where(
            workflow_versions.c.project_id == project_id,
            workflow_versions.c.workflow_id == workflow_id,
            workflow_versions.c.number.between(keyframe, number),
        )
    ).all()
    return replay({row.number: (row.base_number, bytes(row.content)) for row in rows}, number)


def replay(chain: dict[int, tuple[int | None, bytes]], number: int) -> bytes:
    """Follow ``base_number`` links from ``number`` back to a keyframe, then forward."""
    steps: list[bytes] = []
    at: int | None = number
    while at is not None:
        base, content = chain[at]
        steps.append(content)
        at = base
    text = deltas.unpack_keyframe(steps.pop())
    while steps:
        text = deltas.apply_delta(text, steps.pop())
    return text
