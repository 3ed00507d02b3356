"""Request and response bodies of ``api/alerts.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import BaseModel, Field

from meshhook.api.schemas.common import RequestBody
from meshhook.domain.alerts import (
    DEFAULT_COOLDOWN_SECONDS,
    MAX_COOLDOWN_SECONDS,
    Delivery,
    Destination,
    secret_reference,
)
from meshhook.domain.stats import Window
from meshhook.services.alerts import RuleView

RuleKindName = Literal["run.failed", "run.dead_lettered", "failure_rate", "queue_lag"]
DestinationKindName = Literal["webhook", "slack"]
_URL = (
    "An http(s) URL, or `{{ secrets.NAME }}` naming a vault secret that holds it (do that for"
    " Slack URLs: they are credentials). Responses show a literal URL's scheme and host only."
)
_SIGNING = "webhook only: `{{ secrets.NAME }}`, the vault secret whose value keys the HMAC."
_THRESHOLD = "failure_rate: percent (0 to 100, exclusive); queue_lag: seconds. Not for run.*."
_WORKFLOW = "A workflow key or id; absent or null: every workflow of the project."
_DESTINATIONS = "Destination ids or names the rule alerts."


class AlertDestinationBody(RequestBody):
    name: str = Field(min_length=1, max_length=100)
    kind: DestinationKindName
    url: str = Field(min_length=1, max_length=2000, description=_URL)
    signing_secret: str | None = Field(default=None, max_length=200, description=_SIGNING)


class AlertDestinationPatch(RequestBody):
    """Only the fields given change."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    url: str | None = Field(default=None, min_length=1, max_length=2000, description=_URL)
    signing_secret: str | None = Field(default=None, max_length=200, description=_SIGNING)


class AlertDestinationOut(BaseModel):
    id: UUID
    name: str
    kind: DestinationKindName
    url: str = Field(description="A secret reference as given, or a literal URL's scheme and host.")
    signing_secret: str | None = Field(description="The secret reference (never its value).")
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, destination: Destination) -> AlertDestinationOut:
        return cls(
            id=destination.id,
            name=destination.name,
            kind=destination.kind.value,
            url=shown_url(destination.url),
            signing_secret=destination.signing_secret,
            created_at=destination.created_at,
            created_by=destination.created_by,
            updated_at=destination.updated_at,
            updated_by=destination.updated_by,
        )


def shown_url(url: str) -> str:
    """A secret reference as it is; a literal URL as ``scheme://host/…`` (its
    path and query may carry a token)."""
    if secret_reference(url) is not None:
        return url
    parts = urlsplit(url)
    rest = "/…" if (parts.path not in ("", "/") or parts.query) else ""
    return f"{parts.scheme}://{parts.netloc}{rest}"


class AlertRuleBody(RequestBody):
    name: str = Field(min_length=1, max_length=100)
    kind: RuleKindName
    workflow: str | None = Field(default=None, description=_WORKFLOW)
    threshold: float | None = Field(default=None, description=_THRESHOLD)
    window: Window = Field(default=Window.HOUR, description="failure_rate: 1h, 24h, 7d or 30d.")
    min_runs: int = Field(
        default=10, ge=1, description="failure_rate: runs needed in the window to judge."
    )
    cooldown_seconds: int = Field(default=DEFAULT_COOLDOWN_SECONDS, ge=0, le=MAX_COOLDOWN_SECONDS)
    destinations: list[str] = Field(default_factory=list, description=_DESTINATIONS)
    enabled: bool = True


class AlertRulePatch(RequestBody):
    """Only the fields given change; the rule's firing state is kept."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    workflow: str | None = Field(default=None, description=_WORKFLOW)
    threshold: float | None = Field(default=None, description=_THRESHOLD)
    window: Window | None = None
    min_runs: int | None = Field(default=None, ge=1)
    cooldown_seconds: int | None = Field(default=None, ge=0, le=MAX_COOLDOWN_SECONDS)
    destinations: list[str] | None = Field(default=None, description=_DESTINATIONS)
    enabled: bool | None = None


class AlertRuleStateOut(BaseModel):
    firing: bool
    last_fired_at: datetime | None
    suppressed: int = Field(description="Alerts held back by the cool-down since the last one.")


class AlertRuleOut(BaseModel):
    id: UUID
    name: str
    kind: RuleKindName
    workflow: str | None
    threshold: float | None
    window: Window
    min_runs: int
    cooldown_seconds: int
    destinations: list[UUID]
    enabled: bool
    state: AlertRuleStateOut
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, view: RuleView) -> AlertRuleOut:
        rule = view.rule
        return cls(
            id=rule.id,
            name=rule.name,
            kind=rule.kind.value,
            workflow=view.workflow_key,
            threshold=rule.threshold,
            window=rule.window,
            min_runs=rule.min_runs,
            cooldown_seconds=rule.cooldown_seconds,
            destinations=list(rule.destinations),
            enabled=rule.enabled,
            state=AlertRuleStateOut(
                firing=rule.state.firing,
                last_fired_at=rule.state.last_fired_at,
                suppressed=rule.state.suppressed,
            ),
            created_at=rule.created_at,
            created_by=rule.created_by,
            updated_at=rule.updated_at,
            updated_by=rule.updated_by,
        )


class AlertAttemptOut(BaseModel):
    at: datetime
    status_code: int | None = Field(description="The receiver's status; null: no answer.")
    latency_ms: float
    error: str | None


class AlertDeliveryOut(BaseModel):
    id: UUID
    destination_id: UUID
    rule_id: UUID | None = Field(description="null for a test alert.")
    event: Literal["alert.fired", "alert.resolved", "alert.test"]
    status: Literal["pending", "delivered", "failed"]
    attempts: list[AlertAttemptOut]
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any] = Field(description="The alert as sent (redacted; no secret values).")

    @classmethod
    def of(cls, delivery: Delivery) -> AlertDeliveryOut:
        return cls(
            id=delivery.id,
            destination_id=delivery.destination_id,
            rule_id=delivery.rule_id,
            event=delivery.event.value,
            status=delivery.status.value,
            attempts=[AlertAttemptOut(**attempt) for attempt in delivery.attempts],
            next_attempt_at=delivery.next_attempt_at,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
            payload=delivery.payload,
        )


class AlertDeliveriesOut(BaseModel):
    items: list[AlertDeliveryOut]
