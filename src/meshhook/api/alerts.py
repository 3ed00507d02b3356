"""Alerts: rules and destinations (viewers read, admins write), the test
alert, and the delivery log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from meshhook.api.bodies import json_body, openapi_body
from meshhook.api.deps import CurrentActor, DatabaseDep, SettingsDep
from meshhook.api.schemas.alerts import (
    AlertDeliveriesOut,
    AlertDeliveryOut,
    AlertDestinationBody,
    AlertDestinationOut,
    AlertDestinationPatch,
    AlertRuleBody,
    AlertRuleOut,
    AlertRulePatch,
)
from meshhook.api.secrets import KeysDep
from meshhook.api.threads import blocking
from meshhook.domain.accounts import Role
from meshhook.domain.alerts import invalid
from meshhook.engine.alerts import AlertSender, egress_refusal
from meshhook.engine.worker import worker_settings
from meshhook.services import alert_outbox, alerts
from meshhook.settings import Settings

router = APIRouter(prefix="/api/v1/projects/{project}/alerts", tags=["alerts"])


def _check_egress(values: dict[str, Any], settings: Settings) -> None:
    """Refuse a URL the ``http_call`` egress rules would refuse."""
    url = values.get("url")
    if isinstance(url, str):
        refusal = egress_refusal(url, settings.http_allow_private)
        if refusal is not None:
            raise invalid(f"alerts may not be sent to {refusal}", pointer="/url")


# -- destinations ---------------------------------------------------------------


@router.get("/destinations", name="list_alert_destinations")
@blocking
def list_destinations(
    project: str, db: DatabaseDep, actor: CurrentActor
) -> list[AlertDestinationOut]:
    """The project's alert destinations (viewer)."""
    return [AlertDestinationOut.of(d) for d in alerts.list_destinations(db, actor, project)]


@router.post(
    "/destinations",
    name="create_alert_destination",
    status_code=201,
    openapi_extra=openapi_body(AlertDestinationBody),
)
@blocking
def create_destination(
    project: str,
    actor: CurrentActor,
    body: Annotated[
        AlertDestinationBody, Depends(json_body(AlertDestinationBody, role=Role.ADMIN))
    ],
    db: DatabaseDep,
    settings: SettingsDep,
) -> AlertDestinationOut:
    """Add a destination (admin); audited as `alert_destination.create`."""
    values = body.model_dump()
    _check_egress(values, settings)
    return AlertDestinationOut.of(alerts.save_destination(db, actor, project, values))


@router.get("/destinations/{destination}", name="get_alert_destination")
@blocking
def get_destination(
    project: str, destination: str, db: DatabaseDep, actor: CurrentActor
) -> AlertDestinationOut:
    """One destination, by id or name (viewer)."""
    return AlertDestinationOut.of(alerts.get_destination(db, actor, project, destination))


@router.patch(
    "/destinations/{destination}",
    name="update_alert_destination",
    openapi_extra=openapi_body(AlertDestinationPatch),
)
@blocking
def update_destination(
    project: str,
    destination: str,
    actor: CurrentActor,
    body: Annotated[
        AlertDestinationPatch, Depends(json_body(AlertDestinationPatch, role=Role.ADMIN))
    ],
    db: DatabaseDep,
    settings: SettingsDep,
) -> AlertDestinationOut:
    """Change a destination's name, URL or signing secret (admin); audited as
    `alert_destination.update`."""
    values = body.model_dump(exclude_unset=True)
    _check_egress(values, settings)
    return AlertDestinationOut.of(
        alerts.save_destination(db, actor, project, values, ref=destination)
    )


@router.delete("/destinations/{destination}", name="delete_alert_destination", status_code=204)
def delete_destination(
    project: str, destination: str, db: DatabaseDep, actor: CurrentActor
) -> Response:
    """Delete a destination and its delivery log (admin); rules drop it.
    Audited as `alert_destination.delete`."""
    alerts.delete_destination(db, actor, project, destination)
    return Response(status_code=204)


@router.post("/destinations/{destination}/test", name="test_alert_destination")
async def test_destination(
    project: str,
    destination: str,
    db: DatabaseDep,
    actor: CurrentActor,
    keys: KeysDep,
    settings: SettingsDep,
) -> AlertDeliveryOut:
    """Send a test alert now (admin): the delivery after its first attempt
    (retried by the workers if that failed). Audited as `alert_destination.test`."""
    project_id, delivery_id = await run_in_threadpool(
        alerts.queue_test, db, actor, project, destination
    )
    prepared = await run_in_threadpool(alert_outbox.take, db, keys, project_id, delivery_id)
    if prepared is not None:  # else a worker took it first
        sender = AlertSender(worker_settings(settings).http)
        try:
            attempt = await sender.send(prepared)
        finally:
            await sender.aclose()
        await run_in_threadpool(alert_outbox.record, db, project_id, prepared, attempt)
    delivery = await run_in_threadpool(alerts.get_delivery, db, actor, project, delivery_id)
    return AlertDeliveryOut.of(delivery)


# -- rules --------------------------------------------------------------------


@router.get("/rules", name="list_alert_rules")
@blocking
def list_rules(project: str, db: DatabaseDep, actor: CurrentActor) -> list[AlertRuleOut]:
    """The project's alert rules and their state (viewer)."""
    return [AlertRuleOut.of(view) for view in alerts.list_rules(db, actor, project)]


@router.post(
    "/rules", name="create_alert_rule", status_code=201, openapi_extra=openapi_body(AlertRuleBody)
)
@blocking
def create_rule(
    project: str,
    actor: CurrentActor,
    body: Annotated[AlertRuleBody, Depends(json_body(AlertRuleBody, role=Role.ADMIN))],
    db: DatabaseDep,
) -> AlertRuleOut:
    """Add a rule (admin); audited as `alert_rule.create`."""
    return AlertRuleOut.of(alerts.save_rule(db, actor, project, body.model_dump()))


@router.get("/rules/{rule}", name="get_alert_rule")
@blocking
def get_rule(project: str, rule: str, db: DatabaseDep, actor: CurrentActor) -> AlertRuleOut:
    """One rule, by id or name (viewer)."""
    return AlertRuleOut.of(alerts.get_rule(db, actor, project, rule))


@router.patch("/rules/{rule}", name="update_alert_rule", openapi_extra=openapi_body(AlertRulePatch))
@blocking
def update_rule(
    project: str,
    rule: str,
    actor: CurrentActor,
    body: Annotated[AlertRulePatch, Depends(json_body(AlertRulePatch, role=Role.ADMIN))],
    db: DatabaseDep,
) -> AlertRuleOut:
    """Change a rule (admin), keeping its firing state; audited as `alert_rule.update`."""
    values = body.model_dump(exclude_unset=True)
    return AlertRuleOut.of(alerts.save_rule(db, actor, project, values, ref=rule))


@router.delete("/rules/{rule}", name="delete_alert_rule", status_code=204)
def delete_rule(project: str, rule: str, db: DatabaseDep, actor: CurrentActor) -> Response:
    """Delete a rule (admin); audited as `alert_rule.delete`."""
    alerts.delete_rule(db, actor, project, rule)
    return Response(status_code=204)


# -- deliveries -----------------------------------------------------------------


@router.get("/deliveries", name="list_alert_deliveries")
@blocking
def list_deliveries(
    project: str,
    db: DatabaseDep,
    actor: CurrentActor,
    destination: Annotated[str | None, Query(description="A destination id or name.")] = None,
    rule: Annotated[str | None, Query(description="A rule id or name.")] = None,
    limit: Annotated[int, Query(ge=1, le=alerts.DELIVERIES_SHOWN)] = 50,
) -> AlertDeliveriesOut:
    """The newest deliveries first, each with its attempts (viewer)."""
    found = alerts.list_deliveries(
        db, actor, project, destination=destination, rule=rule, limit=limit
    )
    return AlertDeliveriesOut(items=[AlertDeliveryOut.of(d) for d in found])
