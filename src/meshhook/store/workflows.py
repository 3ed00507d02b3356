"""Workflow rows (metadata and pointers to the head and published versions),
reached as ``scope.workflows`` (:class:`WorkflowStore`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from meshhook.domain.workflows import Workflow, WorkflowFilter
from meshhook.store import batched_writes, version_content
from meshhook.store.batched_writes import Write
from meshhook.store.dialect import (
    FEW_CANDIDATES,
    contains_pattern,
    json_array_contains,
    lock_rows,
    name_sort_keys,
    substring_candidates,
    walk_in_page_order,
)
from meshhook.store.repository import ProjectRepository, unique_conflicts
from meshhook.store.tables import workflows
from meshhook.store.tenancy import is_postgres

# Bound parameters per IN list: well under SQLite's limit of 32,766.
_IN_CHUNK = 500


def workflow_from_row(row: Any) -> Workflow:
    """A workflow from a row with the ``workflows`` table's columns."""
    return Workflow(
        id=row.id,
        project_id=row.project_id,
        key=row.key,
        name=row.name,
        description=row.description,
        tags=tuple(row.tags),
        is_template=row.is_template,
        head_version=row.head_version,
        published_version=row.published_version,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        deleted_at=row.deleted_at,
    )


@cache
def _find_statement(by_id: bool, by_key: bool, deleted: bool, for_update: bool) -> Select[Any]:
    """Each shape of :meth:`WorkflowStore.find`, built once (store/__init__.py,
    "Statements")."""
    query = select(workflows).where(workflows.c.project_id == bindparam("project_id"))
    if by_id:
        query = query.where(workflows.c.id == bindparam("workflow_id"))
    if by_key:
        query = query.where(workflows.c.key == bindparam("key"))
    query = query.where(
        workflows.c.deleted_at.is_not(None) if deleted else workflows.c.deleted_at.is_(None)
    )
    return lock_rows(query) if for_update else query


SORTS = {
    "name": workflows.c.name,
    "updated_at": workflows.c.updated_at,
    "created_at": workflows.c.created_at,
}


def key_taken(key: str) -> str:
    return f"a workflow with key {key!r} was created at the same time"


class WorkflowStore(ProjectRepository):
    """The workflows of one project."""

    __slots__ = ()

    def insert(self, workflow: Workflow) -> None:
        """Insert a workflow of this project (``workflow.project_id`` must be it).

        A key taken meanwhile by a concurrent create raises ``UniqueConflict``.
        """
        if workflow.project_id != self.project_id:
            raise ValueError("the workflow belongs to another project")
        with unique_conflicts(key_taken(workflow.key)):
            self.session.execute(
                insert(workflows).values(
                    id=workflow.id,
                    project_id=self.project_id,
                    key=workflow.key,
                    name=workflow.name,
                    description=workflow.description,
                    tags=list(workflow.tags),
                    is_template=workflow.is_template,
                    head_version=workflow.head_version,
                    published_version=workflow.published_version,
                    created_at=workflow.created_at,
                    created_by=workflow.created_by,
                    updated_at=workflow.updated_at,
                    updated_by=workflow.updated_by,
                    deleted_at=workflow.deleted_at,
                )
            )
        # Its first version need not read back that it exists, nor look for a head.
        version_content.remember_new_workflow(self.session, self.project_id, workflow.id)

    def find(
        self,
        *,
        workflow_id: UUID | None = None,
        key: str | None = None,
        deleted: bool = False,
        for_update: bool = False,
    ) -> Workflow | None:
        """A live (or, with ``deleted``, a trashed) workflow by id or key."""
        query = _find_statement(workflow_id is not None, key is not None, deleted, for_update)
        parameters = {"project_id": self.project_id, "workflow_id": workflow_id, "key": key}
        row = self.session.execute(query, parameters).first()
        return workflow_from_row(row) if row else None

    def live_by_keys(self, keys: Collection[str]) -> list[Workflow]:
        """The live workflows whose key is among ``keys``, sorted by key."""
        query = select(workflows).where(
            workflows.c.project_id == self.project_id, workflows.c.deleted_at.is_(None)
        )
        found: list[Workflow] = []
        wanted = sorted(set(keys))
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            rows = self.session.execute(query.where(workflows.c.key.in_(chunk))).all()
            found.extend(workflow_from_row(row) for row in rows)
        return sorted(found, key=lambda workflow: workflow.key)

    def all_live(self) -> list[Workflow]:
        """Every live workflow of the project, by key."""
        rows = self.session.execute(
            select(workflows)
            .where(workflows.c.project_id == self.project_id, workflows.c.deleted_at.is_(None))
            .order_by(workflows.c.key)
        ).all()
        return [workflow_from_row(row) for row in rows]

    def all_with_trash(self, *, for_update: bool) -> list[Workflow]:
        """Every workflow of the project, live or in the trash, by key then id."""
        query = (
            select(workflows)
            .where(workflows.c.project_id == self.project_id)
            .order_by(workflows.c.key, workflows.c.id)
        )
        rows = self.session.execute(lock_rows(query) if for_update else query).all()
        return [workflow_from_row(row) for row in rows]

    def purge(self, workflow_id: UUID) -> None:
        """Delete a workflow for good: its versions and aliases go with it (cascade)."""
        self.session.execute(
            delete(workflows).where(
                workflows.c.project_id == self.project_id, workflows.c.id == workflow_id
            )
        )

    def key_in_use(self, key: str) -> bool:
        return self.find(key=key) is not None

    def update_fields(self, workflow_id: UUID, **values: Any) -> None:
        """Set columns of one workflow; a ``key`` taken meanwhile raises ``UniqueConflict``."""
        if "tags" in values:
            values["tags"] = list(values["tags"])
        change = Write(workflows, values, where={"project_id": self.project_id, "id": workflow_id})
        if "key" in values:
            # Sent now: a key taken meanwhile is a conflict raised here.
            with unique_conflicts(key_taken(values["key"])):
                batched_writes.write(self.session, change, now=True)
        else:
            batched_writes.write(self.session, change)

    def touch(self, workflow_id: UUID, *, when: datetime, by: str, **values: Any) -> None:
        """:meth:`update_fields` plus who changed the workflow and when."""
        self.update_fields(workflow_id, updated_at=when, updated_by=by, **values)

    def list_page(
        self,
        filters: WorkflowFilter,
        *,
        sort: str,
        descending: bool,
        after: tuple[Any, UUID] | None,
        limit: int,
    ) -> list[Workflow]:
        """One keyset page ordered by ``sort`` then id (stable under concurrent writes).

        Names sort case-insensitively (see :func:`dialect.name_sort_keys`).

        A search (``filters.q``) first asks the index for a few candidates: a
        rare term is answered from them. A term with more is looked for among
        the next :data:`NEARBY_PAGES` pages' worth of rows in page order, which
        answers a common term in one statement; only when that does not fill
        the page is the index asked for up to 2,000 candidates, and beyond
        those the page is found by walking in page order. Each way gives the
        same rows: the exact conditions decide.
        """
        session = self.session
        column = SORTS[sort]
        in_range: Select[Any] = select(workflows).where(workflows.c.project_id == self.project_id)
        if after is not None:
            # A row-value comparison, which both databases answer with a range scan of
            # an index on (project_id, sort keys, id): deep pages cost what the first
            # one does. The name's keys are expressions (ix_workflows_name_sort):
            # neither planner starts that index's range from a row value over them,
            # so the first key is also bounded alone (the same rows; a page 25,000
            # rows deep took 4 ms instead of 0.9).
            value, last_id = after
            mark = literal(value, column.type)
            marks = name_sort_keys(session, mark) if sort == "name" else [mark]
            keys = _sort_keys(session, workflows.c, sort)
            position = tuple_(*keys, workflows.c.id)
            start = tuple_(*marks, literal(last_id, workflows.c.id.type))
            in_range = in_range.where(position < start if descending else position > start)
            if sort == "name":
                first, bound = keys[0], marks[0]
                in_range = in_range.where(first <= bound if descending else first >= bound)
        query = in_range.where(*_conditions(session, workflows.c, filters))
        if filters.q:
            needle = filters.q.lower()
            candidates = substring_candidates(session, needle, FEW_CANDIDATES)
            if candidates is None:
                # Already arranged by the probe when it found more candidates;
                # a term too short for the index has not asked it.
                walk_in_page_order(session)
                nearby = _nearby(session, in_range, filters, sort, descending, limit)
                if nearby is not None:
                    return nearby
                candidates = substring_candidates(session, needle)
            if candidates is not None:
                query = query.where(candidates)
            else:
                walk_in_page_order(session)
            query = query.where(_contains(workflows.c, needle))
        order = _order(session, workflows.c, sort, descending)
        rows = session.execute(query.order_by(*order).limit(limit)).all()
        return [workflow_from_row(row) for row in rows]

    def list_templates(self) -> list[Workflow]:
        """The live template workflows of the project, by name."""
        rows = self.session.execute(
            select(workflows)
            .where(
                workflows.c.project_id == self.project_id,
                workflows.c.is_template.is_(True),
                workflows.c.deleted_at.is_(None),
            )
            .order_by(*name_sort_keys(self.session, workflows.c.name))
        ).all()
        return [workflow_from_row(row) for row in rows]


# A search whose term the index finds more than FEW_CANDIDATES times first looks
# for its page among this many pages' worth of rows from where the page starts:
# a term in one row of ten or more fills it there.
NEARBY_PAGES = 10


def _nearby(
    session: Session,
    in_range: Select[Any],
    filters: WorkflowFilter,
    sort: str,
    descending: bool,
    limit: int,
) -> list[Workflow] | None:
    """The page of a search if it lies within the first ``NEARBY_PAGES * limit``
    rows of the project in page order from the cursor on (``None`` when fewer
    than ``limit`` of those match). Only the sort index bounds those rows, so
    the statement reads at most that many whatever the filters: a page found
    there is the page, as the first ``limit`` matches in page order."""
    rows_read = in_range.order_by(*_order(session, workflows.c, sort, descending))
    window = rows_read.limit(NEARBY_PAGES * limit).subquery("nearby")
    page = (
        select(window)
        .where(*_conditions(session, window.c, filters))
        .where(_contains(window.c, (filters.q or "").lower()))
        .order_by(*_order(session, window.c, sort, descending))
        .limit(limit)
    )
    rows = session.execute(page).all()
    if len(rows) < limit:
        return None
    return [workflow_from_row(row) for row in rows]


# PostgreSQL: the stored folded name (migration 0021), not in the table's
# model (SQLite has none). Compared with a column, a keyset condition stays the
# start of the index's range under row-level security; ``lower(name)`` would
# not (it is not leakproof).
_NAME_KEY = literal_column("workflows.name_key", Text)


def _sort_keys(session: Session, columns: Any, sort: str) -> list[Any]:
    column = columns[sort]
    if sort != "name":
        return [column]
    keys = name_sort_keys(session, column)
    if columns.name is workflows.c.name and is_postgres(session):
        keys[0] = _NAME_KEY
    return keys


def _order(session: Session, columns: Any, sort: str, descending: bool) -> list[Any]:
    order = [*_sort_keys(session, columns, sort), columns.id]
    return [key.desc() for key in order] if descending else order


def _contains(columns: Any, needle: str) -> ColumnElement[bool]:
    """Name, description or key contains ``needle`` (lower-cased), exactly."""
    pattern = contains_pattern(needle)
    return or_(
        func.lower(columns.name).like(pattern, escape="\\"),
        func.lower(columns.description).like(pattern, escape="\\"),
        columns.key.like(pattern, escape="\\"),
    )


def _conditions(session: Session, columns: Any, filters: WorkflowFilter) -> list[Any]:
    """The filters other than ``q``, on ``columns`` (the table's or a subquery's)."""
    deleted = columns.deleted_at
    conditions = [deleted.is_not(None) if filters.deleted else deleted.is_(None)]
    if filters.tag:
        conditions.append(json_array_contains(session, columns.tags, filters.tag))
    if filters.is_template is not None:
        conditions.append(columns.is_template.is_(filters.is_template))
    if filters.published is not None:
        published = columns.published_version
        conditions.append(published.is_not(None) if filters.published else published.is_(None))
    return conditions
