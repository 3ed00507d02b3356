"""The application factory: ``create_app(settings)`` builds everything an app
needs; nothing is built at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute

from meshhook import __version__
from meshhook.api import (
    alerts,
    audit,
    auth,
    bundles,
    definitions,
    docs,
    expressions,
    health,
    projects,
    redaction,
    retention,
    runs,
    secrets,
    stats,
    users,
    versions,
    web,
    webhooks,
    workflows,
)
from meshhook.api.errors import install_error_handlers
from meshhook.api.middleware import BodyGuardMiddleware, Metrics, RequestContextMiddleware
from meshhook.api.openapi import install_openapi
from meshhook.domain.webhooks import RefusalLimits
from meshhook.engine.metrics import EngineMetrics
from meshhook.engine.worker import Worker, worker_settings
from meshhook.services.keys import provider_for
from meshhook.services.logins import LoginLimits
from meshhook.services.webhooks import HookGate
from meshhook.settings import Settings
from meshhook.store.db import Database, create_database
from meshhook.tracing import Tracing

DELIVERY_FLUSH_SECONDS = 1.0
log = structlog.get_logger("meshhook.app")


def _operation_id(route: APIRoute) -> str:
    # Route names are unique function names: generated clients stay stable.
    return route.name


async def _flush_deliveries(gate: HookGate) -> None:
    """Write webhook deliveries once a second (batched, see services/webhooks.py)."""
    while True:
        await asyncio.sleep(DELIVERY_FLUSH_SECONDS)
        if not gate.deliveries.pending:
            continue
        try:
            # On the writer thread, between two groups of webhook starts:
            # the flush never waits for the database lock behind them.
            await asyncio.wrap_future(gate.starts.call(lambda: gate.deliveries.flush(gate.db)))
        except Exception:  # a log write failing must not stop the app; retried next time
            log.exception("webhook.deliveries_flush_failed")


def create_app(
    settings: Settings,
    database: Database | None = None,
    *,
    run_workers: bool = False,
    tracing: Tracing | None = None,
) -> FastAPI:
    """Build the HTTP app on ``database`` (or one made from ``settings``).

    The schema must already be migrated (``meshhook serve`` does that first).
    ``run_workers`` starts ``settings.workers`` in-process run workers with the
    app (``serve`` does; tests start their own when they need them).
    ``tracing`` defaults to OpenTelemetry over OTLP when
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, nothing otherwise.
    """
    tracing = tracing or Tracing.from_environment()
    db = database or create_database(
        settings.db_url,
        app_role=settings.db_app_role,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    owns_database = database is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        task = None
        if run_workers and settings.workers > 0:
            worker = Worker(
                db,
                app.state.keys,
                worker_settings(settings),
                metrics=EngineMetrics(app.state.metrics.registry),
                tracing=tracing,
            )
            app.state.wake_workers = worker.wake
            app.state.worker = worker
            task = asyncio.create_task(worker.run())
        flusher = asyncio.create_task(_flush_deliveries(app.state.hooks))
        yield
        flusher.cancel()
        await asyncio.to_thread(app.state.hooks.starts.stop)
        await asyncio.to_thread(app.state.hooks.deliveries.flush, db)
        if worker is not None and task is not None:
            worker.stop()
            await task
        if owns_database:
            db.dispose()
        tracing.shutdown()

    app = FastAPI(
        title="MeshHook",
        version=__version__,
        description="Durable workflows with versioned, reviewable, portable definitions.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # api/docs.py serves Swagger UI from the package
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
        # MeshHook writes its own server span per request (tracing.py, its own
        # provider, redacted attributes). FastAPI's built-in OpenTelemetry would
        # add a second set of spans, metrics and exception logs (with messages
        # and stack traces) the moment anything configures a global provider,
        # and asks for those providers on every request even when none is.
        telemetry={
            "tracing": False,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "auto_configure": False,
        },
    )
    app.state.settings = settings
    app.state.database = db
    app.state.metrics = Metrics()
    app.state.keys = provider_for(settings)
    # Run payloads are sealed at rest with the same keys (services/payload_keys.py).
    db.keys.attach(app.state.keys)
    # One gate and policy per app (per process): see services/logins.py.
    app.state.login_limits = LoginLimits.from_settings(settings)
    app.state.hooks = HookGate(
        db,
        app.state.keys,
        refusals=RefusalLimits(settings.hook_refusals_per_second, settings.hook_refusal_burst),
    )
    install_error_handlers(app)
    install_openapi(app)
    # First: the hooks are the busiest routes (and the ones floods hit), and a
    # request is matched against the routes in order.
    app.include_router(webhooks.hooks_router)
    for module in (
        health,
        docs,
        auth,
        users,
        projects,
        audit,
        definitions,
        expressions,
        workflows,
        versions,
        bundles,
        secrets,
        runs,
        stats,
        redaction,
        retention,
        webhooks,
        alerts,
    ):
        app.include_router(module.router)
    web.mount_ui(app)  # last: the UI's catch-all must not shadow any route above
    # Added last = outermost: the request id exists before anything can fail.
    app.add_middleware(webhooks.HookFastPath)  # inside the body guard and request ids
    app.add_middleware(
        BodyGuardMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_bundle_bytes=settings.max_bundle_bytes,
    )
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics, tracing=tracing)
    return app
