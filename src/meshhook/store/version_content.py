"""Where a version's canonical text lives: delta chains plus the head's full text.

History grows with the change, not the workflow:

- ``workflow_versions.content`` holds each version packed (``store/deltas.py``):
  a *delta* against the version saved before it (``base_number``), or, every
  ``MAX_CHAIN_LENGTH`` versions or whenever a delta would not pay, a
  zlib-compressed *keyframe*. ``keyframe`` names the version a row's chain
  starts from, so any version is rebuilt from one range read of at most
  ``MAX_CHAIN_LENGTH`` rows.
- ``workflow_heads`` keeps a recent version's full text per workflow
  (``text_number``; ``NULL``: the head's own): at most ``MAX_HEAD_LAG``
  versions behind the head. A save rewrites that 347 KB text (1,000 nodes)
  only every ``MAX_HEAD_LAG`` versions; in between it updates the row's small
  columns alone, which SQLite overwrites in place (one page into the WAL
  instead of ~170) and PostgreSQL without a new TOAST value. The head's text
  is then that text plus the few deltas after it, or, in the process that
  saved it, :data:`TEXTS` by content hash; the next save diffs against it
  without rebuilding anything.

Every read and write names the project as well as the workflow (the callers
are ``VersionStore`` methods, bound to one project).

Rows are deleted only with their workflow (``ON DELETE CASCADE``): a purge
(bundle import with ``force``) takes the whole chain and the head with it, and
no row is shared between workflows, so nothing can leak or dangle. A soft
delete keeps everything, because the workflow stays restorable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from meshhook.domain.bounded_cache import BoundedCache
from meshhook.store import batched_writes, deltas
from meshhook.store.batched_writes import Write
from meshhook.store.tables import workflow_heads, workflow_versions

# Longest delta chain: bounds the work of loading an old version (one keyframe
# plus this many small deltas) and adds 1/MAX_CHAIN_LENGTH of a compressed
# keyframe to the average save.
MAX_CHAIN_LENGTH = 64
# A delta larger than this fraction of the text is stored as a keyframe instead.
_DELTA_WORTH = 4
# Most versions the head row's full text may be behind the head: a cold load of
# the head replays at most this many deltas (~40 us each for 347 KB).
MAX_HEAD_LAG = 16

# Canonical texts by content hash, as this process saved or rebuilt them: a
# head whose row text lags is served from here without replaying its deltas.
# Content-addressed, so an entry is right for whoever holds the hash.
TEXTS: BoundedCache[str, bytes] = BoundedCache(
    max_entries=32, max_bytes=16 * 1024 * 1024, max_entry_bytes=8 * 1024 * 1024
)

_CACHE = "meshhook.version_heads"
# Heads one transaction keeps (the most recently seen): a save needs one; an
# import of a thousand workflows must not keep every head's text until it
# commits (issue #15 §4). A head evicted is read again, with the transaction's
# own writes, so the bound never changes an answer.
_HEADS_KEPT = 8


@dataclass(frozen=True, slots=True)
class Head:
    """The newest version of a workflow, with where its delta chain stands.

    ``text`` is always the head's own; ``stored`` is the version whose full
    text the row holds (``number`` when it is the head's)."""

    number: int
    keyframe: int
    chain_length: int
    chain_bytes: int
    text: bytes
    stored: int

    def settled(self) -> Head:
        """This head with its own text to be stored."""
        return replace(self, stored=self.number)


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
    # The row's text stays until it is MAX_HEAD_LAG versions behind.
    stored = head.stored if head is not None and number - head.stored <= MAX_HEAD_LAG else number
    if head is not None and head.chain_length + 1 < MAX_CHAIN_LENGTH:
        delta = deltas.pack_delta(deltas.diff_texts(head.text, text))
        chain_bytes = head.chain_bytes + len(delta)
        if len(delta) * _DELTA_WORTH <= len(text) and chain_bytes <= len(text):
            packed = Packed(delta, head.number, head.keyframe)
            new_head = Head(number, head.keyframe, head.chain_length + 1, chain_bytes, text, stored)
            return packed, new_head
    return Packed(deltas.pack_keyframe(text), None, number), Head(
        number, number, 0, 0, text, stored
    )


# Every save reads the head: built once (store/__init__.py, "Statements").
_HEAD = select(workflow_heads).where(
    workflow_heads.c.project_id == bindparam("project_id"),
    workflow_heads.c.workflow_id == bindparam("workflow_id"),
)
_CHAIN = select(
    workflow_versions.c.number, workflow_versions.c.base_number, workflow_versions.c.content
).where(
    workflow_versions.c.project_id == bindparam("project_id"),
    workflow_versions.c.workflow_id == bindparam("workflow_id"),
    workflow_versions.c.number > bindparam("after"),
    workflow_versions.c.number <= bindparam("number"),
)


def current_head(session: Session, project_id: UUID, workflow_id: UUID) -> Head | None:
    """The head as this transaction last saw it, else as stored (``None`` for
    a workflow without versions)."""
    cache = _cache(session)
    key = (project_id, workflow_id)
    if key in cache:
        return cache[key]
    row = session.execute(_HEAD, {"project_id": project_id, "workflow_id": workflow_id}).first()
    if row is None:
        return None
    stored = HeadRow(
        row.number, row.keyframe, row.chain_length, row.chain_bytes, row.definition, row.text_number
    )
    head = head_of(session, project_id, workflow_id, stored, content_hash=None)
    return remember(session, project_id, workflow_id, head)


class HeadRow(NamedTuple):
    """A ``workflow_heads`` row's columns (``definition``: ``None`` when not read)."""

    number: int
    keyframe: int
    chain_length: int
    chain_bytes: int
    definition: str | None
    text_number: int | None


_HEAD_TEXT = select(workflow_heads.c.definition, workflow_heads.c.text_number).where(
    workflow_heads.c.project_id == bindparam("project_id"),
    workflow_heads.c.workflow_id == bindparam("workflow_id"),
)


def head_of(
    session: Session,
    project_id: UUID,
    workflow_id: UUID,
    row: HeadRow,
    *,
    content_hash: str | None,
) -> Head:
    """The head a ``workflow_heads`` row stands for. Its text comes from
    :data:`TEXTS` by ``content_hash`` (the head version's) when held there (the
    row's 347 KB are then not even read), else from the row (read now if
    ``row.definition`` is ``None``) and the deltas after it."""
    number = row.number
    stored = number if row.text_number is None else row.text_number
    text = None if content_hash is None else TEXTS.lookup(content_hash)[1]
    if text is None:
        definition = row.definition
        if definition is None:
            parameters = {"project_id": project_id, "workflow_id": workflow_id}
            found = session.execute(_HEAD_TEXT, parameters).first()
            if found is None or found.text_number != row.text_number:
                # A save committed in between (a read holds no lock): the
                # version rows do not change, so the head is rebuilt from them.
                text = rebuild_from_start(session, project_id, workflow_id, number)
                return Head(number, row.keyframe, row.chain_length, row.chain_bytes, text, stored)
            definition = found.definition
        text = definition.encode()
        if stored != number:
            text = _newer_text(session, project_id, workflow_id, stored, text, number)
            if content_hash is not None:
                TEXTS.put(content_hash, text, len(text))
    return Head(number, row.keyframe, row.chain_length, row.chain_bytes, text, stored)


def _newer_text(
    session: Session, project_id: UUID, workflow_id: UUID, stored: int, text: bytes, number: int
) -> bytes:
    """Version ``number``'s text from version ``stored``'s (``text``): the deltas
    in between applied, back along ``base_number`` to ``stored`` or a keyframe."""
    rows = session.execute(
        _CHAIN,
        {"project_id": project_id, "workflow_id": workflow_id, "after": stored, "number": number},
    ).all()
    chain = {row.number: (row.base_number, bytes(row.content)) for row in rows}
    steps: list[bytes] = []
    at = number
    while at != stored:
        if at not in chain:  # not a chain through ``stored``: rebuilt from its keyframe
            return rebuild_from_start(session, project_id, workflow_id, number)
        base, content = chain[at]
        if base is None:
            text = deltas.unpack_keyframe(content)
            break
        steps.append(content)
        at = base
    for content in reversed(steps):
        text = deltas.apply_delta(text, content)
    return text


def put_head(
    session: Session, project_id: UUID, workflow_id: UUID, head: Head, *, exists: bool
) -> None:
    """Store ``head``: its full text only when ``head.stored`` is the head itself
    (always for a new row), else only where its chain stands."""
    if not exists:
        head = head.settled()
    values: dict[str, Any] = {
        "number": head.number,
        "keyframe": head.keyframe,
        "chain_length": head.chain_length,
        "chain_bytes": head.chain_bytes,
        # Always named (a NULL would mean the head's own text); unchanged while
        # the text lags, so the row keeps its size and is overwritten in place.
        "text_number": head.stored,
    }
    if head.stored == head.number:
        values["definition"] = head.text.decode()
    row = {"project_id": project_id, "workflow_id": workflow_id}
    if exists:
        batched_writes.write(session, Write(workflow_heads, values, where=row))
    else:
        batched_writes.write(session, Write(workflow_heads, row | values))
    remember(session, project_id, workflow_id, head)


def remember(session: Session, project_id: UUID, workflow_id: UUID, head: Head) -> Head:
    """Keep the head for the rest of this transaction (a save reads, then diffs),
    among the last ``_HEADS_KEPT`` heads it saw."""
    _keep(session, (project_id, workflow_id), head)
    return head


def remember_new_workflow(session: Session, project_id: UUID, workflow_id: UUID) -> None:
    """This transaction just inserted the workflow in this project: it has no
    head yet, and its first version need not read that it exists (forgotten
    like a head, when it is then read as before)."""
    _keep(session, (project_id, workflow_id), None)


def is_known_workflow(session: Session, project_id: UUID, workflow_id: UUID) -> bool:
    """Whether this transaction saw the workflow in this project (a head, or
    :func:`remember_new_workflow`)."""
    return (project_id, workflow_id) in _cache(session)


def _keep(session: Session, key: tuple[UUID, UUID], head: Head | None) -> None:
    cache = _cache(session)
    cache.pop(key, None)
    cache[key] = head
    while len(cache) > _HEADS_KEPT:
        del cache[next(iter(cache))]


def _cache(session: Session) -> dict[tuple[UUID, UUID], Head | None]:
    # Keyed by the transaction: what one transaction saw says nothing about the next.
    transaction = session.get_transaction()
    entry = session.info.get(_CACHE)
    if entry is None or entry[0] is not transaction:
        entry = (transaction, {})
        session.info[_CACHE] = entry
    cache: dict[tuple[UUID, UUID], Head | None] = entry[1]
    return cache


def rebuild_from_start(session: Session, project_id: UUID, workflow_id: UUID, number: int) -> bytes:
    """The canonical text of version ``number``, from its row's keyframe on."""
    keyframe = session.execute(
        select(workflow_versions.c.keyframe).where(
            workflow_versions.c.project_id == project_id,
            workflow_versions.c.workflow_id == workflow_id,
            workflow_versions.c.number == number,
        )
    ).scalar_one()
    return rebuild(session, project_id, workflow_id, number, keyframe)


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
