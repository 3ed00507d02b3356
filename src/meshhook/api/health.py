"""Liveness and readiness (no authentication); Prometheus metrics, behind a
bearer token when ``MESHHOOK_METRICS_TOKEN`` is set."""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from meshhook.api.deps import DatabaseDep, SettingsDep
from meshhook.api.schemas.health import HealthOut, ReadyOut, WorkersOut
from meshhook.api.threads import blocking
from meshhook.domain.errors import ServiceUnavailable, Unauthorized
from meshhook.security.tokens import same_secret

router = APIRouter(tags=["health"])


@router.get("/healthz", name="healthz")
async def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut(status="ok")


@router.get("/readyz", name="readyz")
@blocking
def readyz(request: Request, db: DatabaseDep) -> ReadyOut:
    """The process can reach its database, and its in-process run workers are
    claiming runs; 503 (problem+json, saying which) when either is not so."""
    try:
        db.ping()
    except Exception as error:
        raise ServiceUnavailable(
            f"the database is not reachable: {type(error).__name__}"
        ) from error
    worker = getattr(request.app.state, "worker", None)
    problem = worker.health_problem() if worker is not None else None
    if problem is not None:
        raise ServiceUnavailable(f"the run workers are not healthy: {problem}")
    return ReadyOut(
        status="ok",
        database=db.dialect,
        workers=WorkersOut.model_validate(worker.status()) if worker is not None else None,
    )


@router.get("/metrics", name="metrics", include_in_schema=False)
def metrics(request: Request, settings: SettingsDep) -> Response:
    """Prometheus text format; open unless ``metrics_token`` is set."""
    expected = settings.secret_value("metrics_token")
    if expected is not None:
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not same_secret(sent.strip(), expected):
            raise Unauthorized("metrics need Authorization: Bearer <MESHHOOK_METRICS_TOKEN>")
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
