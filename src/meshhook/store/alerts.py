"""Alert destinations, rules (with their de-duplication state) and the outbox
of deliveries of one project; and, across projects, which deliveries are due
and which projects have threshold rules (ids only, for the workers)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from meshhook.domain.alerts import (
    EVENT_KINDS,
    THRESHOLD_KINDS,
    AttemptRecord,
    Delivery,
    DeliveryStatus,
    Destination,
    DestinationKind,
    Event,
    Outcome,
    Rule,
    RuleKind,
    RuleState,
)
from meshhook.domain.stats import Window
from meshhook.store.repository import ProjectRepository, unique_conflicts
from meshhook.store.tables import alert_deliveries, alert_destinations, alert_rules, run_queue


class AlertStore(ProjectRepository):
    """One project's alert destinations, rules and deliveries."""

    __slots__ = ()

    # -- destinations -----------------------------------------------------

    def destinations(self) -> list[Destination]:
        rows = self.session.execute(
            select(alert_destinations)
            .where(alert_destinations.c.project_id == self.project_id)
            .order_by(alert_destinations.c.name)
        )
        return [_destination(row) for row in rows]

    def destination(self, destination_id: UUID) -> Destination | None:
        row = self.session.execute(
            select(alert_destinations).where(
                alert_destinations.c.project_id == self.project_id,
                alert_destinations.c.id == destination_id,
            )
        ).first()
        return _destination(row) if row else None

    def put_destination(self, destination: Destination, *, exists: bool) -> bool:
        """Insert, or replace the settings of, a destination; False when
        ``exists`` and there is no such destination in the project."""
        values = {
            "name": destination.name,
            "kind": str(destination.kind),
            "url": destination.url,
            "signing_secret": destination.signing_secret,
            "updated_at": destination.updated_at,
            "updated_by": destination.updated_by,
        }
        with unique_conflicts(f"a destination named {destination.name!r} exists"):
            if not exists:
                self.session.execute(
                    insert(alert_destinations).values(
                        id=destination.id,
                        project_id=self.project_id,
                        created_at=destination.created_at,
                        created_by=destination.created_by,
                        **values,
                    )
                )
                return True
            result = self.session.execute(
                update(alert_destinations)
                .where(
                    alert_destinations.c.project_id == self.project_id,
                    alert_destinations.c.id == destination.id,
                )
                .values(**values)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def delete_destination(self, destination_id: UUID) -> bool:
        result = self.session.execute(
            delete(alert_destinations).where(
                alert_destinations.c.project_id == self.project_id,
                alert_destinations.c.id == destination_id,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- rules --------------------------------------------------------------

    def rules(self) -> list[Rule]:
        rows = self.session.execute(
            select(alert_rules)
            .where(alert_rules.c.project_id == self.project_id)
            .order_by(alert_rules.c.name)
        )
        return [_rule(row) for row in rows]

    def rule(self, rule_id: UUID, *, for_update: bool = False) -> Rule | None:
        query = select(alert_rules).where(
            alert_rules.c.project_id == self.project_id, alert_rules.c.id == rule_id
        )
        row = self.session.execute(query.with_for_update() if for_update else query).first()
        return _rule(row) if row else None

    def put_rule(self, rule: Rule, *, exists: bool) -> bool:
        """Insert, or replace the settings of, a rule (a replaced rule keeps
        its state); False when ``exists`` and there is no such rule."""
        values = {
            "name": rule.name,
            "kind": str(rule.kind),
            "workflow_id": rule.workflow_id,
            "threshold": rule.threshold,
            "window": str(rule.window),
            "min_runs": rule.min_runs,
            "cooldown_seconds": rule.cooldown_seconds,
            "destinations": [str(d) for d in rule.destinations],
            "enabled": rule.enabled,
            "updated_at": rule.updated_at,
            "updated_by": rule.updated_by,
        }
        with unique_conflicts(f"a rule named {rule.name!r} exists"):
            if not exists:
                self.session.execute(
                    insert(alert_rules).values(
                        id=rule.id,
                        project_id=self.project_id,
                        firing=False,
                        last_fired_at=None,
                        suppressed=0,
                        created_at=rule.created_at,
                        created_by=rule.created_by,
                        **values,
                    )
                )
                return True
            result = self.session.execute(
                update(alert_rules)
                .where(alert_rules.c.project_id == self.project_id, alert_rules.c.id == rule.id)
                .values(**values)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def delete_rule(self, rule_id: UUID) -> bool:
        result = self.session.execute(
            delete(alert_rules).where(
                alert_rules.c.project_id == self.project_id, alert_rules.c.id == rule_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def watching(self, workflow_id: UUID | None, *, events: bool, lock: bool = True) -> list[Rule]:
        """Enabled rules of the event kinds (``events``) or threshold kinds
        that apply to ``workflow_id``; with ``lock``, locked until the
        transaction ends so two evaluations cannot both fire one rule. (The
        statements are built once: this runs as every run finishes.)"""
        rows = self.session.execute(
            _WATCHING[events, lock], {"project_id": self.project_id, "workflow_id": workflow_id}
        )
        return [_rule(row) for row in rows]

    def save_state(self, rule_id: UUID, state: RuleState) -> None:
        self.session.execute(
            update(alert_rules)
            .where(alert_rules.c.project_id == self.project_id, alert_rules.c.id == rule_id)
            .values(
                firing=state.firing,
                last_fired_at=state.last_fired_at,
                suppressed=state.suppressed,
            )
        )

    # -- deliveries (the outbox) ---------------------------------------------

    def enqueue(self, deliveries: Sequence[Delivery]) -> None:
        """Add deliveries; a destination of another project is refused (the
        insert names only this project's destinations)."""
        if not deliveries:
            return
        mine = set(
            self.session.execute(
                select(alert_destinations.c.id).where(
                    alert_destinations.c.project_id == self.project_id,
                    alert_destinations.c.id.in_([d.destination_id for d in deliveries]),
                )
            ).scalars()
        )
        rows = [
            {
                "id": item.id,
                "project_id": self.project_id,
                "destination_id": item.destination_id,
                "rule_id": item.rule_id,
                "event": str(item.event),
                "payload": item.payload,
                "status": str(item.status),
                "attempts": list(item.attempts),
                "next_attempt_at": item.next_attempt_at,
                "created_at": item.created_at,
                "delivered_at": item.delivered_at,
            }
            for item in deliveries
            if item.destination_id in mine
        ]
        if rows:
            self.session.execute(insert(alert_deliveries), rows)

    def deliveries(
        self,
        limit: int,
        *,
        destination_id: UUID | None = None,
        rule_id: UUID | None = None,
    ) -> list[Delivery]:
        """The newest deliveries first."""
        query = select(alert_deliveries).where(alert_deliveries.c.project_id == self.project_id)
        if destination_id is not None:
            query = query.where(alert_deliveries.c.destination_id == destination_id)
        if rule_id is not None:
            query = query.where(alert_deliveries.c.rule_id == rule_id)
        rows = self.session.execute(
            query.order_by(alert_deliveries.c.created_at.desc(), alert_deliveries.c.id).limit(limit)
        )
        return [_delivery(row) for row in rows]

    def delivery(self, delivery_id: UUID) -> Delivery | None:
        row = self.session.execute(
            select(alert_deliveries).where(
                alert_deliveries.c.project_id == self.project_id,
                alert_deliveries.c.id == delivery_id,
            )
        ).first()
        return _delivery(row) if row else None

    def claim(self, delivery_id: UUID, now: datetime, until: datetime) -> Delivery | None:
        """Take a due delivery for sending: its next attempt moves to
        ``until`` (so no other worker sends it meanwhile); None when it is not
        due (sent, given up, or taken by another worker), or while an older
        delivery of the same rule to the same destination is still pending, so
        a receiver gets a rule's alerts in order ("resolved" after "fired")."""
        pending = str(DeliveryStatus.PENDING)
        earlier = alert_deliveries.alias("earlier")
        waiting = (
            select(earlier.c.id)
            .where(
                earlier.c.project_id == self.project_id,
                earlier.c.rule_id == alert_deliveries.c.rule_id,
                earlier.c.destination_id == alert_deliveries.c.destination_id,
                earlier.c.status == pending,
                earlier.c.created_at < alert_deliveries.c.created_at,
            )
            .exists()
        )
        query = select(alert_deliveries).where(
            alert_deliveries.c.project_id == self.project_id,
            alert_deliveries.c.id == delivery_id,
            alert_deliveries.c.status == pending,
            alert_deliveries.c.next_attempt_at <= now,
            ~waiting,
        )
        row = self.session.execute(query.with_for_update(skip_locked=True)).first()
        if row is None:
            return None
        self.session.execute(
            update(alert_deliveries)
            .where(
                alert_deliveries.c.project_id == self.project_id,
                alert_deliveries.c.id == delivery_id,
            )
            .values(next_attempt_at=until)
        )
        return _delivery(row)

    def record_attempt(self, delivery_id: UUID, attempt: AttemptRecord, outcome: Outcome) -> None:
        """Log an attempt and what it did (delivered, retry at, given up)."""
        row = self.session.execute(
            select(alert_deliveries.c.attempts).where(
                alert_deliveries.c.project_id == self.project_id,
                alert_deliveries.c.id == delivery_id,
            )
        ).first()
        if row is None:
            return
        delivered = outcome.status is DeliveryStatus.DELIVERED
        self.session.execute(
            update(alert_deliveries)
            .where(
                alert_deliveries.c.project_id == self.project_id,
                alert_deliveries.c.id == delivery_id,
            )
            .values(
                attempts=[*row.attempts, attempt.as_json()],
                status=str(outcome.status),
                next_attempt_at=outcome.next_attempt_at,
                delivered_at=attempt.at if delivered else None,
            )
        )

    def prune(self, before: datetime) -> int:
        """Delete delivered and given-up deliveries created before ``before``."""
        result = self.session.execute(
            delete(alert_deliveries).where(
                alert_deliveries.c.project_id == self.project_id,
                alert_deliveries.c.created_at < before,
                alert_deliveries.c.status != str(DeliveryStatus.PENDING),
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def queue_lag(self, now: datetime) -> float | None:
        """Seconds the project's oldest due, unleased run has waited; None
        when nothing waits."""
        oldest = self.session.execute(
            select(func.min(run_queue.c.due_at)).where(
                run_queue.c.project_id == self.project_id,
                run_queue.c.due_at <= now,
                or_(run_queue.c.lease_until.is_(None), run_queue.c.lease_until < now),
            )
        ).scalar()
        if oldest is None:
            return None
        return max(0.0, (now - _utc(oldest)).total_seconds())


def _watching(events: bool, lock: bool) -> Any:
    kinds = EVENT_KINDS if events else THRESHOLD_KINDS
    query = select(alert_rules).where(
        alert_rules.c.project_id == bindparam("project_id"),
        alert_rules.c.kind.in_([str(kind) for kind in kinds]),
        alert_rules.c.enabled,
    )
    if events:
        query = query.where(
            or_(
                alert_rules.c.workflow_id.is_(None),
                alert_rules.c.workflow_id == bindparam("workflow_id"),
            )
        )
    query = query.order_by(alert_rules.c.id)
    return query.with_for_update() if lock else query


_WATCHING = {
    (events, lock): _watching(events, lock) for events in (True, False) for lock in (True, False)
}


def due_deliveries(session: Session, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
    """(project id, delivery id) of deliveries due at ``now``, across projects."""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text("SELECT project_id, id FROM meshhook_due_alert_deliveries(:at, :max)"),
            {"at": now, "max": limit},
        ).all()
    else:
        rows = session.execute(
            select(alert_deliveries.c.project_id, alert_deliveries.c.id)
            .where(alert_deliveries.c.next_attempt_at <= now)
            .order_by(alert_deliveries.c.next_attempt_at)
            .limit(limit)
        ).all()
    return [(row.project_id, row.id) for row in rows]


def watched_projects(session: Session) -> list[UUID]:
    """Projects with an enabled threshold rule, across projects."""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(text("SELECT project_id FROM meshhook_alert_projects()"))
        return [row.project_id for row in rows]
    return list(
        session.execute(
            select(alert_rules.c.project_id)
            .where(
                and_(
                    alert_rules.c.enabled,
                    alert_rules.c.kind.in_([str(kind) for kind in THRESHOLD_KINDS]),
                )
            )
            .distinct()
        ).scalars()
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _destination(row: Any) -> Destination:
    return Destination(
        id=row.id,
        name=row.name,
        kind=DestinationKind(row.kind),
        url=row.url,
        signing_secret=row.signing_secret,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _rule(row: Any) -> Rule:
    return Rule(
        id=row.id,
        name=row.name,
        kind=RuleKind(row.kind),
        workflow_id=row.workflow_id,
        threshold=row.threshold,
        window=Window(row.window),
        min_runs=row.min_runs,
        cooldown_seconds=row.cooldown_seconds,
        destinations=tuple(UUID(d) for d in row.destinations),
        enabled=row.enabled,
        state=RuleState(
            firing=row.firing,
            last_fired_at=_utc(row.last_fired_at) if row.last_fired_at else None,
            suppressed=row.suppressed,
        ),
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        destination_id=row.destination_id,
        rule_id=row.rule_id,
        event=Event(row.event),
        payload=row.payload,
        status=DeliveryStatus(row.status),
        attempts=tuple(row.attempts),
        next_attempt_at=_utc(row.next_attempt_at) if row.next_attempt_at else None,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )
