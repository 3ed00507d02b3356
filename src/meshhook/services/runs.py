"""Runs as users see them: start (pinned to a version), read, list, events,
replay, cancel. What workers do with runs is in ``services/run_execution.py``."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from meshhook.domain import json_schema, pointers
from meshhook.domain.accounts import Actor, Role
from meshhook.domain.errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from meshhook.domain.limits import DEFAULT_PAGE_SIZE
from meshhook.domain.pagination import decode_cursor, encode_cursor
from meshhook.domain.redaction import Redactor
from meshhook.domain.retention import refuse_scrubbed
from meshhook.domain.runs.events import EventType, RunEvent
from meshhook.domain.runs.graph import RunGraph
from meshhook.domain.runs.redacted import redact_event, redact_run
from meshhook.domain.runs.resume import seed_resumed
from meshhook.domain.runs.run import Run, RunView, Trigger
from meshhook.domain.runs.state import apply, fold
from meshhook.domain.stats import RunOutcome
from meshhook.domain.validation import completeness_problems
from meshhook.domain.workflows import Alias, VersionState, Workflow
from meshhook.services import definitions, redaction
from meshhook.services.transactions import ProjectScope, project_transaction
from meshhook.store.db import Database
from meshhook.store.notifications import announce_work
from meshhook.store.runs import EventConflict, RunFilter, RunStore

IDEMPOTENCY_WINDOW = timedelta(hours=24)
DEFAULT_ALIAS = "production"
MAX_INPUT_PROBLEMS = 50
_TRIGGER_TYPES = {
    Trigger.MANUAL: "manual",
    Trigger.WEBHOOK: "webhook",
    Trigger.SCHEDULE: "schedule",
}


@dataclass(frozen=True, slots=True)
class StartRequest:
    input: Any = None
    version: int | None = None
    alias: str | None = None
    test: bool = False
    idempotency_key: str | None = None
    trigger: Trigger = Trigger.MANUAL
    trigger_node: str | None = None
    """The trigger node to start from (a schedule's); default: the first of ``trigger``'s type."""


@dataclass(frozen=True, slots=True)
class Started:
    run: Run
    created: bool
    """False when an ``Idempotency-Key`` returned an earlier run."""


def start(
    db: Database, actor: Actor, project_key: str, workflow_ref: str, request: StartRequest
) -> Started:
    """Start a run of one version of a workflow, resolved once and recorded.

    Without ``version``/``alias``: the alias ``production`` if set, else the
    published version. ``test`` runs the head draft (no completeness errors).
    """
    with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
        workflow = scope.find_workflow(workflow_ref)
        return start_in_scope(scope, actor, workflow, request)


def start_in_scope(
    scope: ProjectScope,
    actor: Actor,
    workflow: Workflow,
    request: StartRequest,
    *,
    draw: Draw | None = None,
    now: datetime | None = None,
) -> Started:
    """:func:`start` inside a transaction the caller holds (a webhook, a
    schedule's fire): resolve the version, check the input, insert and queue
    the run. Commits with the caller's transaction."""
    planned = plan_start(scope, actor, workflow, request, draw=draw, now=now)
    if isinstance(planned, Started):
        return planned
    record_starts(scope, [planned])
    return Started(planned.run, created=True)


@dataclass(frozen=True, slots=True)
class Planned:
    """A run ready to be written: :func:`plan_start`'s answer, :func:`record_starts`'s input."""

    run: Run
    queued: RunEvent
    idempotency_key: str | None


def plan_start(
    scope: ProjectScope,
    actor: Actor,
    workflow: Workflow,
    request: StartRequest,
    *,
    draw: Draw | None = None,
    now: datetime | None = None,
    aliases: Mapping[str, Alias | None] | None = None,
) -> Planned | Started:
    """The reading half of :func:`start_in_scope`: the run a start would write
    (its version resolved, its input checked), or the earlier run of its
    ``Idempotency-Key``. It writes nothing, so a refusal (a problem raised
    here) leaves the caller's transaction as it was: a batch of starts
    (``services/start_batches.py``) refuses one and writes the others.
    ``aliases``: the workflow's aliases by name as the caller read them (a
    webhook's cached target), used instead of reading them again."""
    value = {} if request.input is None else request.input
    store = scope.runs
    now = now or datetime.now(UTC)
    if request.idempotency_key is not None:
        earlier = store.run_for_key(workflow.id, request.idempotency_key, now - IDEMPOTENCY_WINDOW)
        if earlier is not None:
            run = store.get(earlier)
            assert run is not None, "an idempotency key points at its run"
            return Started(run, created=False)
    resolution = resolve_version(scope, workflow, request, draw=draw, aliases=aliases)
    number = resolution.number
    if request.test:
        definition = _definition(scope, workflow, number)
        _refuse_incomplete(scope, definition)
        graph = graph_of(workflow.id, number, definition)
    else:
        graph = _cached_graph(scope, workflow.id, number)
    asked = graph.by_id.get(request.trigger_node or "")
    if asked is not None and asked.is_trigger:
        trigger_node = asked.id
    else:
        trigger_node = _trigger_node(graph, request.trigger, workflow)
    _check_input(graph, trigger_node, value)
    queued = RunEvent(
        1,
        EventType.RUN_QUEUED,
        now,
        None,
        {
            "input": value,
            "trigger_node": trigger_node,
            "timeout_seconds": graph.timeout_seconds,
        },
    )
    run = Run(
        id=uuid.uuid4(),
        project_id=scope.project.id,
        workflow_id=workflow.id,
        workflow_key=workflow.key,
        version=number,
        alias=resolution.alias,
        canary=resolution.canary,
        test=request.test,
        trigger=request.trigger,
        created_at=now,
        created_by=actor.label,
        view=RunView.of(fold(graph, [queued])),
    )
    return Planned(run, queued, request.idempotency_key)


def record_starts(scope: ProjectScope, planned: Sequence[Planned]) -> None:
    """Write planned runs, each with its first event and its queue row (due
    now): one statement for all the runs, one for their events, one for their
    queue rows, then the idempotency keys there are. Commits with the caller's
    transaction."""
    if not planned:
        return
    store = scope.runs
    store.insert_queued([(item.run, item.queued) for item in planned])
    announce_work(scope.session)
    for item in planned:
        if item.idempotency_key is not None:
            store.remember_key(
                item.run.workflow_id, item.idempotency_key, item.run.id, item.run.created_at
            )


Draw = Callable[[], float]
"""A uniform number in [0, 1): ``random.random``, or a seeded one in tests."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """Which version a run runs, and how it was chosen."""

    number: int
    alias: str | None = None
    canary: bool = False
    """Picked through the alias's canary (weighted) rather than its main version."""


def resolve_version(
    scope: ProjectScope,
    workflow: Workflow,
    request: StartRequest,
    *,
    draw: Draw | None = None,
    aliases: Mapping[str, Alias | None] | None = None,
) -> Resolution:
    """The version a start request runs: ``test`` → the head draft; ``version``
    → that published version; ``alias`` → the alias's version, or its canary
    with probability ``canary_weight``/100 (``draw`` decides); neither → alias
    ``production`` the same way, else the published version. Problems are
    problem+json with pointers at ``/version`` or ``/alias``."""
    if request.test:
        return Resolution(workflow.head_version)
    if request.version is not None:
        info = scope.versions.get_info(workflow.id, request.version)
        if info is None:
            raise _bad("/version", "run.unknown_version", f"there is no version {request.version}")
        if info.state is not VersionState.PUBLISHED:
            raise _bad(
                "/version",
                "run.unpublished_version",
                f"version {request.version} is a draft: publish it, or start a test run",
            )
        return Resolution(request.version)
    if request.alias is not None:
        alias = _alias(scope, workflow, request.alias, aliases)
        if alias is None:
            raise _bad("/alias", "run.unknown_alias", f"there is no alias {request.alias!r}")
        return _through(alias, draw)
    production = _alias(scope, workflow, DEFAULT_ALIAS, aliases)
    if production is not None:
        return _through(production, draw)
    if workflow.published_version is None:
        raise Conflict(
            f"workflow {workflow.key!r} has no published version: publish one,"
            " or start a test run of the head draft"
        )
    return Resolution(workflow.published_version)


def _alias(
    scope: ProjectScope,
    workflow: Workflow,
    name: str,
    known: Mapping[str, Alias | None] | None,
) -> Alias | None:
    """The workflow's alias ``name``: from ``known`` (read by the caller
    recently) when it has it, else from the database."""
    if known is not None and name in known:
        return known[name]
    return scope.aliases.get(workflow.id, name)


def default_version(scope: ProjectScope, workflow: Workflow) -> tuple[int, str | None]:
    """The version a start without ``version``/``alias`` runs when no canary is
    drawn (alias ``production``'s own version, else the published one), and
    the alias; :class:`Conflict` when nothing is published. A webhook reads its
    checks from it; each run still draws its canary when it starts."""
    resolution = resolve_version(scope, workflow, StartRequest(), draw=_no_canary)
    return resolution.number, resolution.alias


def _no_canary() -> float:
    return 1.0  # never below a weight (at most 100 %)


def _through(alias: Alias, draw: Draw | None) -> Resolution:
    if alias.canary_version is not None and alias.canary_weight:
        roll = (draw or random.random)()
        if roll * 100 < alias.canary_weight:
            return Resolution(alias.canary_version, alias.name, canary=True)
    return Resolution(alias.version, alias.name)


def _definition(scope: ProjectScope, workflow: Workflow, number: int) -> dict[str, Any]:
    version = scope.versions.get(workflow.id, number)
    if version is None:
        raise NotFound(f"workflow {workflow.key!r} has no version {number}")
    return definitions.load(version.definition)


def _refuse_incomplete(scope: ProjectScope, definition: dict[str, Any]) -> None:
    names = scope.secrets.names()
    errors = definitions.blocking(completeness_problems(definition, secret_names=names))
    if errors:
        raise ValidationFailed(
            "the head draft has problems to fix before it can run",
            errors=[Problem("/definition" + p.path, p.code, p.message, p.severity) for p in errors],
        )


def _trigger_node(graph: RunGraph, trigger: Trigger, workflow: Workflow) -> str:
    wanted = _TRIGGER_TYPES.get(trigger)
    for node in graph.nodes:
        if node.is_trigger and (wanted is None or node.type == wanted):
            return node.id
    raise Conflict(f"workflow {workflow.key!r} has no {wanted or 'trigger'} node to start from")


def _check_input(graph: RunGraph, trigger_node: str, value: Any) -> None:
    schema = graph.by_id[trigger_node].config.get("input_schema")
    if not isinstance(schema, dict):
        return
    found, more = json_schema.schema_errors(
        json_schema.Validator(schema), value, MAX_INPUT_PROBLEMS
    )
    problems = [
        Problem(
            pointers.join("/input", *(str(part) for part in error.absolute_path)),
            "run.input_schema",
            error.message[:300],
        )
        for error in found
    ]
    if more:
        problems.append(
            Problem("/input", "problems.truncated", f"only the first {MAX_INPUT_PROBLEMS} shown")
        )
    if problems:
        raise ValidationFailed("the input does not match the trigger's input_schema", problems)


def _bad(path: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[Problem(path, code, message)])


def graph_of(workflow_id: uuid.UUID, number: int, definition: dict[str, Any]) -> RunGraph:
    """The graph of a version; versions are immutable, so it is cached by
    ``(workflow, number)``."""
    return _GRAPHS.get((workflow_id, number)) or _GRAPHS.put(
        (workflow_id, number), RunGraph.from_definition(definition)
    )


class _GraphCache:
    """A small LRU of run graphs (immutable versions: never stale)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: dict[tuple[uuid.UUID, int], RunGraph] = {}

    def get(self, key: tuple[uuid.UUID, int]) -> RunGraph | None:
        graph = self.items.pop(key, None)
        if graph is not None:
            self.items[key] = graph
        return graph

    def put(self, key: tuple[uuid.UUID, int], graph: RunGraph) -> RunGraph:
        self.items[key] = graph
        while len(self.items) > self.size:
            self.items.pop(next(iter(self.items)))
        return graph


_GRAPHS = _GraphCache(256)


def _cached_graph(scope: ProjectScope, workflow_id: uuid.UUID, number: int) -> RunGraph:
    cached = _GRAPHS.get((workflow_id, number))
    if cached is not None:
        return cached
    version = scope.versions.get(workflow_id, number)
    assert version is not None, "a run's version is never deleted while the run exists"
    return graph_of(workflow_id, number, definitions.load(version.definition))


def version_graph(scope: ProjectScope, workflow_id: uuid.UUID, number: int) -> RunGraph:
    """The graph of a version of a workflow of the scope's project."""
    return _cached_graph(scope, workflow_id, number)


def load_graph(scope: ProjectScope, run: Run) -> RunGraph:
    """The graph of the version ``run`` runs."""
    return _cached_graph(scope, run.workflow_id, run.version)


# -- reading ----------------------------------------------------------------


def _find(store: RunStore, run_ref: str, *, for_update: bool = False) -> Run:
    try:
        run_id = uuid.UUID(run_ref)
    except ValueError:
        raise NotFound(f"no run {run_ref!r}") from None
    run = store.get(run_id, for_update=for_update)
    if run is None:
        raise NotFound(f"no run {run_ref!r}")
    return run


def get(db: Database, actor: Actor, project_key: str, run_ref: str, *, reveal: bool = False) -> Run:
    """One run, its payloads redacted unless an admin asks to ``reveal`` them."""
    with project_transaction(db, actor, project_key, Role.VIEWER, write=reveal) as scope:
        run = _find(scope.runs, run_ref)
        redactor = _redactor(scope, actor, run, reveal=reveal, audit=True)
        return run if redactor is None else redact_run(run, redactor)


def _redactor(
    scope: ProjectScope, actor: Actor, run: Run, *, reveal: bool, audit: bool
) -> Redactor | None:
    """How ``run`` is shown: redacted (personal data, credentials, the
    workflow's ``settings.redact`` pointers), or as recorded when an admin asks
    to reveal it, which is audited (``run.reveal``) once per request."""
    if reveal:
        if not scope.role.includes(Role.ADMIN):
            raise Forbidden("revealing a run's payloads needs the admin role")
        if audit:
            scope.record(actor, "run.reveal", object_type="run", object_id=str(run.id))
        return None
    return redaction.redactor(scope, run.workflow_id, load_graph(scope, run).redact)


@dataclass(frozen=True, slots=True)
class RunQuery:
    workflow: str | None = None
    version: int | None = None
    status: str | None = None
    trigger: str | None = None
    test: bool | None = None
    dead_letter: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_runs(
    db: Database,
    actor: Actor,
    project_key: str,
    query: RunQuery,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> tuple[list[Run], str | None]:
    """A page of the project's runs, newest first."""
    after = None
    if cursor:
        moment, run_id = decode_cursor(cursor, types=(str, str))
        after = (datetime.fromisoformat(moment), uuid.UUID(run_id))
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        workflow_id = scope.find_workflow(query.workflow).id if query.workflow else None
        filters = RunFilter(
            workflow_id=workflow_id,
            version=query.version,
            status=query.status,
            trigger=query.trigger,
            test=query.test,
            dead_letter=query.dead_letter,
            since=query.since,
            until=query.until,
        )
        # One redactor per version shown (a page is mostly a few versions).
        redactors: dict[tuple[uuid.UUID, int], Redactor] = {}
        patterns = redaction.project_patterns(scope)
        page = []
        for run in scope.runs.page(filters, limit + 1, after):
            key = (run.workflow_id, run.version)
            if key not in redactors:
                redactors[key] = redaction.redactor(
                    scope, run.workflow_id, load_graph(scope, run).redact, patterns=patterns
                )
            page.append(redact_run(run, redactors[key]))
    next_cursor = None
    if len(page) > limit:
        page = page[:limit]
        last = page[-1]
        next_cursor = encode_cursor([last.created_at.isoformat(), str(last.id)])
    return page, next_cursor


def events(
    db: Database,
    actor: Actor,
    project_key: str,
    run_ref: str,
    *,
    after: int = 0,
    limit: int = DEFAULT_PAGE_SIZE,
    reveal: bool = False,
    audit: bool = True,
) -> tuple[list[RunEvent], bool]:
    """Events after ``after``, oldest first, redacted unless an admin asks to
    ``reveal`` them (audited unless ``audit`` is off: a stream's later reads);
    the flag says whether the run has finished (so a follower knows no more
    will come)."""
    write = reveal and audit
    with project_transaction(db, actor, project_key, Role.VIEWER, write=write) as scope:
        store = scope.runs
        run = _find(store, run_ref)
        redactor = _redactor(scope, actor, run, reveal=reveal, audit=audit)
        found = store.events(run.id, after=after, limit=limit)
        if redactor is not None:
            # The values the pointers name anywhere in the run, not just in
            # this page: an event's error may quote another step's input.
            redactor = redactor.quoting(run.view.payloads())
            found = [redact_event(event, redactor) for event in found]
        return found, run.view.status.is_terminal


@dataclass(frozen=True, slots=True)
class Replay:
    equal: bool
    run: dict[str, Any]


def replay(db: Database, actor: Actor, project_key: str, run_ref: str) -> Replay:
    """Recompute the run from its events alone and compare with what is served;
    409 when retention scrubbed its payloads (there is nothing to recompute from)."""
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        store = scope.runs
        run = _find(store, run_ref)
        refuse_scrubbed(run.scrubbed_at, "replay")
        graph = load_graph(scope, run)
        state = fold(graph, store.events(run.id))
        shown_through = redaction.redactor(scope, run.workflow_id, graph.redact)
    recomputed = Run(**{**_fields(run), "view": RunView.of(state)})
    shown = redact_run(recomputed, shown_through)
    return Replay(equal=recomputed.as_json() == run.as_json(), run=shown.as_json())


def _fields(run: Run) -> dict[str, Any]:
    return {name: getattr(run, name) for name in Run.__slots__}


# -- cancelling -------------------------------------------------------------


def cancel(db: Database, actor: Actor, project_key: str, run_ref: str) -> Run:
    """End a run as ``cancelled``; what is in flight finishes unrecorded."""
    for _ in range(5):
        try:
            return _cancel_once(db, actor, project_key, run_ref)
        except EventConflict:
            continue  # a worker appended meanwhile: look again
    raise Conflict("the run is changing too fast to cancel now; try again")


def _cancel_once(db: Database, actor: Actor, project_key: str, run_ref: str) -> Run:
    with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
        store = scope.runs
        run = _find(store, run_ref)
        if run.view.status.is_terminal:
            raise Conflict(f"the run has already finished ({run.view.status})")
        # The queue row first, as a worker's commit takes it first: the same
        # lock order on PostgreSQL, so a cancel racing a commit waits for it
        # (then finds its log moved on and looks again) instead of deadlocking.
        store.dequeue(run.id)
        graph = load_graph(scope, run)
        state = fold(graph, store.events(run.id))
        event = RunEvent(
            state.last_seq + 1,
            EventType.RUN_CANCELLED,
            datetime.now(UTC),
            None,
            {"error": {"code": "run.cancelled", "message": f"cancelled by {actor.label}"}},
        )
        apply(graph, state, event)
        store.append(run, [event])
        view = RunView.of(state)
        store.save_view(run.id, view)
        if not run.test:
            scope.stats.record(run.workflow_id, RunOutcome.of(state, view.dead_letter))
        return Run(**{**_fields(run), "view": view})


# -- resuming ---------------------------------------------------------------


def resume(db: Database, actor: Actor, project_key: str, run_ref: str, from_node: str) -> Run:
    """A new run of the same version that reuses the recorded outputs of every
    step that is not ``from_node`` or downstream of it, and executes from there;
    409 when retention scrubbed the old run's payloads (the outputs are gone)."""
    with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
        store = scope.runs
        old = _find(store, run_ref)
        if not old.view.status.is_terminal:
            raise Conflict("the run has not finished: cancel it first, or wait for it")
        refuse_scrubbed(old.scrubbed_at, "resume")
        graph = load_graph(scope, old)
        if from_node not in graph.by_id:
            raise _bad(
                "/from_node", "run.unknown_node", f"the run's version has no node {from_node!r}"
            )
        now = datetime.now(UTC)
        old_events = store.events(old.id)
        seeded = seed_resumed(graph, old_events, from_node, now, old.id)
        run = Run(
            id=uuid.uuid4(),
            project_id=scope.project.id,
            workflow_id=old.workflow_id,
            workflow_key=old.workflow_key,
            version=old.version,
            alias=old.alias,
            test=old.test,
            trigger=Trigger.RESUME,
            created_at=now,
            created_by=actor.label,
            view=RunView.of(fold(graph, seeded)),
            resumed_from_run=old.id,
            resumed_from_node=from_node,
            canary=old.canary,
        )
        store.insert(run)
        store.append(run, seeded)
        store.enqueue(run.id, now)
        announce_work(scope.session)
        return run
