"""Runs started by webhooks, committed in groups (group commit).

Every accepted webhook request needs its run, first event and queue row
committed before its 202. One transaction each means one ``BEGIN IMMEDIATE``
each on SQLite: concurrent requests then wait for the database's one write
lock in SQLite's busy handler (sleeps of 1 ms, 2 ms, 5 ms ...), and each pays
the transaction and three statements alone.

Here one writer thread per process takes every start waiting when it is free
and commits them together: per project, one scope, one alias lookup per
workflow, and three statements (runs, events, queue rows) for the whole group
(:func:`~meshhook.services.runs.record_starts`). Each caller waits on a future
that is resolved only after the commit, so a 202 still means "committed".
A group is as large as what arrived while the previous one committed: one
request alone is committed at once, a burst shares its commits.

A start that is refused (a problem raised while it is planned: no published
version, an input not matching ``input_schema``) gets its problem and the
others are still written. When the group's transaction fails as a whole (a
database error), each start is retried alone, so one bad start cannot sink the
others and every caller gets its own outcome.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import structlog

from meshhook.domain.accounts import Actor, Project, Role
from meshhook.domain.errors import MeshHookError
from meshhook.domain.workflows import Alias, Workflow
from meshhook.services import runs
from meshhook.services.transactions import ProjectScope, enter_project, transaction
from meshhook.store.db import Database

log = structlog.get_logger("meshhook.start_batches")

MAX_GROUP = 200
"""Starts committed together at most (a larger backlog takes several commits)."""


@dataclass(slots=True)
class _Start:
    project: Project
    workflow: Workflow
    actor: Actor
    request: runs.StartRequest
    aliases: Mapping[str, Alias | None]
    future: Future[runs.Started] = field(default_factory=Future)


class StartBatcher:
    """One writer thread (started at the first start) that commits starts in groups."""

    def __init__(self, db: Database, *, max_group: int = MAX_GROUP) -> None:
        self.db = db
        self.max_group = max_group
        self.groups = 0  # committed groups, for tests and the bench
        self._queue: queue.SimpleQueue[_Start | Callable[[], Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(
        self,
        project: Project,
        workflow: Workflow,
        actor: Actor,
        request: runs.StartRequest,
        *,
        aliases: Mapping[str, Alias | None] | None = None,
    ) -> Future[runs.Started]:
        """Queue a start; the future holds its outcome once committed (or its
        problem). ``aliases``: the workflow's aliases by name as the caller
        read them recently (a webhook's cached target), used instead of
        reading them again; the others are read once per group."""
        start = _Start(project, workflow, actor, request, aliases or {})
        self._ensure_thread()
        self._queue.put(start)
        return start.future

    def call(self, action: Callable[[], Any]) -> Future[Any]:
        """Run ``action`` on the writer thread between two groups (another
        write, such as the delivery log's, that then never waits for the
        database lock behind a group)."""
        future: Future[Any] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(action())
            except BaseException as error:
                future.set_exception(error)

        self._ensure_thread()
        self._queue.put(run)
        return future

    def stop(self) -> None:
        """Commit what is queued, then end the thread."""
        with self._lock:
            thread = self._thread
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout=30)

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="meshhook-start-batches", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            group: list[_Start] = []
            while True:
                if item is None:
                    stopping = True
                elif isinstance(item, _Start):
                    # A caller that went away before its turn (its request
                    # cancelled) gets no run; from here on it cannot cancel.
                    if item.future.set_running_or_notify_cancel():
                        group.append(item)
                else:
                    self._commit(group)
                    group = []
                    item()
                if stopping or len(group) >= self.max_group:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            self._commit(group)
        with self._lock:
            self._thread = None

    def _commit(self, group: list[_Start]) -> None:
        """Commit ``group`` and resolve every future in it, whatever happens:
        the thread must outlive any one group (callers wait on it)."""
        try:
            self._commit_group(group)
        except BaseException as error:  # a bug here must not stop the writer
            log.exception("start_batches.commit_failed", starts=len(group))
            for start in group:
                if not start.future.done():
                    start.future.set_exception(error)

    def _commit_group(self, group: list[_Start]) -> None:
        if not group:
            return
        try:
            outcomes = self._write(group)
        except Exception as error:
            if len(group) == 1:
                group[0].future.set_exception(error)
                return
            log.warning("start_batches.group_failed", starts=len(group), error=repr(error))
            for start in group:
                self._commit_group([start])
            return
        self.groups += 1
        for start, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, runs.Started):
                start.future.set_result(outcome)
            else:
                start.future.set_exception(outcome)

    def _write(self, group: list[_Start]) -> list[runs.Started | MeshHookError]:
        by_project: dict[UUID, list[int]] = {}
        for index, start in enumerate(group):
            by_project.setdefault(start.project.id, []).append(index)
        outcomes: list[runs.Started | MeshHookError | None] = [None] * len(group)
        with transaction(self.db) as session:
            for indexes in by_project.values():
                scope = enter_project(session, group[indexes[0]].project, Role.EDITOR, self.db.keys)
                self._write_project(scope, [group[i] for i in indexes], indexes, outcomes)
        return [outcome for outcome in outcomes if outcome is not None]

    @staticmethod
    def _write_project(
        scope: ProjectScope,
        starts: list[_Start],
        indexes: list[int],
        outcomes: list[runs.Started | MeshHookError | None],
    ) -> None:
        planned: list[runs.Planned] = []
        keyed: dict[tuple[UUID, str], runs.Started] = {}
        # Aliases the callers read with their targets (a second old at most),
        # else one lookup per workflow for the whole group.
        aliases: dict[UUID, dict[str, Alias | None]] = {}
        for index, start in zip(indexes, starts, strict=True):
            key = start.request.idempotency_key
            earlier = keyed.get((start.workflow.id, key)) if key is not None else None
            if earlier is not None:  # the same key twice in one group
                outcomes[index] = runs.Started(earlier.run, created=False)
                continue
            known = aliases.setdefault(start.workflow.id, dict(start.aliases))
            if runs.DEFAULT_ALIAS not in known:
                known[runs.DEFAULT_ALIAS] = scope.aliases.get(start.workflow.id, runs.DEFAULT_ALIAS)
            try:
                plan = runs.plan_start(
                    scope, start.actor, start.workflow, start.request, aliases=known
                )
            except MeshHookError as problem:  # planning writes nothing
                outcomes[index] = problem
                continue
            if isinstance(plan, runs.Started):
                outcomes[index] = plan
                continue
            planned.append(plan)
            outcomes[index] = started = runs.Started(plan.run, created=True)
            if key is not None:
                keyed[(start.workflow.id, key)] = started
        runs.record_starts(scope, planned)
