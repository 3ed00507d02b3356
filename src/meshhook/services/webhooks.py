"""Webhooks: each workflow with a ``webhook`` trigger has one URL
``{public URL}/hooks/{hook id}/{path}`` (docs/webhooks.md).

A request goes through :class:`HookGate` in this order, each step refusing
before the next costs anything: the client address's budget of refusals (429,
in ``api/webhooks.py``, before the hook is looked up), the hook (404, nothing
said about why), the path and method (404/405), the declared body size (413),
the rate limit (429, before any write), the body size again while it streams
(413, in ``api/webhooks.py``), the sender's signature or JWT (401, one message
for every failure), the body schema (422); then the writer thread of
``services/start_batches.py`` commits the run, its first event and its queue
row (with the runs of other requests that arrived meanwhile), and only after
that commit is 202 sent. Deliveries are logged in batches.

Management (show the URL, rotate it, read the delivery log, send a test
request) are ordinary project use cases at the end of this module.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import structlog

from meshhook.domain import json_schema, pointers
from meshhook.domain.accounts import Actor, Project, Role
from meshhook.domain.errors import (
    Conflict,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Problem,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from meshhook.domain.runs.run import Trigger
from meshhook.domain.webhooks import (
    DEFAULT_REFUSAL_BURST,
    DEFAULT_REFUSALS_PER_SECOND,
    DELIVERIES_SHOWN,
    DELIVERY_RETENTION_DAYS,
    SIGNATURE_HEADER,
    SIGNATURE_TOLERANCE_SECONDS,
    Bucket,
    HookConfig,
    NotJson,
    RefusalLimits,
    hook_config,
    retry_after,
    run_input,
)
from meshhook.domain.workflows import Alias, Workflow
from meshhook.security import webhook_auth
from meshhook.security.webhook_auth import Refused
from meshhook.services import definitions, redaction, runs
from meshhook.services.secrets import Keys, values_for_hook
from meshhook.services.start_batches import StartBatcher
from meshhook.services.transactions import (
    ProjectScope,
    enter_project,
    project_transaction,
    transaction,
)
from meshhook.store import projects as project_store
from meshhook.store.db import Database
from meshhook.store.webhooks import Delivery, find_hook

log = structlog.get_logger("meshhook.webhooks")

HOOK_ID_BYTES = 24  # 192 bits
_HOOK_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
TARGET_TTL_SECONDS = 1.0
MAX_IDEMPOTENCY_KEY = 200
MAX_BODY_PROBLEMS = 20
MAX_PENDING_DELIVERIES = 10_000
NOT_FOUND = "there is no webhook at this URL"
UNAUTHORIZED = "the request could not be authenticated"
CREATED_BY = Actor(user_id=None, label="webhook", is_admin=False)


def hash_id(hook_id: str) -> str:
    """What is stored and looked up: the SHA-256 of the id (hex)."""
    return hashlib.sha256(hook_id.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class HookTarget:
    """What a hook id leads to now: the version it runs and its trigger's settings."""

    project: Project
    workflow: Workflow
    version: int
    alias: str | None
    config: HookConfig
    secrets: Mapping[str, str] = field(repr=False)
    body_validator: Any
    expires_at: datetime | None
    loaded: float
    production: Alias | None = None
    """The alias ``production`` as read with the target: a start draws its
    version (and canary) from it without reading it again."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """A request to a hook, as read by the API (the body already within its limit)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes
    client: str | None

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Accepted:
    run_id: uuid.UUID
    created: bool
    """False when an ``Idempotency-Key`` returned an earlier run (200)."""


class DeliveryLog:
    """Deliveries wait here and are written in batches, once a second: a flood
    of bad requests costs one insert a second, not one each, and an accepted
    request's transaction holds only its run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[uuid.UUID, Delivery]] = []
        self._refused: dict[uuid.UUID, int] = {}
        self.dropped = 0
        """Deliveries not logged: past MAX_PENDING_DELIVERIES, or refusals past
        DELIVERIES_SHOWN for one hook in one batch."""

    def add(self, project_id: uuid.UUID, delivery: Delivery) -> None:
        with self._lock:
            if len(self._pending) >= MAX_PENDING_DELIVERIES:
                self.dropped += 1
                return
            if delivery.run_id is None:
                # Refusals: at most DELIVERIES_SHOWN per hook and batch (more
                # would push each other out of the log shown); the rest counted.
                refused = self._refused.get(delivery.workflow_id, 0)
                if refused >= DELIVERIES_SHOWN:
                    self.dropped += 1
                    return
                self._refused[delivery.workflow_id] = refused + 1
            self._pending.append((project_id, delivery))

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self, db: Database) -> int:
        """Write what is pending; prune entries older than the retention."""
        with self._lock:
            pending, self._pending = self._pending, []
            self._refused.clear()
        by_project: dict[uuid.UUID, list[Delivery]] = {}
        for project_id, delivery in pending:
            by_project.setdefault(project_id, []).append(delivery)
        cutoff = datetime.now(UTC) - timedelta(days=DELIVERY_RETENTION_DAYS)
        for project_id, deliveries in by_project.items():
            with transaction(db) as session:
                project = project_store.get_by_id(session, project_id)
                if project is None:
                    continue
                scope = enter_project(session, project, Role.EDITOR)
                scope.webhooks.add_deliveries(deliveries)
                scope.webhooks.prune_deliveries(cutoff)
        return len(pending)


class HookGate:
    """One per app (per process): the hook cache, the in-memory rate buckets
    (SQLite; PostgreSQL shares a row between processes), the delivery log."""

    def __init__(
        self,
        db: Database,
        keys: Keys,
        *,
        ttl: float = TARGET_TTL_SECONDS,
        refusals: RefusalLimits | None = None,
    ) -> None:
        self.db = db
        self.keys = keys
        self.ttl = ttl
        self.refusals = refusals or RefusalLimits(
            DEFAULT_REFUSALS_PER_SECOND, DEFAULT_REFUSAL_BURST
        )
        self.deliveries = DeliveryLog()
        self.starts = StartBatcher(db)
        self._targets: dict[str, HookTarget | None] = {}
        self._loaded_at: dict[str, float] = {}
        self._reloading: set[str] = set()
        self._buckets: dict[uuid.UUID, Bucket] = {}
        self._lock = threading.Lock()

    # -- the hook -----------------------------------------------------------

    def target(self, hook_id: str) -> HookTarget:
        """The hook's target now; :class:`NotFound` (saying nothing more) for an
        unknown or expired id, a trashed workflow, nothing published, no trigger."""
        if not _HOOK_ID.match(hook_id):
            raise NotFound(NOT_FOUND)
        id_hash = hash_id(hook_id)
        now = time.monotonic()
        if now - self._loaded_at.get(id_hash, -1e9) > self.ttl and not self._stale_ok(id_hash):
            with self._lock:
                self._reloading.add(id_hash)
            try:
                found = self._load(id_hash)
            finally:
                with self._lock:
                    self._reloading.discard(id_hash)
            with self._lock:
                if len(self._targets) > 10_000:
                    self._targets.clear()
                    self._loaded_at.clear()
                self._targets[id_hash] = found
                self._loaded_at[id_hash] = now
        target = self._targets.get(id_hash)
        if target is None or (
            target.expires_at is not None and target.expires_at <= datetime.now(UTC)
        ):
            raise NotFound(NOT_FOUND)
        return target

    def _stale_ok(self, id_hash: str) -> bool:
        """A target past its TTL may still answer while another request reloads
        it (one reload at a time, not one per request that finds it stale);
        one that was forgotten may not."""
        return id_hash in self._reloading and id_hash in self._loaded_at

    def forget(self, hook_ids: Iterable[str] = ()) -> None:
        """Drop cached targets (after a rotation in this process)."""
        with self._lock:
            for hook_id in hook_ids:
                self._loaded_at.pop(hash_id(hook_id), None)
            if not hook_ids:
                self._loaded_at.clear()

    def _load(self, id_hash: str) -> HookTarget | None:
        with transaction(self.db, write=False) as session:
            row = find_hook(session, id_hash)
            if row is None:
                return None
            project = project_store.get_by_id(session, row.project_id)
            if project is None:
                return None
            scope = enter_project(session, project, Role.EDITOR)
            workflow = scope.workflows.find(workflow_id=row.workflow_id)
            if workflow is None:
                return None  # trashed
            try:
                number, alias = runs.default_version(scope, workflow)
            except Conflict:
                return None  # nothing published
            node = _webhook_node(runs.version_graph(scope, workflow.id, number).nodes)
            if node is None:
                return None
            config = hook_config(node.config, workflow.key)
            values = values_for_hook(scope, self.keys, config.secret_names)
            production = scope.aliases.get(workflow.id, runs.DEFAULT_ALIAS)
        schema = config.body_schema
        return HookTarget(
            project=project,
            workflow=workflow,
            version=number,
            alias=alias,
            config=config,
            secrets=values,
            body_validator=json_schema.Validator(schema) if isinstance(schema, dict) else None,
            expires_at=row.expires_at,
            loaded=time.monotonic(),
            production=production,
        )

    # -- the steps of a request ---------------------------------------------

    def admit(
        self,
        hook_id: str,
        path: str,
        method: str,
        declared: int | None = None,
        client: str | None = None,
    ) -> HookTarget:
        """Steps before the body is read: hook, path, method, the body's
        declared length (``Content-Length``), rate limit."""
        target = self.target(hook_id)
        if path.strip("/") != target.config.path:
            raise NotFound(NOT_FOUND)
        if method not in target.config.methods:
            self.refused(target, method, 405, "method", client, 0.0)
            raise MethodNotAllowed(
                f"this webhook accepts {', '.join(target.config.methods)}",
                extra={"allow": list(target.config.methods)},
            )
        limit = target.config.max_body_bytes
        if declared is not None and declared > limit:
            self.refused(target, method, 413, "body.size", client, 0.0)
            raise PayloadTooLarge(f"the request body is larger than this webhook's {limit} bytes")
        wait = self._take_token(target)
        if wait > 0:
            self.refused(target, method, 429, "rate_limit", client, 0.0)
            seconds = retry_after(wait)
            raise TooManyRequests(
                f"this webhook's rate limit is reached; retry in {seconds} s",
                extra={"retry_after": seconds},
            )
        return target

    def _take_token(self, target: HookTarget) -> float:
        config = target.config
        if self.db.is_postgres:
            with transaction(self.db) as session:
                scope = enter_project(session, target.project, Role.EDITOR)
                taken, tokens = scope.webhooks.take_token(
                    target.workflow.id, config.rate_per_second, config.burst, datetime.now(UTC)
                )
            return 0.0 if taken else (1 - tokens) / config.rate_per_second
        with self._lock:
            bucket = self._buckets.get(target.workflow.id)
            if bucket is None:
                bucket = self._buckets[target.workflow.id] = Bucket(
                    float(config.burst), time.monotonic()
                )
            return bucket.take(time.monotonic(), config.rate_per_second, config.burst)

    def admits_in_memory(self, hook_id: str) -> bool:
        """Whether :meth:`admit` would touch no database now (SQLite's in-memory
        bucket and a fresh cached target): the API then calls it on the event
        loop instead of a worker thread."""
        if self.db.is_postgres:
            return False
        if not _HOOK_ID.match(hook_id):
            return False
        id_hash = hash_id(hook_id)
        loaded = self._loaded_at.get(id_hash)
        return loaded is not None and (
            time.monotonic() - loaded <= self.ttl or self._stale_ok(id_hash)
        )

    def accept(self, target: HookTarget, incoming: Incoming, started: float) -> Accepted:
        """Steps after the body is read: sender, body, then the run (committed)."""
        value, key = self.check(target, incoming, started)
        return self.start(target, incoming, value, key, started)

    def check(
        self, target: HookTarget, incoming: Incoming, started: float
    ) -> tuple[dict[str, Any], str | None]:
        """The sender and the body (CPU only, no I/O): the run input and the
        idempotency key, or the refusal."""
        try:
            self._verify(target, incoming)
        except Refused as refused:
            log.info(
                "webhook.refused",
                workflow=target.workflow.key,
                project=target.project.key,
                check=refused.check,
                client=incoming.client,
            )
            self._refuse(target, incoming, 401, refused.check, started)
            raise Unauthorized(UNAUTHORIZED) from None
        key = incoming.header("idempotency-key")
        if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
            self._refuse(target, incoming, 422, "idempotency_key", started)
            raise ValidationFailed(
                f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
                errors=[Problem("/headers/idempotency-key", "webhook.idempotency_key", "")],
            )
        try:
            value = run_input(
                incoming.method, incoming.path, incoming.query, incoming.headers, incoming.body
            )
        except NotJson as error:
            self._refuse(target, incoming, 422, "body.json", started)
            raise ValidationFailed(
                "the body is not valid JSON",
                errors=[Problem("/body", "webhook.body_json", str(error)[:300])],
            ) from None
        if target.body_validator is not None:
            problems = _body_problems(target.body_validator, value["body"])
            if problems:
                self._refuse(target, incoming, 422, "body.schema", started)
                raise ValidationFailed(
                    "the body does not match the webhook's body_schema", problems
                )
        return value, key

    def _verify(self, target: HookTarget, incoming: Incoming) -> None:
        config = target.config
        if config.hmac_secret:
            secret = target.secrets.get(config.hmac_secret)
            if secret is None:
                raise Refused("signature.secret_missing")
            webhook_auth.verify_signature(
                incoming.header(SIGNATURE_HEADER),
                secret,
                incoming.body,
                time.time(),
                SIGNATURE_TOLERANCE_SECONDS,
            )
        if config.jwt is not None:
            key = target.secrets.get(config.jwt.key_secret)
            if key is None:
                raise Refused("jwt.secret_missing")
            webhook_auth.verify_jwt(
                incoming.header("authorization"),
                algorithm=config.jwt.algorithm,
                key=key,
                issuer=config.jwt.issuer,
                audience=config.jwt.audience,
                leeway=config.jwt.leeway_seconds,
            )

    def start(
        self,
        target: HookTarget,
        incoming: Incoming,
        value: dict[str, Any],
        key: str | None,
        started: float,
    ) -> Accepted:
        """The run, committed (waits for the writer's group commit)."""
        outcome = self.submit_start(target, value, key).result()
        return self.accepted(target, incoming, outcome, started)

    def submit_start(
        self, target: HookTarget, value: dict[str, Any], key: str | None
    ) -> Future[runs.Started]:
        """Queue the run for the writer thread (``services/start_batches.py``):
        the future is resolved once it is committed, with others that arrived
        meanwhile. The workflow and its alias ``production`` are the ones read
        with the target (at most ``ttl`` seconds ago): a trash, publish or
        alias move reaches the hook within that time. The version (and its
        canary) is drawn per request, like any start."""
        request = runs.StartRequest(input=value, idempotency_key=key, trigger=Trigger.WEBHOOK)
        return self.starts.submit(
            target.project,
            target.workflow,
            CREATED_BY,
            request,
            aliases={runs.DEFAULT_ALIAS: target.production},
        )

    def accepted(
        self, target: HookTarget, incoming: Incoming, outcome: runs.Started, started: float
    ) -> Accepted:
        """Log a committed start's delivery (written with the next batch)."""
        status = 202 if outcome.created else 200
        self.deliveries.add(
            target.project.id,
            _delivery(
                target, incoming.method, status, outcome.run.id, None, started, incoming.client
            ),
        )
        return Accepted(outcome.run.id, outcome.created)

    # -- refusals -----------------------------------------------------------

    def _refuse(
        self, target: HookTarget, incoming: Incoming, status: int, check: str, started: float
    ) -> None:
        self.refused(target, incoming.method, status, check, incoming.client, started)

    def refused(
        self,
        target: HookTarget,
        method: str,
        status: int,
        check: str,
        client: str | None,
        started: float,
    ) -> None:
        """Log a refused request to the hook (written with the next batch)."""
        self.deliveries.add(
            target.project.id, _delivery(target, method, status, None, check, started, client)
        )


def _delivery(
    target: HookTarget,
    method: str,
    status: int,
    run_id: uuid.UUID | None,
    failure: str | None,
    started: float,
    client: str | None,
) -> Delivery:
    latency = (time.perf_counter() - started) * 1000 if started else 0.0
    return Delivery(
        # Not a secret: a pseudo-random id costs no system call, and on the
        # event loop a system call lets the writer thread take the GIL.
        id=uuid.UUID(int=random.getrandbits(128), version=4),
        workflow_id=target.workflow.id,
        at=datetime.now(UTC),
        method=method,
        status=status,
        run_id=run_id,
        latency_ms=round(latency, 3),
        client=client,
        failure=failure,
    )


def _webhook_node(nodes: Iterable[Any]) -> Any:
    for node in nodes:
        if node.is_trigger and node.type == "webhook":
            return node
    return None


def _body_problems(validator: Any, body: Any) -> list[Problem]:
    found, more = json_schema.schema_errors(validator, body, MAX_BODY_PROBLEMS)
    problems = [
        Problem(
            pointers.join("/body", *(str(part) for part in error.absolute_path)),
            "webhook.body_schema",
            error.message[:300],
        )
        for error in found
    ]
    if more:
        problems.append(
            Problem("/body", "problems.truncated", f"only the first {MAX_BODY_PROBLEMS} shown")
        )
    return problems


# -- management (project use cases) -----------------------------------------


@dataclass(frozen=True, slots=True)
class HookInfo:
    url: str
    methods: tuple[str, ...]
    path: str
    target: dict[str, Any] | None
    """``{version, alias}`` a request runs now; ``None`` while nothing is published."""
    signing: str
    """``hmac``, ``jwt`` or ``none``."""
    created_at: datetime


def _config_for(
    scope: ProjectScope, workflow: Workflow
) -> tuple[HookConfig, dict[str, Any] | None]:
    """The webhook trigger's settings in the version a request runs (the head
    draft while nothing is published); :class:`NotFound` without one."""
    target: dict[str, Any] | None = None
    try:
        number, alias = runs.default_version(scope, workflow)
        nodes: Iterable[Any] = runs.version_graph(scope, workflow.id, number).nodes
        target = {"version": number, "alias": alias}
    except Conflict:
        head = scope.detail(workflow)
        nodes = [
            _HeadNode(node.get("type"), node.get("config") or {})
            for node in definitions.load(head.definition).get("nodes", [])
            if isinstance(node, dict)
        ]
    node = _webhook_node(nodes)
    if node is None:
        raise NotFound(f"workflow {workflow.key!r} has no webhook trigger")
    return hook_config(node.config, workflow.key), target


@dataclass(frozen=True, slots=True)
class _HeadNode:
    type: Any
    config: Mapping[str, Any]
    is_trigger: bool = True


def _ensure_id(scope: ProjectScope, workflow: Workflow) -> tuple[str, datetime]:
    current = scope.webhooks.current(workflow.id)
    if current is not None:
        return current.hook_id, current.created_at
    hook_id = secrets.token_urlsafe(HOOK_ID_BYTES)
    now = datetime.now(UTC)
    scope.webhooks.issue(workflow.id, hook_id, hash_id(hook_id), now)
    return hook_id, now


def _info(scope: ProjectScope, workflow: Workflow, base_url: str) -> HookInfo:
    config, target = _config_for(scope, workflow)
    hook_id, created_at = _ensure_id(scope, workflow)
    signing = "hmac" if config.hmac_secret else "jwt" if config.jwt else "none"
    return HookInfo(
        url=f"{base_url}/hooks/{hook_id}/{config.path}",
        methods=config.methods,
        path=config.path,
        target=target,
        signing=signing,
        created_at=created_at,
    )


def show(
    db: Database, actor: Actor, project_key: str, workflow_ref: str, base_url: str
) -> HookInfo:
    """The workflow's webhook URL (its id is issued the first time it is asked for)."""
    with project_transaction(db, actor, project_key, Role.VIEWER) as scope:
        return _info(scope, scope.find_workflow(workflow_ref), base_url)


MAX_GRACE_SECONDS = 7 * 24 * 3600


def rotate(
    db: Database,
    actor: Actor,
    project_key: str,
    workflow_ref: str,
    base_url: str,
    *,
    grace_seconds: int = 0,
) -> HookInfo:
    """A new hook id; the old one keeps working for ``grace_seconds`` (audited)."""
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise ValidationFailed(
            f"grace_seconds must be 0 to {MAX_GRACE_SECONDS}",
            errors=[Problem("/grace_seconds", "webhook.grace", "out of range")],
        )
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        workflow = scope.find_workflow(workflow_ref)
        _config_for(scope, workflow)
        now = datetime.now(UTC)
        scope.webhooks.retire(workflow.id, now + timedelta(seconds=grace_seconds), now)
        info = _info(scope, workflow, base_url)
        scope.record_event(actor, "webhook.rotate", workflow, {"grace_seconds": grace_seconds})
        return info


def deliveries(
    db: Database,
    actor: Actor,
    project_key: str,
    workflow_ref: str,
    *,
    limit: int = DELIVERIES_SHOWN,
) -> list[Delivery]:
    """The workflow's last deliveries, newest first; the text they keep (the
    client and the failure) shown through the built-in detectors and the
    project's own patterns, like every log (no bodies or headers are kept)."""
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        workflow = scope.find_workflow(workflow_ref)
        found = scope.webhooks.deliveries(workflow.id, min(limit, DELIVERIES_SHOWN))
        redactor = redaction.project_redactor(scope)
    return [
        replace(
            delivery,
            client=None if delivery.client is None else redactor.text(delivery.client),
            failure=None if delivery.failure is None else redactor.text(delivery.failure),
        )
        for delivery in found
    ]


@dataclass(frozen=True, slots=True)
class TestResult:
    status: int
    run_id: uuid.UUID | None
    detail: str | None


def send_test(
    gate: HookGate,
    actor: Actor,
    project_key: str,
    workflow_ref: str,
    base_url: str,
    body: Any,
) -> TestResult:
    """Send a correctly signed request to the workflow's own hook, through every
    check a real one goes through; its answer (status, run id) is returned."""
    with project_transaction(gate.db, actor, project_key, Role.EDITOR) as scope:
        workflow = scope.find_workflow(workflow_ref)
        info = _info(scope, workflow, base_url)
    hook_id, path = info.url.rsplit("/hooks/", 1)[1].split("/", 1)
    raw = orjson.dumps({} if body is None else body)
    started = time.perf_counter()
    try:
        target = gate.admit(hook_id, path, info.methods[0])
        headers = [("content-type", "application/json"), ("user-agent", "meshhook-test")]
        headers += _test_credentials(target, raw)
        incoming = Incoming(info.methods[0], path, [], headers, raw, "meshhook-test")
        if len(raw) > target.config.max_body_bytes:
            return TestResult(413, None, "the test body is larger than the hook's limit")
        accepted = gate.accept(target, incoming, started)
    except (NotFound, MethodNotAllowed, TooManyRequests, Unauthorized, ValidationFailed) as error:
        return TestResult(error.status, None, error.detail)
    return TestResult(202 if accepted.created else 200, accepted.run_id, None)


def _test_credentials(target: HookTarget, raw: bytes) -> list[tuple[str, str]]:
    config = target.config
    if config.hmac_secret and config.hmac_secret in target.secrets:
        value = webhook_auth.sign(target.secrets[config.hmac_secret], int(time.time()), raw)
        return [(SIGNATURE_HEADER, value)]
    if config.jwt is not None and config.jwt.algorithm == "HS256":
        key = target.secrets.get(config.jwt.key_secret)
        if key is not None:
            token = webhook_auth.mint_test_token(
                key, issuer=config.jwt.issuer, audience=config.jwt.audience
            )
            return [("authorization", f"Bearer {token}")]
    if config.jwt is not None:
        raise Conflict(
            "a webhook checked with an RS256/ES256 public key cannot be tested from here:"
            " the server does not hold the private key"
        )
    return []
