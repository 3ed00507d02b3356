"""Alerts: rules and destinations (viewers read, admins write, every write
audited), the evaluation of rules (event rules in the transaction that
finishes a run, threshold rules periodically by the workers), the alerts they
queue in the outbox, the delivery log and test alerts. Sending and retrying
is ``services/alert_outbox.py``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

import structlog

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.alerts import (
    Action,
    Decision,
    Delivery,
    DeliveryStatus,
    Destination,
    Event,
    RateObservation,
    Rule,
    RuleKind,
    RuleSpec,
    RuleState,
    destination_spec,
    invalid,
    lag_breaches,
    on_failure,
    on_observation,
    on_success,
    rule_spec,
    secret_reference,
    summary_text,
)
from meshhook.domain.errors import NotFound
from meshhook.domain.redaction import Redactor
from meshhook.domain.runs.events import RunStatus
from meshhook.domain.runs.graph import RunGraph
from meshhook.domain.runs.redacted import redact_error
from meshhook.domain.runs.run import Run, RunView
from meshhook.services import redaction
from meshhook.services import runs as run_service
from meshhook.services import secrets as secret_service
from meshhook.services.transactions import (
    WORKER,
    ProjectScope,
    as_uuid,
    project_transaction,
    transaction,
    worker_transaction,
)
from meshhook.store import alerts as alert_store
from meshhook.store.db import Database

log = structlog.get_logger("meshhook.alerts")

DELIVERIES_SHOWN = 100
REDACTOR = Redactor()


# -- destinations -------------------------------------------------------------


def list_destinations(db: Database, actor: Actor, project_key: str) -> list[Destination]:
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        return scope.alerts.destinations()


def get_destination(db: Database, actor: Actor, project_key: str, ref: str) -> Destination:
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        return _destination(scope, ref)


def _destination(scope: ProjectScope, ref: str) -> Destination:
    as_id = as_uuid(ref)
    found = scope.alerts.destination(as_id) if as_id else None
    if found is None:
        found = next((d for d in scope.alerts.destinations() if d.name == ref), None)
    if found is None:
        raise NotFound(f"no alert destination {ref!r} in project {scope.project.key!r}")
    return found


def save_destination(
    db: Database,
    actor: Actor,
    project_key: str,
    values: Mapping[str, Any],
    *,
    ref: str | None = None,
) -> Destination:
    """Create a destination (``ref`` None) or change one (``values`` holds
    only the fields to change); audited as ``alert_destination.create`` /
    ``.update``."""
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        now = datetime.now(UTC)
        old = _destination(scope, ref) if ref is not None else None
        merged = {**(_destination_values(old) if old else {}), **values}
        spec = destination_spec(merged)
        _check_secrets(scope, [spec.url, spec.signing_secret or ""])
        destination = Destination(
            id=old.id if old else uuid.uuid4(),
            name=spec.name,
            kind=spec.kind,
            url=spec.url,
            signing_secret=spec.signing_secret,
            created_at=old.created_at if old else now,
            created_by=old.created_by if old else actor.label,
            updated_at=now,
            updated_by=actor.label,
        )
        scope.alerts.put_destination(destination, exists=old is not None)
        scope.record(
            actor,
            "alert_destination.update" if old else "alert_destination.create",
            object_type="alert_destination",
            object_id=str(destination.id),
            summary={"name": destination.name, "kind": str(destination.kind)},
        )
        return destination


def delete_destination(db: Database, actor: Actor, project_key: str, ref: str) -> None:
    """Delete a destination and its deliveries; rules naming it drop it."""
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        destination = _destination(scope, ref)
        scope.alerts.delete_destination(destination.id)
        for rule in scope.alerts.rules():
            if destination.id in rule.destinations:
                kept = tuple(d for d in rule.destinations if d != destination.id)
                scope.alerts.put_rule(_replace_destinations(rule, kept), exists=True)
        scope.record(
            actor,
            "alert_destination.delete",
            object_type="alert_destination",
            object_id=str(destination.id),
            summary={"name": destination.name},
        )


def _destination_values(destination: Destination) -> dict[str, Any]:
    return {
        "name": destination.name,
        "kind": str(destination.kind),
        "url": destination.url,
        "signing_secret": destination.signing_secret,
    }


def _check_secrets(scope: ProjectScope, references: list[str]) -> None:
    names = set(scope.secrets.names())
    for pointer, reference in zip(("/url", "/signing_secret"), references, strict=True):
        name = secret_reference(reference)
        if name is not None and name not in names:
            raise invalid(f"no secret {name!r} in the project's vault", pointer=pointer)


# -- rules ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleView:
    rule: Rule
    workflow_key: str | None


def list_rules(db: Database, actor: Actor, project_key: str) -> list[RuleView]:
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        return [_view(scope, rule) for rule in scope.alerts.rules()]


def get_rule(db: Database, actor: Actor, project_key: str, ref: str) -> RuleView:
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        return _view(scope, _rule(scope, ref))


def _rule(scope: ProjectScope, ref: str, *, for_update: bool = False) -> Rule:
    as_id = as_uuid(ref)
    found = scope.alerts.rule(as_id, for_update=for_update) if as_id else None
    if found is None:
        named = next((r for r in scope.alerts.rules() if r.name == ref), None)
        found = scope.alerts.rule(named.id, for_update=for_update) if named else None
    if found is None:
        raise NotFound(f"no alert rule {ref!r} in project {scope.project.key!r}")
    return found


def _view(scope: ProjectScope, rule: Rule) -> RuleView:
    key = None
    if rule.workflow_id is not None:
        workflow = scope.workflows.find(workflow_id=rule.workflow_id)
        key = workflow.key if workflow else str(rule.workflow_id)
    return RuleView(rule, key)


def save_rule(
    db: Database,
    actor: Actor,
    project_key: str,
    values: Mapping[str, Any],
    *,
    ref: str | None = None,
) -> RuleView:
    """Create a rule (``ref`` None) or change one (``values`` holds only the
    fields to change; its firing state is kept); audited as
    ``alert_rule.create`` / ``.update``."""
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        now = datetime.now(UTC)
        old = _rule(scope, ref, for_update=True) if ref is not None else None
        base = _rule_values(_view(scope, old)) if old else {}
        spec = rule_spec({**base, **values})
        workflow_id = scope.find_workflow(spec.workflow).id if spec.workflow else None
        destinations = _destination_ids(scope, spec)
        rule = Rule(
            id=old.id if old else uuid.uuid4(),
            name=spec.name,
            kind=spec.kind,
            workflow_id=workflow_id,
            threshold=spec.threshold,
            window=spec.window,
            min_runs=spec.min_runs,
            cooldown_seconds=spec.cooldown_seconds,
            destinations=destinations,
            enabled=spec.enabled,
            state=old.state if old else RuleState(),
            created_at=old.created_at if old else now,
            created_by=old.created_by if old else actor.label,
            updated_at=now,
            updated_by=actor.label,
        )
        scope.alerts.put_rule(rule, exists=old is not None)
        scope.record(
            actor,
            "alert_rule.update" if old else "alert_rule.create",
            object_type="alert_rule",
            object_id=str(rule.id),
            summary={"name": rule.name, "kind": str(rule.kind), "enabled": rule.enabled},
        )
        return _view(scope, scope.alerts.rule(rule.id) or rule)


def delete_rule(db: Database, actor: Actor, project_key: str, ref: str) -> None:
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        rule = _rule(scope, ref)
        scope.alerts.delete_rule(rule.id)
        scope.record(
            actor,
            "alert_rule.delete",
            object_type="alert_rule",
            object_id=str(rule.id),
            summary={"name": rule.name},
        )


def _rule_values(view: RuleView) -> dict[str, Any]:
    rule = view.rule
    return {
        "name": rule.name,
        "kind": str(rule.kind),
        "workflow": view.workflow_key,
        "threshold": rule.threshold,
        "window": str(rule.window),
        "min_runs": rule.min_runs,
        "cooldown_seconds": rule.cooldown_seconds,
        "destinations": [str(d) for d in rule.destinations],
        "enabled": rule.enabled,
    }


def _destination_ids(scope: ProjectScope, spec: RuleSpec) -> tuple[UUID, ...]:
    known = {str(d.id): d.id for d in scope.alerts.destinations()}
    known.update({d.name: d.id for d in scope.alerts.destinations()})
    found = []
    for index, ref in enumerate(spec.destinations):
        if ref not in known:
            raise invalid(f"no alert destination {ref!r} in the project", f"/destinations/{index}")
        found.append(known[ref])
    return tuple(dict.fromkeys(found))


def _replace_destinations(rule: Rule, kept: tuple[UUID, ...]) -> Rule:
    return replace(rule, destinations=kept)


# -- evaluation -----------------------------------------------------------------


def run_finished(
    scope: ProjectScope, run: Run, view: RunView, now: datetime, graph: RunGraph | None = None
) -> None:
    """Event rules, in the transaction that finishes ``run`` (test runs and
    cancelled runs alert nothing). Rules are read without a lock, and only a
    rule whose state would change is locked and decided again: a success with
    no rule firing costs one indexed read and takes no lock. ``graph`` is the
    run's (read again when not given)."""
    if run.test or view.status not in (RunStatus.FAILED, RunStatus.SUCCEEDED):
        return
    shown: tuple[dict[str, Any], Redactor] | None = None
    for seen in scope.alerts.watching(run.workflow_id, events=True, lock=False):
        if _decide(seen, view, now) is None:
            continue
        rule = scope.alerts.rule(seen.id, for_update=True)
        decision = _decide(rule, view, now) if rule is not None else None
        if rule is None or decision is None:
            continue
        run_part, redactor = None, None
        if decision.action in (Action.FIRE, Action.RESOLVE):
            shown = shown or _shown_run(scope, run, view, graph)
            run_part, redactor = shown
        if view.status is RunStatus.SUCCEEDED:
            detail = f"run {run.id} of {run.workflow_key} succeeded"
        else:
            code = (view.error or {}).get("code") or "failed"
            detail = f"run {run.id} of {run.workflow_key} failed ({code})"
        _apply(
            scope, rule, decision, now, run.workflow_key, detail, run=run_part, redactor=redactor
        )


def _shown_run(
    scope: ProjectScope, run: Run, view: RunView, graph: RunGraph | None
) -> tuple[dict[str, Any], Redactor]:
    """The ``run`` part of an alert and what hides the rest of its text: the
    run's error redacted as the console shows it to a viewer (the built-in
    detectors, the project's patterns, the workflow's and version's pointers),
    and, since an alert is text about the run, the secret values the run's
    version references and the values its pointers name in the run's
    payloads, wherever they appear. A run without an error (a success that
    resolves a rule) says nothing of its payloads: the project's patterns do."""
    part: dict[str, Any] = {
        "id": str(run.id),
        "status": str(view.status),
        "version": run.version,
        "dead_letter": view.dead_letter,
        "error": None,
    }
    if not view.error:
        return part, redaction.project_redactor(scope)
    graph = graph or run_service.load_graph(scope, run)
    secrets = _secret_values(scope, run, graph)
    redactor = redaction.about_run(scope, run.workflow_id, view, graph.redact, secrets=secrets)
    error = redact_error(view.error, redactor)
    part["error"] = {"code": error.get("code"), "message": error.get("message")}
    # Pointers name places in a run's payloads, not in the alert: the rest of
    # the alert gets the text redaction only.
    return part, replace(redactor, pointers=())


def _secret_values(scope: ProjectScope, run: Run, graph: RunGraph) -> list[str]:
    """The values (and their percent-encoded forms, as a URL carries them) of
    the secrets the run's version references; each read audited as
    ``secret.use``. None without keys (a bare test database)."""
    names = {name for node in graph.nodes for name in node.secret_names()}
    keys = scope.key_source
    if not names or keys is None:
        return []
    purpose = f"alert redaction for run {run.id}"
    values = secret_service.values_for_run(scope, keys, WORKER, names, purpose=purpose)
    return [form for value in values.values() for form in (value, quote(value, safe=""))]


def _decide(rule: Rule, view: RunView, now: datetime) -> Decision | None:
    """What a finished run does to an event rule; None: nothing at all."""
    if view.status is RunStatus.SUCCEEDED:
        decision = on_success(rule.state)
    elif rule.kind is RuleKind.RUN_DEAD_LETTERED and not view.dead_letter:
        return None
    else:
        decision = on_failure(rule.state, now, rule.cooldown_seconds)
    if decision.action is Action.NOTHING and decision.state == rule.state:
        return None
    return decision


@dataclass(frozen=True, slots=True)
class Observed:
    breached: bool
    figures: dict[str, Any]
    detail: str


def _observe(scope: ProjectScope, rule: Rule, now: datetime) -> Observed:
    threshold = float(rule.threshold or 0)
    if rule.kind is RuleKind.QUEUE_LAG:
        lag = scope.alerts.queue_lag(now)
        shown = f"{lag:.0f} s" if lag is not None else "nothing waiting"
        return Observed(
            lag_breaches(lag, threshold),
            {"queue_lag_seconds": round(lag, 3) if lag is not None else None},
            f"queue lag {shown} (threshold {threshold:g} s)",
        )
    finished, failed = scope.stats.counts(rule.window, now, rule.workflow_id)
    observation = RateObservation(finished, failed)
    rate = observation.rate()
    shown = f"{rate * 100:.1f} %" if rate is not None else "no runs"
    return Observed(
        observation.breaches(threshold, rule.min_runs),
        {
            "failure_rate_percent": round(rate * 100, 2) if rate is not None else None,
            "finished": finished,
            "failed": failed,
            "window": str(rule.window),
        },
        f"failure rate {shown} of {finished} runs over {rule.window}"
        f" (threshold {threshold:g} %, at least {rule.min_runs} runs)",
    )


def evaluate_thresholds(db: Database, now: datetime | None = None) -> int:
    """Look at every enabled ``failure_rate`` and ``queue_lag`` rule (a
    worker calls this periodically); the number of alerts queued."""
    now = now or datetime.now(UTC)
    with transaction(db, WORKER, write=False) as session:
        projects = alert_store.watched_projects(session)
    queued = 0
    for project_id in projects:
        with worker_transaction(db, project_id) as scope:
            for rule in scope.alerts.watching(None, events=False):
                observed = _observe(scope, rule, now)
                decision = on_observation(rule.state, observed.breached, now, rule.cooldown_seconds)
                workflow = _view(scope, rule).workflow_key
                queued += _apply(
                    scope, rule, decision, now, workflow, observed.detail, observed=observed.figures
                )
    return queued


def _apply(
    scope: ProjectScope,
    rule: Rule,
    decision: Decision,
    now: datetime,
    workflow_key: str | None,
    detail: str,
    *,
    run: dict[str, Any] | None = None,
    observed: dict[str, Any] | None = None,
    redactor: Redactor | None = None,
) -> int:
    """Keep the rule's new state; queue an alert to each destination when it
    fires or resolves, its text hidden by ``redactor`` (by default the built-in
    detectors and the project's patterns). The number of deliveries queued."""
    if decision.state != rule.state:
        scope.alerts.save_state(rule.id, decision.state)
    if decision.action not in (Action.FIRE, Action.RESOLVE):
        return 0
    event = Event.FIRED if decision.action is Action.FIRE else Event.RESOLVED
    payload = alert_payload(
        event,
        scope.project.key,
        detail,
        now,
        rule=rule,
        workflow_key=workflow_key,
        run=run,
        observed=observed,
        suppressed=decision.suppressed,
        redactor=redactor or redaction.project_redactor(scope),
    )
    deliveries = [
        _queued(rule.id, destination, event, payload, now) for destination in rule.destinations
    ]
    scope.alerts.enqueue(deliveries)
    log.info("alert queued", rule=rule.name, alert=str(event), destinations=len(deliveries))
    return len(deliveries)


def alert_payload(
    event: Event,
    project_key: str,
    detail: str,
    now: datetime,
    *,
    rule: Rule | None = None,
    workflow_key: str | None = None,
    run: dict[str, Any] | None = None,
    observed: dict[str, Any] | None = None,
    suppressed: int = 0,
    redactor: Redactor = REDACTOR,
) -> dict[str, Any]:
    """The JSON an alert carries, every string through ``redactor`` (the
    built-in detectors of ``domain/redaction.py`` unless the caller gives the
    project's): no personal data they find, no secret value."""
    payload = {
        "type": str(event),
        "alert_id": str(uuid.uuid4()),
        "at": now.isoformat().replace("+00:00", "Z"),
        "project": project_key,
        "rule": {
            "id": str(rule.id),
            "name": rule.name,
            "kind": str(rule.kind),
            "threshold": rule.threshold,
            "cooldown_seconds": rule.cooldown_seconds,
        }
        if rule
        else None,
        "workflow": workflow_key,
        "run": run,
        "observed": observed,
        "suppressed": suppressed,
        "text": summary_text(
            event,
            project_key,
            rule.name if rule else None,
            str(rule.kind) if rule else None,
            detail,
        ),
    }
    redacted: dict[str, Any] = redactor.value(payload)
    return redacted


def _queued(
    rule_id: UUID | None, destination_id: UUID, event: Event, payload: dict[str, Any], now: datetime
) -> Delivery:
    return Delivery(
        id=uuid.uuid4(),
        destination_id=destination_id,
        rule_id=rule_id,
        event=event,
        payload=payload,
        status=DeliveryStatus.PENDING,
        attempts=(),
        next_attempt_at=now,
        created_at=now,
        delivered_at=None,
    )


# -- deliveries -----------------------------------------------------------------


def list_deliveries(
    db: Database,
    actor: Actor,
    project_key: str,
    *,
    destination: str | None = None,
    rule: str | None = None,
    limit: int = DELIVERIES_SHOWN,
) -> list[Delivery]:
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        destination_id = _destination(scope, destination).id if destination else None
        rule_id = _rule(scope, rule).id if rule else None
        return scope.alerts.deliveries(limit, destination_id=destination_id, rule_id=rule_id)


def get_delivery(db: Database, actor: Actor, project_key: str, delivery_id: UUID) -> Delivery:
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        delivery = scope.alerts.delivery(delivery_id)
    if delivery is None:
        raise NotFound(f"no alert delivery {delivery_id}")
    return delivery


def queue_test(db: Database, actor: Actor, project_key: str, ref: str) -> tuple[UUID, UUID]:
    """Queue a test alert to one destination (admin); audited as
    ``alert_destination.test``. (project id, delivery id)."""
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        destination = _destination(scope, ref)
        now = datetime.now(UTC)
        payload = alert_payload(
            Event.TEST,
            scope.project.key,
            f"sent by {actor.label} to {destination.name}",
            now,
            redactor=redaction.project_redactor(scope),
        )
        delivery = _queued(None, destination.id, Event.TEST, payload, now)
        scope.alerts.enqueue([delivery])
        scope.record(
            actor,
            "alert_destination.test",
            object_type="alert_destination",
            object_id=str(destination.id),
            summary={"name": destination.name, "delivery": str(delivery.id)},
        )
        return scope.project.id, delivery.id
