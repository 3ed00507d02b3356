"""The alert outbox: find due deliveries, claim one and prepare its request
(secrets read, body signed), record each attempt. The workers' loop drives
these (``engine/worker.py``), and so does the test-alert route.

A delivery is prepared in one transaction, sent outside any transaction
(``engine/alerts.py``), and its attempt recorded in another: a worker that
dies while sending leaves the delivery claimed for ``CLAIM_SECONDS``, after
which another worker sends it again (at least once).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog

from meshhook.domain.alerts import (
    CLAIM_SECONDS,
    AttemptRecord,
    Delivery,
    Destination,
    DestinationKind,
    Outcome,
    Prepared,
    body_bytes,
    check_url,
    outcome_of,
    secret_reference,
)
from meshhook.domain.errors import ValidationFailed
from meshhook.security.webhook_auth import sign
from meshhook.services import secrets as secret_service
from meshhook.services.transactions import WORKER, transaction, worker_transaction
from meshhook.store import alerts as alert_store
from meshhook.store.db import Database

log = structlog.get_logger("meshhook.alerts")

DELIVERY_RETENTION_DAYS = 30
"""Delivered and given-up deliveries older than this are deleted (by the next
attempt recorded in their project)."""
DUE_LIMIT = 50
USER_AGENT = "MeshHook-Alerts/1"


def due(
    db: Database, now: datetime | None = None, limit: int = DUE_LIMIT
) -> list[tuple[UUID, UUID]]:
    """(project id, delivery id) of the deliveries due now, across projects."""
    with transaction(db, WORKER, write=False) as session:
        return alert_store.due_deliveries(session, now or datetime.now(UTC), limit)


def take(
    db: Database,
    keys: secret_service.Keys,
    project_id: UUID,
    delivery_id: UUID,
    now: datetime | None = None,
) -> Prepared | None:
    """Claim a due delivery and prepare its request (secrets read, body
    signed); None when another worker has it or it is no longer due."""
    now = now or datetime.now(UTC)
    with worker_transaction(db, project_id) as scope:
        delivery = scope.alerts.claim(delivery_id, now, now + timedelta(seconds=CLAIM_SECONDS))
        if delivery is None:
            return None
        destination = scope.alerts.destination(delivery.destination_id)
        assert destination is not None, "deliveries go with their destination"
        values = secret_service.values_for_run(
            scope,
            keys,
            WORKER,
            destination.secret_names,
            purpose=f"alert delivery {delivery.id}",
        )
    # Signed at the wall-clock time of sending (``now`` may be a worker's clock).
    return prepare(delivery, destination, values, datetime.now(UTC))


def prepare(
    delivery: Delivery, destination: Destination, secrets: Mapping[str, str], now: datetime
) -> Prepared:
    """The request of one attempt. A webhook body is signed like incoming
    hooks: ``X-MeshHook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
    "<t>.<body>">`` keyed with the signing secret's UTF-8 bytes."""
    number = len(delivery.attempts) + 1
    body = body_bytes(delivery.payload, destination.kind)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "x-meshhook-delivery": str(delivery.id),
        "x-meshhook-event": str(delivery.event),
    }
    problem = None
    url = destination.url
    name = secret_reference(url)
    if name is not None:
        url = secrets.get(name, "")
        if not url:
            problem = f"the secret {name!r} holding the URL is missing"
        else:
            try:
                url = check_url(url)
            except ValidationFailed:
                problem = f"the secret {name!r} does not hold an http(s) URL"
    if destination.kind is DestinationKind.WEBHOOK and problem is None:
        key_name = secret_reference(destination.signing_secret or "") or ""
        key = secrets.get(key_name)
        if key is None:
            problem = f"the signing secret {key_name!r} is missing"
        else:
            headers["x-meshhook-signature"] = sign(key, int(now.timestamp()), body)
    return Prepared(delivery.id, number, url, body, headers, problem)


def record(db: Database, project_id: UUID, prepared: Prepared, attempt: AttemptRecord) -> Outcome:
    """Log an attempt; the delivery is delivered, retried later or given up."""
    outcome = outcome_of(prepared.attempt_number, attempt)
    with worker_transaction(db, project_id) as scope:
        scope.alerts.record_attempt(prepared.delivery_id, attempt, outcome)
        scope.alerts.prune(attempt.at - timedelta(days=DELIVERY_RETENTION_DAYS))
    log.info(
        "alert delivery attempt",
        delivery=str(prepared.delivery_id),
        attempt=prepared.attempt_number,
        status_code=attempt.status_code,
        error=attempt.error,
        outcome=str(outcome.status),
    )
    return outcome
