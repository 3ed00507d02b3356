"""Webhooks: the public ``/hooks/{hook id}/{path}`` that starts runs (no
token: the id, and the node's signature or JWT, are the credentials), and the
project routes that show, rotate and test a workflow's hook and list its
deliveries."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from meshhook.api.bodies import json_body, openapi_body
from meshhook.api.deps import CurrentActor, DatabaseDep, SettingsDep
from meshhook.api.errors import error_response
from meshhook.api.schemas.webhooks import (
    DeliveriesOut,
    DeliveryOut,
    Received,
    RotateBody,
    TestBody,
    TestOut,
    WebhookOut,
)
from meshhook.api.threads import blocking
from meshhook.domain.accounts import Role
from meshhook.domain.errors import MeshHookError, PayloadTooLarge, TooManyRequests
from meshhook.domain.node_types.webhook import HTTP_METHODS
from meshhook.domain.webhooks import retry_after
from meshhook.services import webhooks
from meshhook.services.webhooks import HookGate, HookInfo, Incoming

router = APIRouter(prefix="/api/v1/projects/{project}/workflows/{workflow}", tags=["webhooks"])
hooks_router = APIRouter(tags=["webhooks"])

HOOK_PATH = "/hooks/{hook_id}/{path:path}"
INLINE_CHECK_BYTES = 64 * 1024


def gate_of(request: Request) -> HookGate:
    gate: HookGate = request.app.state.hooks
    return gate


# -- the hook itself ----------------------------------------------------------


async def receive_webhook(hook_id: str, path: str, request: Request) -> Response:
    """Start a run of the workflow the hook belongs to; 202 `{run_id}` only once
    the run and its first event are committed."""
    started = time.perf_counter()
    gate = gate_of(request)
    client = request.client.host if request.client else None
    # An address that keeps sending bad requests is refused here, unread:
    # before the hook is looked up, the body read or a signature computed.
    wait = gate.refusals.wait(client, time.monotonic())
    if wait > 0:
        seconds = retry_after(wait)
        return _problem(
            TooManyRequests(
                f"too many refused requests from this address; retry in {seconds} s",
                extra={"retry_after": seconds},
            ),
            request,
            close=_large_body_coming(request),
        )
    try:
        return await _receive(hook_id, path, request, gate, client, started)
    except MeshHookError as error:
        if error.status in COUNTED_REFUSALS:
            gate.refusals.refused(client, time.monotonic())
        return _problem(error, request)


# Refusals that count against the sender's address (not 429: a sender over a
# hook's rate limit has done nothing wrong).
COUNTED_REFUSALS = frozenset({401, 404, 405, 413, 422})


def _problem(error: MeshHookError, request: Request, *, close: bool = False) -> Response:
    """The refusal; the connection ends with it when the body was left unread
    (an address refused unread, a body over the limit), else the server would
    still read what the sender keeps sending."""
    response = error_response(error, instance=request.scope["path"])
    if close or isinstance(error, PayloadTooLarge):
        response.headers["connection"] = "close"
    return response


async def _receive(
    hook_id: str,
    path: str,
    request: Request,
    gate: HookGate,
    client: str | None,
    started: float,
) -> Response:
    method = request.method
    declared = _declared_length(request)
    if gate.admits_in_memory(hook_id):
        target = gate.admit(hook_id, path, method, declared, client)
    else:
        target = await run_in_threadpool(gate.admit, hook_id, path, method, declared, client)
    body = await _read_limited(request, target.config.max_body_bytes, gate, target, client)
    incoming = Incoming(
        method=method,
        path=path,
        query=list(request.query_params.multi_items()),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
        body=body,
        client=client,
    )
    # Checking the sender and a small body costs microseconds: a flood of
    # forged requests is refused here without taking a worker thread. A large
    # body is parsed (and schema-checked) off the event loop.
    if len(body) <= INLINE_CHECK_BYTES:
        value, key = gate.check(target, incoming, started)
    else:
        value, key = await run_in_threadpool(gate.check, target, incoming, started)
    # Committed by the writer thread together with the starts that arrived
    # meanwhile (services/start_batches.py); answered only after the commit.
    outcome = await asyncio.wrap_future(gate.submit_start(target, value, key))
    accepted = gate.accepted(target, incoming, outcome, started)
    if accepted.created:
        wake = getattr(request.app.state, "wake_workers", None)
        if wake is not None:
            wake()
    return Response(
        orjson.dumps({"run_id": str(accepted.run_id)}),
        status_code=202 if accepted.created else 200,
        media_type="application/json",
    )


def _large_body_coming(request: Request) -> bool:
    """Whether the request's body may be large (streamed, or declared over
    what is checked inline): refused unread, its connection is better ended
    than drained. A small one is already in the server's buffer."""
    declared = _declared_length(request)
    streamed = request.headers.get("transfer-encoding") is not None
    return streamed or (declared or 0) > INLINE_CHECK_BYTES


def _declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length")
    return int(declared) if declared is not None and declared.isdigit() else None


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "An earlier run with the same Idempotency-Key."},
    401: {"description": "Signature or token missing or wrong."},
    404: {"description": "No webhook here (unknown id, trashed, nothing published)."},
    405: {"description": "A method the webhook does not accept."},
    413: {"description": "Body over the webhook's limit."},
    422: {"description": "Body not matching the webhook's body_schema."},
    429: {"description": "Over the webhook's rate limit (see Retry-After)."},
}
# One route per method: each needs its own (stable) operation id.
for _method in HTTP_METHODS:
    hooks_router.add_api_route(
        HOOK_PATH,
        receive_webhook,
        methods=[_method],
        name=f"receive_webhook_{_method.lower()}",
        status_code=202,
        response_model=Received,
        responses=_RESPONSES,
    )


class HookFastPath:
    """Pure ASGI middleware: a request to ``/hooks/{hook id}/{path}`` goes
    straight to :func:`receive_webhook`, past FastAPI's routing and request
    handling, which were most of what a refused request cost (a flood's cost).
    The routes above stay: they document the hook in the OpenAPI document, and
    the request is tagged with its route as if they had matched (metrics, the
    body guard). Anything else, a method no route has included, goes on to the
    app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = {
            method: route
            for route in hooks_router.routes
            if isinstance(route, APIRoute)
            for method in route.methods or ()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/hooks/"):
            route = self.routes.get(scope["method"])
            hook_id, slash, path = scope["path"][len("/hooks/") :].partition("/")
            if route is not None and hook_id and slash:
                scope["route"] = route
                scope["path_params"] = {"hook_id": hook_id, "path": path}
                response = await receive_webhook(hook_id, path, Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _read_limited(
    request: Request,
    limit: int,
    gate: HookGate,
    target: webhooks.HookTarget,
    client: str | None,
) -> bytes:
    """The body, refused (413) as soon as it passes ``limit`` while it streams
    (a declared length over it was refused by :meth:`HookGate.admit`)."""
    too_large = PayloadTooLarge(f"the request body is larger than this webhook's {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            gate.refused(target, request.method, 413, "body.size", client, 0.0)
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


# -- managing a workflow's hook ---------------------------------------------


def _out(info: HookInfo) -> WebhookOut:
    return WebhookOut(
        url=info.url,
        methods=list(info.methods),
        path=info.path,
        target=info.target,
        signing=info.signing,
        created_at=info.created_at,
    )


@router.get("/webhook", name="get_webhook", response_model=WebhookOut)
@blocking
def get_webhook(
    project: str, workflow: str, db: DatabaseDep, actor: CurrentActor, settings: SettingsDep
) -> WebhookOut:
    """The workflow's webhook URL (its id is issued the first time it is asked for)."""
    return _out(webhooks.show(db, actor, project, workflow, settings.base_url))


@router.post(
    "/webhook/rotate",
    name="rotate_webhook",
    response_model=WebhookOut,
    openapi_extra=openapi_body(RotateBody),
)
@blocking
def rotate_webhook(
    project: str,
    workflow: str,
    request: Request,
    db: DatabaseDep,
    actor: CurrentActor,
    settings: SettingsDep,
    body: Annotated[RotateBody, Depends(json_body(RotateBody, role=Role.ADMIN))],
) -> WebhookOut:
    """A new hook id (admin; audited); the old one works `grace_seconds` more."""
    info = webhooks.rotate(
        db, actor, project, workflow, settings.base_url, grace_seconds=body.grace_seconds
    )
    gate_of(request).forget()
    return _out(info)


@router.get("/webhook/deliveries", name="list_webhook_deliveries", response_model=DeliveriesOut)
async def list_webhook_deliveries(
    project: str, workflow: str, request: Request, db: DatabaseDep, actor: CurrentActor
) -> DeliveriesOut:
    """The hook's last deliveries, newest first (no bodies, no secrets)."""
    await run_in_threadpool(gate_of(request).deliveries.flush, db)
    found = await run_in_threadpool(webhooks.deliveries, db, actor, project, workflow)
    return DeliveriesOut(
        items=[
            DeliveryOut(
                at=d.at,
                method=d.method,
                status=d.status,
                run_id=d.run_id,
                latency_ms=d.latency_ms,
                client=d.client,
                failure=d.failure,
            )
            for d in found
        ]
    )


@router.post(
    "/webhook/test",
    name="test_webhook",
    response_model=TestOut,
    openapi_extra=openapi_body(TestBody),
)
@blocking
def test_webhook(
    project: str,
    workflow: str,
    request: Request,
    actor: CurrentActor,
    settings: SettingsDep,
    body: Annotated[TestBody, Depends(json_body(TestBody, role=Role.EDITOR))],
) -> TestOut:
    """Send a correctly signed request to the workflow's own hook (through every
    check a real one passes) and report what it answered."""
    result = webhooks.send_test(
        gate_of(request), actor, project, workflow, settings.base_url, body.body
    )
    if result.status == 202:
        wake = getattr(request.app.state, "wake_workers", None)
        if wake is not None:
            wake()
    return TestOut(status=result.status, run_id=result.run_id, detail=result.detail)
