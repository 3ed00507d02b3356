"""Immutable workflow versions and the aliases pointing at them, reached as
``scope.versions`` (:class:`VersionStore`) and ``scope.aliases``
(:class:`AliasStore`).

How a version's definition is stored is this module's business alone: callers
hand in and get back canonical JSON bytes. Behind these methods the history
is a chain of line deltas with periodic keyframes, plus the head's full text
(see ``store/version_content.py``), so it grows with the change, not the
workflow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, bindparam, delete, insert, literal, select, update
from sqlalchemy.orm import Session

from meshhook.domain.errors import NotFound
from meshhook.domain.workflows import Alias, Version, VersionInfo, VersionState, Workflow
from meshhook.store import batched_writes, deltas, version_content
from meshhook.store.batched_writes import Write
from meshhook.store.repository import ProjectRepository, unique_conflicts
from meshhook.store.secrets import names_and_hosts_column, names_and_hosts_from
from meshhook.store.tables import aliases, workflow_heads, workflow_versions, workflows
from meshhook.store.workflows import workflow_from_row

SecretNamesAndHosts = tuple[set[str], dict[str, tuple[str, ...]]]

_STORAGE_COLUMNS = ("project_id", "content", "base_number", "keyframe")
_INFO_COLUMNS = [c for c in workflow_versions.c if c.name not in _STORAGE_COLUMNS]


def _info(row: Any) -> VersionInfo:
    return VersionInfo(
        workflow_id=row.workflow_id,
        number=row.number,
        content_hash=row.content_hash,
        parent_number=row.parent_number,
        message=row.message,
        state=VersionState(row.state),
        created_at=row.created_at,
        created_by=row.created_by,
        published_at=row.published_at,
        published_by=row.published_by,
        tag=row.tag,
        note=row.note,
    )


def _prefixed_info(row: Any, prefix: str) -> VersionInfo:
    """:func:`_info` of a row whose version columns are labelled ``prefix`` + name."""
    mapping = row._mapping
    values = {column.name: mapping[prefix + column.name] for column in _INFO_COLUMNS}
    values["state"] = VersionState(values["state"])
    return VersionInfo(**values)


# Statements every save or load runs, built once (store/__init__.py, "Statements").
_WORKFLOW_IN_PROJECT = select(workflows.c.id).where(
    workflows.c.project_id == bindparam("project_id"),
    workflows.c.id == bindparam("workflow_id"),
)

_HEAD_COLUMNS = [
    workflow_heads.c.number.label("head_number"),
    workflow_heads.c.chain_length,
    workflow_heads.c.chain_bytes,
    workflow_heads.c.keyframe.label("head_keyframe"),
    workflow_heads.c.text_number,
]

_THIS_VERSION = and_(
    workflow_versions.c.project_id == bindparam("project_id"),
    workflow_versions.c.workflow_id == bindparam("workflow_id"),
    workflow_versions.c.number == bindparam("number"),
)
_VERSION_WITH_HEAD = (
    select(*_INFO_COLUMNS, workflow_versions.c.keyframe, *_HEAD_COLUMNS)
    .select_from(
        workflow_versions.outerjoin(
            workflow_heads,
            and_(
                workflow_heads.c.workflow_id == workflow_versions.c.workflow_id,
                workflow_heads.c.number == workflow_versions.c.number,
            ),
        )
    )
    .where(_THIS_VERSION)
)
_VERSION_INFO = select(*_INFO_COLUMNS).where(_THIS_VERSION)


_VERSION_PREFIX = "version_"


@cache
def _workflow_with_head(by_id: bool, postgres: bool, for_update: bool) -> Select[Any]:
    """A live workflow by id or key, its head version, where its head row stands and the
    project's secret names and hosts (what its problems depend on): one
    statement for a load or a save (store/__init__.py, "Statements"). The
    version and head rows are those of the workflow's project, as in
    ``_VERSION_WITH_HEAD``.

    ``for_update`` locks the workflow row (PostgreSQL; SQLite's writer holds the
    database) and joins the version as an outer join: when the lock was waited
    for, PostgreSQL rechecks the join against the row's newest version but with
    the version rows of the statement's older snapshot, so the head found may be
    missing or stale; :meth:`VersionStore.workflow_with_head` then reads it again."""
    found = (
        workflows.c.id == bindparam("workflow_id") if by_id else workflows.c.key == bindparam("key")
    )
    version_columns = [column.label(_VERSION_PREFIX + column.name) for column in _INFO_COLUMNS]
    head_version = and_(
        workflow_versions.c.project_id == workflows.c.project_id,
        workflow_versions.c.workflow_id == workflows.c.id,
        workflow_versions.c.number == workflows.c.head_version,
    )
    joined = (
        workflows.outerjoin(workflow_versions, head_version)
        if for_update
        else workflows.join(workflow_versions, head_version)
    )
    statement = (
        select(
            workflows,
            *version_columns,
            workflow_versions.c.keyframe,
            *_HEAD_COLUMNS,
            names_and_hosts_column(postgres).label("secret_names_and_hosts"),
        )
        .select_from(
            joined.outerjoin(
                workflow_heads,
                and_(
                    workflow_heads.c.workflow_id == workflow_versions.c.workflow_id,
                    workflow_heads.c.number == workflow_versions.c.number,
                ),
            )
        )
        .where(
            workflows.c.project_id == bindparam("project_id"),
            found,
            workflows.c.deleted_at.is_(None),
        )
    )
    return statement.with_for_update(of=workflows) if for_update else statement


def _head_version(
    session: Session, project_id: UUID, workflow_id: UUID, row: Any, info: VersionInfo
) -> Version:
    """The head version from a row with the ``_HEAD_COLUMNS``: its text is read
    only if this process does not hold it (``version_content.head_of``), and the
    head is kept for the rest of the transaction."""
    stored = version_content.HeadRow(
        row.head_number, row.head_keyframe, row.chain_length, row.chain_bytes, None, row.text_number
    )
    head = version_content.head_of(
        session, project_id, workflow_id, stored, content_hash=info.content_hash
    )
    version_content.remember(session, project_id, workflow_id, head)
    return Version(info=info, definition=head.text)


def _no_workflow(workflow_id: UUID) -> NotFound:
    return NotFound(f"no workflow {workflow_id} in this project")


@dataclass(frozen=True, slots=True)
class Rewrite:
    """New content for one version, with its hash."""

    definition: bytes
    content_hash: str


def _replayed(rows: Sequence[Any]) -> Iterator[tuple[Any, bytes]]:
    """Each row of one workflow (ascending numbers) with its text, rebuilt once
    along the chain; a text is kept only while a later row still builds on it."""
    uses = Counter(row.base_number for row in rows if row.base_number is not None)
    texts: dict[int, bytes] = {}
    for row in rows:
        base = row.base_number
        text = deltas.unpack(None if base is None else texts[base], bytes(row.content))
        if base is not None:
            uses[base] -= 1
            if not uses[base]:
                del texts[base]
        if uses[row.number]:
            texts[row.number] = text
        yield row, text


class VersionStore(ProjectRepository):
    """The versions of the project's workflows."""

    __slots__ = ()

    def _where(self, workflow_id: UUID) -> Any:
        return and_(
            workflow_versions.c.project_id == self.project_id,
            workflow_versions.c.workflow_id == workflow_id,
        )

    def insert(self, info: VersionInfo, definition: bytes) -> None:
        """Store a version whose content is ``definition`` (canonical bytes).

        Versions are written in increasing number per workflow (imports may leave
        gaps); the newest becomes the head. The workflow must be one of the
        project's (``NotFound`` otherwise, nothing written).
        """
        session, project_id = self.session, self.project_id
        head = version_content.current_head(session, project_id, info.workflow_id)
        if (
            head is None
            and not version_content.is_known_workflow(session, project_id, info.workflow_id)
            and not self._has_workflow(info.workflow_id)
        ):
            raise _no_workflow(info.workflow_id)
        packed, new_head = version_content.pack(head, info.number, definition)
        batched_writes.write(
            session,
            Write(
                workflow_versions,
                {
                    "workflow_id": info.workflow_id,
                    "number": info.number,
                    "project_id": project_id,
                    "content": packed.content,
                    "base_number": packed.base_number,
                    "keyframe": packed.keyframe,
                    "content_hash": info.content_hash,
                    "parent_number": info.parent_number,
                    "message": info.message,
                    "state": info.state.value,
                    "created_at": info.created_at,
                    "created_by": info.created_by,
                    "published_at": info.published_at,
                    "published_by": info.published_by,
                    "tag": info.tag,
                    "note": info.note,
                },
            ),
        )
        if new_head is not None:
            version_content.put_head(
                session, project_id, info.workflow_id, new_head, exists=head is not None
            )
            version_content.TEXTS.put(info.content_hash, definition, len(definition))

    def _has_workflow(self, workflow_id: UUID) -> bool:
        parameters = {"project_id": self.project_id, "workflow_id": workflow_id}
        return self.session.execute(_WORKFLOW_IN_PROJECT, parameters).first() is not None

    def get(self, workflow_id: UUID, number: int) -> Version | None:
        """A version with its canonical bytes: the head in one read, others rebuilt."""
        session, project_id = self.session, self.project_id
        row = session.execute(
            _VERSION_WITH_HEAD,
            {"project_id": project_id, "workflow_id": workflow_id, "number": number},
        ).first()
        if row is None:
            return None
        if row.head_number is not None:
            return _head_version(session, project_id, workflow_id, row, _info(row))
        text = version_content.rebuild(session, project_id, workflow_id, number, row.keyframe)
        return Version(info=_info(row), definition=text)

    def workflow_with_head(
        self, *, workflow_id: UUID | None = None, key: str | None = None, for_update: bool = False
    ) -> tuple[Workflow, Version, SecretNamesAndHosts] | None:
        """A live workflow by id (or else key), its head version, and the
        project's secret names and hosts (as ``scope.secrets.names_and_hosts()``
        answers them), in one read; ``for_update``: the workflow row locked for
        the rest of the transaction, as a save needs it."""
        session, project_id = self.session, self.project_id
        postgres = session.get_bind().dialect.name == "postgresql"
        row = session.execute(
            _workflow_with_head(workflow_id is not None, postgres, for_update),
            {"project_id": project_id, "workflow_id": workflow_id, "key": key},
        ).first()
        if row is None:
            return None
        workflow = workflow_from_row(row)
        context = names_and_hosts_from(row.secret_names_and_hosts)
        if row.version_number != workflow.head_version:
            # Locked after a concurrent save committed: its head is newer than
            # this statement's snapshot, and a new statement sees it.
            head = self.get(workflow.id, workflow.head_version)
            assert head is not None, "every workflow has its head version"
            return workflow, head, context
        info = _prefixed_info(row, _VERSION_PREFIX)
        if row.head_number is None:
            text = version_content.rebuild(
                session, project_id, workflow.id, info.number, row.keyframe
            )
            return workflow, Version(info=info, definition=text), context
        return workflow, _head_version(session, project_id, workflow.id, row, info), context

    def get_info(self, workflow_id: UUID, number: int) -> VersionInfo | None:
        row = self.session.execute(
            _VERSION_INFO,
            {"project_id": self.project_id, "workflow_id": workflow_id, "number": number},
        ).first()
        return _info(row) if row else None

    def list_infos(self, workflow_id: UUID, *, before: int | None, limit: int) -> list[VersionInfo]:
        """History, newest first, keyset-paginated on the version number."""
        query = select(*_INFO_COLUMNS).where(self._where(workflow_id))
        if before is not None:
            query = query.where(workflow_versions.c.number < before)
        rows = self.session.execute(
            query.order_by(workflow_versions.c.number.desc()).limit(limit)
        ).all()
        return [_info(row) for row in rows]

    def find_by_tag(self, workflow_id: UUID, tag: str) -> VersionInfo | None:
        row = self.session.execute(
            select(*_INFO_COLUMNS).where(self._where(workflow_id), workflow_versions.c.tag == tag)
        ).first()
        return _info(row) if row else None

    def mark_published(
        self,
        workflow_id: UUID,
        number: int,
        *,
        when: datetime,
        by: str,
        tag: str | None,
        note: str | None,
    ) -> None:
        """The one change a version row ever gets: draft → published.

        A tag another version took meanwhile raises ``UniqueConflict``.
        """
        with unique_conflicts(f"tag {tag!r} was taken at the same time"):
            self.session.execute(
                update(workflow_versions)
                .where(
                    self._where(workflow_id),
                    workflow_versions.c.number == number,
                    workflow_versions.c.state == VersionState.DRAFT.value,
                )
                .values(
                    state=VersionState.PUBLISHED.value,
                    published_at=when,
                    published_by=by,
                    tag=tag,
                    note=note,
                )
            )

    def published_infos(self, workflow_id: UUID) -> list[VersionInfo]:
        """The published versions of a workflow, oldest first (what a bundle carries)."""
        rows = self.session.execute(
            select(*_INFO_COLUMNS)
            .where(
                self._where(workflow_id),
                workflow_versions.c.state == VersionState.PUBLISHED.value,
            )
            .order_by(workflow_versions.c.number)
        ).all()
        return [_info(row) for row in rows]

    def _all_rows(self, workflow_id: UUID) -> Sequence[Any]:
        return self.session.execute(
            select(workflow_versions)
            .where(self._where(workflow_id))
            .order_by(workflow_versions.c.number)
        ).all()

    def every_version(self, workflow_id: UUID) -> Iterator[Version]:
        """Every version of a workflow, oldest first, each chain replayed once."""
        for row, text in _replayed(self._all_rows(workflow_id)):
            yield Version(info=_info(row), definition=text)

    def rewrite_history(
        self, workflow_id: UUID, rewrite: Callable[[Version], Rewrite | None]
    ) -> list[int]:
        """Replace the content of the versions ``rewrite`` answers for; the numbers of those.

        The one exception to immutable history (``secrets scrub``): numbers, states,
        tags, authors and dates stay; content and hash change. The delta
        chain is re-encoded from the first rewritten version on (it starts with a
        keyframe there; earlier rows are untouched), and ``workflow_heads`` follows.
        The caller holds the workflow row locked.
        """
        changed: list[int] = []
        head: version_content.Head | None = None
        for row, text in _replayed(self._all_rows(workflow_id)):
            result = rewrite(Version(info=_info(row), definition=text))
            if result is None and head is None:
                continue  # before the first rewrite nothing moves
            values: dict[str, Any] = {}
            if result is not None:
                changed.append(row.number)
                text = result.definition
                values["content_hash"] = result.content_hash
            packed, head = version_content.pack(head, row.number, text)
            assert head is not None, "rows come in ascending order"
            self.session.execute(
                update(workflow_versions)
                .where(self._where(workflow_id), workflow_versions.c.number == row.number)
                .values(
                    content=packed.content,
                    base_number=packed.base_number,
                    keyframe=packed.keyframe,
                    **values,
                )
            )
        if head is not None:  # its text rewritten too: the row's may be an old one
            version_content.put_head(
                self.session, self.project_id, workflow_id, head.settled(), exists=True
            )
        return changed


def _alias(row: Any) -> Alias:
    return Alias(
        workflow_id=row.workflow_id,
        name=row.name,
        version=row.version,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        canary_version=row.canary_version,
        canary_weight=row.canary_weight,
    )


class AliasStore(ProjectRepository):
    """Named pointers (``production`` ...) at published versions of the project's workflows."""

    __slots__ = ()

    def _where(self, workflow_id: UUID) -> Any:
        return and_(aliases.c.project_id == self.project_id, aliases.c.workflow_id == workflow_id)

    def for_workflow(self, workflow_id: UUID) -> list[Alias]:
        rows = self.session.execute(
            select(aliases).where(self._where(workflow_id)).order_by(aliases.c.name)
        ).all()
        return [_alias(row) for row in rows]

    def get(self, workflow_id: UUID, name: str) -> Alias | None:
        row = self.session.execute(
            select(aliases).where(self._where(workflow_id), aliases.c.name == name)
        ).first()
        return _alias(row) if row else None

    def put(self, alias: Alias, *, exists: bool) -> None:
        """Move an existing alias or create it; creating one for a workflow that
        is not the project's raises ``NotFound`` and writes nothing."""
        values = {
            "version": alias.version,
            "updated_at": alias.updated_at,
            "updated_by": alias.updated_by,
            "canary_version": alias.canary_version,
            "canary_weight": alias.canary_weight,
        }
        if exists:
            self.session.execute(
                update(aliases)
                .where(self._where(alias.workflow_id), aliases.c.name == alias.name)
                .values(**values)
            )
            return
        # Inserted through the workflow row, so only a workflow of the project takes one.
        source = select(
            workflows.c.id,
            literal(alias.name, aliases.c.name.type),
            workflows.c.project_id,
            literal(alias.version, aliases.c.version.type),
            literal(alias.updated_at, aliases.c.updated_at.type),
            literal(alias.updated_by, aliases.c.updated_by.type),
            literal(alias.canary_version, aliases.c.canary_version.type),
            literal(alias.canary_weight, aliases.c.canary_weight.type),
        ).where(workflows.c.project_id == self.project_id, workflows.c.id == alias.workflow_id)
        columns = [
            "workflow_id",
            "name",
            "project_id",
            "version",
            "updated_at",
            "updated_by",
            "canary_version",
            "canary_weight",
        ]
        with unique_conflicts(f"alias {alias.name!r} was created at the same time"):
            inserted = self.session.execute(
                insert(aliases).from_select(columns, source).returning(aliases.c.name)
            ).first()
        if inserted is None:
            raise _no_workflow(alias.workflow_id)

    def delete(self, workflow_id: UUID, name: str) -> None:
        self.session.execute(
            delete(aliases).where(self._where(workflow_id), aliases.c.name == name)
        )
