"""Transactions, and the project scope: the one door from services into a
project's data.

A tenant use case opens :func:`project_transaction` (or, for a worker,
:func:`worker_transaction`) and gets a :class:`ProjectScope` after the actor's
role in the project was checked. The scope carries the project's repositories
as attributes, each bound to ``(session, project.id)`` when the scope is made:

====================  =====================================================
``scope.workflows``   :class:`~meshhook.store.workflows.WorkflowStore`
``scope.versions``    :class:`~meshhook.store.versions.VersionStore`
``scope.aliases``     :class:`~meshhook.store.versions.AliasStore`
``scope.secrets``     :class:`~meshhook.store.secrets.SecretStore`
``scope.audit``       :class:`~meshhook.store.audit.AuditStore`
``scope.members``     :class:`~meshhook.store.projects.MembershipStore`
``scope.runs``        :class:`~meshhook.store.runs.RunStore`
``scope.retention``   :class:`~meshhook.store.retention.RetentionStore`
``scope.webhooks``    :class:`~meshhook.store.webhooks.WebhookStore`
``scope.schedules``   :class:`~meshhook.store.schedules.ScheduleStore`
``scope.redaction``   :class:`~meshhook.store.redaction.RedactionStore`
``scope.alerts``      :class:`~meshhook.store.alerts.AlertStore`
====================  =====================================================

Services never pass a project id to the store: a repository cannot name
another project, so an id from another project finds nothing (on SQLite as on
PostgreSQL, where row-level security would also hide it). The helpers every
workflow use case needs (:meth:`ProjectScope.find_workflow`,
:meth:`ProjectScope.detail`, :meth:`ProjectScope.record_event`) live on the
scope, so services do not import each other for them.

What is not per project (users, tokens, login attempts, the project table,
the worker's claim across projects) is reached with module functions of
``store`` inside a plain :func:`transaction`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Container, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.orm import Session

from meshhook.domain.accounts import Actor, Project, Role
from meshhook.domain.audit import NewAuditEntry
from meshhook.domain.errors import Forbidden, NotFound, Problem
from meshhook.domain.preparation import (
    SOUND,
    Context,
    ProblemsCache,
    context_key,
    load,
    same_nodes,
)
from meshhook.domain.workflows import Version, Workflow, WorkflowDetail
from meshhook.security.data_keys import KeySlot, KeySource
from meshhook.services.credentials import PendingActor
from meshhook.services.payload_keys import data_keys_for
from meshhook.store import batched_writes, tenancy
from meshhook.store import projects as project_store
from meshhook.store import tokens as token_store
from meshhook.store.alerts import AlertStore
from meshhook.store.audit import AuditStore
from meshhook.store.db import Database
from meshhook.store.projects import MembershipStore
from meshhook.store.redaction import RedactionStore
from meshhook.store.retention import RetentionStore
from meshhook.store.runs import RunStore
from meshhook.store.schedules import ScheduleStore
from meshhook.store.secrets import SecretStore
from meshhook.store.stats import StatsStore
from meshhook.store.versions import AliasStore, VersionStore
from meshhook.store.webhooks import WebhookStore
from meshhook.store.workflows import WorkflowStore


@contextmanager
def transaction(
    db: Database,
    actor: Actor | None = None,
    *,
    write: bool = True,
    statements: bool = False,
    project_id: UUID | None = None,
) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error.

    It starts scoped to the acting user and no project, so on PostgreSQL no
    tenant row is visible until :func:`project_transaction` (or
    :func:`enter_project`) names one; ``project_id``: scoped to that project
    from the start (the caller knows it already, as a worker does).
    """
    pending = actor if isinstance(actor, PendingActor) and not actor.checked else None
    used: UUID | None = None
    session = db.session(write=write, statements=statements)
    try:
        with session.begin():
            checked: Actor | None = None
            due = False
            if pending is not None and project_id is None and db.login_reads_accounts:
                # The request's token, checked in this same transaction by its
                # first statement, which also starts it as the app role and
                # names the user for row-level security.
                checked, due = pending.verify_in(session, datetime.now(UTC), enter_as=db.app_role)
            else:
                tenancy.enter_scope(
                    session,
                    app_role=db.app_role,
                    project_id=project_id,
                    user_id=actor.user_id if actor and not pending else None,
                )
                if pending is not None:
                    checked, due = pending.verify_in(session, datetime.now(UTC))
            if checked is not None and due:
                used = checked.token_id
            yield session
    finally:
        session.close()
    if used is not None:
        mark_used(db, used)


def mark_used(db: Database, token_id: UUID) -> None:
    """Record that a token was used now (at most once a minute per token: see
    :data:`~meshhook.services.credentials.LAST_USED_PRECISION`)."""
    with transaction(db) as session:
        token_store.mark_used(session, token_id, datetime.now(UTC))


# Derived problems by content hash and project context (secret names and hosts):
# loading a head, or saving content seen before, does not check it again.
PROBLEMS = ProblemsCache()


class ProjectScope:
    """One project inside one transaction: its repositories and the caller's role."""

    __slots__ = (
        "_context",
        "_keys",
        "alerts",
        "aliases",
        "audit",
        "members",
        "project",
        "redaction",
        "retention",
        "role",
        "runs",
        "schedules",
        "secrets",
        "session",
        "stats",
        "versions",
        "webhooks",
        "workflows",
    )

    def __init__(
        self, session: Session, project: Project, role: Role, keys: KeySlot | None = None
    ) -> None:
        self.session = session
        self.project = project
        self.role = role
        self._keys = keys
        project_id = project.id
        self.workflows = WorkflowStore(session, project_id)
        self.versions = VersionStore(session, project_id)
        self.aliases = AliasStore(session, project_id)
        self.secrets = SecretStore(session, project_id)
        self.audit = AuditStore(session, project_id)
        self.members = MembershipStore(session, project_id)
        # Run payloads are sealed with the project's data key when the database
        # has keys attached (the app's, a worker's): services/payload_keys.py.
        self.runs = RunStore(session, project_id, data_keys_for(keys, self.secrets, project_id))
        self.retention = RetentionStore(session, project_id)
        self.schedules = ScheduleStore(session, project_id)
        self.stats = StatsStore(session, project_id)
        self.webhooks = WebhookStore(session, project_id)
        self.redaction = RedactionStore(session, project_id)
        self.alerts = AlertStore(session, project_id)
        self._context: Context | None = None

    def problems(
        self,
        content_hash: str,
        definition: bytes | dict[str, Any] | Callable[[], dict[str, Any]],
        *,
        graph: bytes | None = None,
        sound: bool = False,
        base: Version | None = None,
        unchanged: Container[int] | None = None,
    ) -> tuple[Problem, ...]:
        """The problems of a definition in this project (what publishing refuses,
        ``secret.unknown`` and restricted hosts included): derived, never stored,
        answered from a bounded cache keyed by content hash and the project's
        secret names and hosts. ``definition`` is the canonical bytes, the JSON
        value, or a callable returning it (parsed only when not cached).
        ``sound``: it just passed the structural check. ``base``: the version it
        was edited from, whose unchanged nodes are not checked again (``unchanged``
        names them when known, else they are found by comparison)."""
        if self._context is None:
            self._context = context_key(*self.secrets.names_and_hosts())
        if isinstance(definition, bytes):
            data = definition
            definition = lambda: load(data)  # noqa: E731
        edited_from = None
        if base is not None:
            value = definition
            base_data = base.definition
            base_hash = base.info.content_hash

            def found() -> Container[int]:
                if unchanged is not None:
                    return unchanged
                new = value() if callable(value) else value
                return same_nodes(SOUND.load(base_hash, base_data), new)

            edited_from = (base.info.content_hash, found)
        return PROBLEMS.get(
            content_hash, self._context, definition, graph=graph, sound=sound, base=edited_from
        )

    def with_problems(self, version: Version) -> Version:
        """``version`` with its derived problems."""
        problems = self.problems(version.info.content_hash, version.definition)
        return replace(version, problems=problems)

    def find_workflow(
        self, ref: str, *, for_update: bool = False, deleted: bool = False
    ) -> Workflow:
        """A workflow of the project by UUID or key; 404 when absent."""
        workflow = None
        as_id = as_uuid(ref)
        if as_id is not None:
            workflow = self.workflows.find(
                workflow_id=as_id, for_update=for_update, deleted=deleted
            )
        if workflow is None and not deleted:
            workflow = self.workflows.find(key=ref, for_update=for_update)
        if workflow is None:
            where = "in the trash of" if deleted else "in"
            raise NotFound(f"no workflow {ref!r} {where} project {self.project.key!r}")
        return workflow

    def find_with_head(self, ref: str, *, for_update: bool = False) -> tuple[Workflow, Version]:
        """A live workflow by UUID or key and its head version (404 when absent),
        as ``find_workflow`` and ``versions.get`` answer them, read in one
        statement with what the project's problems depend on; ``for_update``:
        the workflow row locked, as a save needs it."""
        found = None
        as_id = as_uuid(ref)
        if as_id is not None:
            found = self.versions.workflow_with_head(workflow_id=as_id, for_update=for_update)
        if found is None:
            found = self.versions.workflow_with_head(key=ref, for_update=for_update)
        if found is None:
            raise NotFound(f"no workflow {ref!r} in project {self.project.key!r}")
        workflow, head, (names, hosts) = found
        if self._context is None:
            self._context = context_key(names, hosts)
        return workflow, head

    def find_detail(self, ref: str) -> WorkflowDetail:
        """A live workflow by UUID or key with its head version (404 when absent),
        as ``detail(find_workflow(ref))`` answers it, read in one statement."""
        workflow, head = self.find_with_head(ref)
        return WorkflowDetail(
            workflow=workflow,
            head=head.info,
            definition=head.definition,
            problems=self.problems(head.info.content_hash, head.definition),
        )

    def detail(self, workflow: Workflow, *, merged: bool = False) -> WorkflowDetail:
        """``workflow`` with its head version."""
        head = self.versions.get(workflow.id, workflow.head_version)
        assert head is not None, "every workflow has its head version"
        return WorkflowDetail(
            workflow=workflow,
            head=head.info,
            definition=head.definition,
            problems=self.problems(head.info.content_hash, head.definition),
            merged=merged,
        )

    def record(
        self,
        actor: Actor,
        action: str,
        *,
        object_type: str,
        object_id: str,
        summary: dict[str, Any] | None = None,
    ) -> None:
        """Append an audit entry about this project inside the transaction (so it
        commits with the change), tagged with the request's id."""
        self.audit.insert(new_entry(actor, action, object_type, object_id, summary))

    def record_event(
        self, actor: Actor, action: str, workflow: Workflow, summary: dict[str, Any]
    ) -> None:
        """An audit entry about ``workflow``."""
        self.record(
            actor,
            action,
            object_type="workflow",
            object_id=str(workflow.id),
            summary={**summary},
        )

    @property
    def key_source(self) -> KeySource | None:
        """The keys attached to the database (the app's, a worker's), which
        open the project's vault; ``None`` on a bare test database."""
        return None if self._keys is None else self._keys.source

    def writes_together(self) -> AbstractContextManager[None]:
        """The block's writes reach PostgreSQL as one statement (see
        ``store/batched_writes.py``): for rows written under a lock, which
        cannot meet a unique conflict."""
        return batched_writes.together(self.session)

    @contextmanager
    def other_project(self, project: Project, role: Role) -> Iterator[ProjectScope]:
        """Another project the actor belongs to, in this same transaction (e.g. to
        read a template there); this scope is restored when the block ends."""
        tenancy.switch_project(self.session, project.id)
        try:
            yield ProjectScope(self.session, project, role, self._keys)
        finally:
            tenancy.switch_project(self.session, self.project.id)


def enter_project(
    session: Session, project: Project, role: Role, keys: KeySlot | None = None
) -> ProjectScope:
    """Scope a running :func:`transaction` to ``project`` (RLS included) and open
    its door; for callers that checked ``role`` themselves (creating a project,
    the admin CLI's loops over every project). ``keys`` (``db.keys``) are
    needed to read or write run payloads."""
    tenancy.switch_project(session, project.id)
    return ProjectScope(session, project, role, keys)


def as_uuid(ref: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


def new_entry(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    summary: dict[str, Any] | None,
) -> NewAuditEntry:
    """An audit entry by ``actor`` now, tagged with the request being served."""
    return NewAuditEntry(
        actor_id=actor.user_id,
        actor=actor.label,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary or {},
        request_id=current_request_id(),
        created_at=datetime.now(UTC),
    )


def current_request_id() -> str | None:
    """The id of the HTTP request being served, if any (for audit entries)."""
    request_id: str | None = structlog.contextvars.get_contextvars().get("request_id")
    return request_id


def not_found_project(key: str) -> NotFound:
    # Same answer whether the project does not exist or the caller is not a
    # member: its existence is not revealed.
    return NotFound(f"project {key!r} was not found")


@contextmanager
def project_transaction(
    db: Database, actor: Actor, project_key: str, minimum: Role, *, write: bool = True
) -> Iterator[ProjectScope]:
    """A transaction scoped to one project, after checking the actor's role there."""
    with transaction(db, actor, write=write) as session:
        # One statement: the project, the actor's membership, the tenant scope.
        found = project_store.enter_by_key(session, project_key, actor.user_id)
        if found is None:
            raise not_found_project(project_key)
        project, role = found
        if actor.user_id is None:
            role = Role.OWNER  # the admin CLI works on the database directly
        if role is None:
            raise not_found_project(project_key)
        if not role.includes(minimum):
            raise Forbidden(
                f"this needs the {minimum.value} role in project {project.key!r};"
                f" you are {role.value}",
                extra={"required_role": minimum.value, "your_role": role.value},
            )
        # Log lines from here on name the project (and so get its own redaction patterns).
        structlog.contextvars.bind_contextvars(project=project.key)
        yield ProjectScope(session, project, role, db.keys)


def check_role(db: Database, actor: Actor, project_key: str, minimum: Role) -> None:
    """Raise what :func:`project_transaction` would (404 for a non-member, 403
    below ``minimum``) in a short read-only transaction.

    The API calls this before it reads a request body, so a caller who may not
    use a route cannot make the server read, let alone parse, what they send.
    """
    with project_transaction(db, actor, project_key, minimum, write=False):
        pass


WORKER = Actor(user_id=None, label="worker", is_admin=False)


@contextmanager
def worker_transaction(
    db: Database, project_id: UUID, *, write: bool = True, statements: bool = False
) -> Iterator[ProjectScope]:
    """A transaction scoped to the project of a run a worker claimed.

    The project comes from the claim, never from the run's content, and the
    transaction runs under the same RLS scope as a request in that project.
    ``statements``: see :meth:`~meshhook.store.db.Database.session` (one
    writing statement, its own transaction on SQLite).
    """
    # Scoped to the project as it begins: no round trip of its own for that.
    with transaction(
        db, WORKER, write=write, statements=statements, project_id=project_id
    ) as session:
        project = project_store.get_by_id(session, project_id)
        if project is None:
            raise NotFound(f"project {project_id} was not found")
        structlog.contextvars.bind_contextvars(project=project.key)
        yield ProjectScope(session, project, Role.EDITOR, db.keys)
