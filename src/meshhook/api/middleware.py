"""Pure ASGI middleware: request ids, access logs and metrics; body limits.

Pure ASGI (not ``BaseHTTPMiddleware``) so responses stream through untouched
and the per-request overhead stays a few microseconds.
"""

from __future__ import annotations

import random
import re
import time
from typing import Any

import anyio
import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshhook import heap
from meshhook.api.bodies import takes_bundle
from meshhook.api.errors import error_response
from meshhook.domain.errors import (
    BadRequest,
    MeshHookError,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from meshhook.tracing import Tracing

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}

log = structlog.get_logger("meshhook.http")


class Metrics:
    """The app's Prometheus metrics, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "meshhook_http_requests_total",
            "HTTP requests answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "meshhook_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )


class RequestContextMiddleware:
    """Gives every request an id (``X-Request-ID``), one log line and metrics.

    It also adds ``X-Content-Type-Options: nosniff`` to every response, and
    ``Cache-Control: no-store`` to API responses that set no caching of their
    own: API answers carry private data that no shared cache should keep.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, tracing: Tracing | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.tracing = tracing or Tracing(None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER)
        request_id = (
            incoming if incoming and _VALID_REQUEST_ID.match(incoming) else _new_request_id()
        )
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()
        is_api = scope["path"].startswith("/api/")

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                names = {name.lower() for name, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if is_api and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        method = scope["method"]
        # The headers are read only for a tracer (the traceparent): nothing per
        # request when tracing is off.
        incoming_headers = _headers_of(scope) if self.tracing.enabled else {}
        with self.tracing.request(method, incoming_headers) as span:
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                self.metrics.requests.labels(method, template, str(status)).inc()
                self.metrics.latency.labels(method, template).observe(elapsed)
                log.info(
                    "request",
                    method=method,
                    path=_loggable(scope["path"]),
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )
                if span is not None:
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
                    span.set_attribute("http.response.status_code", status)
                    span.set_attribute("meshhook.request_id", request_id)


class BodyGuardMiddleware:
    """Refuses oversized bodies (413), non-JSON bodies on the API (415) and URLs
    carrying U+0000 (400: no text column can hold it, so no key or filter has it).

    The limit belongs to the route: endpoints marked ``bundle_sized`` (bundle
    import) get ``max_bundle_bytes``, every other route and unknown paths
    ``max_body_bytes``. The route is known only once the router has matched,
    so the limit is applied when the body is first read, which happens after
    the route's authentication and role checks: a caller who may not use the
    route is answered without the server reading what they send.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_bundle_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_bundle_bytes = max_bundle_bytes

    def _limit(self, scope: Scope) -> int:
        route = scope.get("route")
        if takes_bundle(getattr(route, "endpoint", None)):
            return self.max_bundle_bytes
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            await _reject(scope, send, BadRequest("the URL must not contain %00 (NUL)"))
            return
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        length = _header(scope, "content-length")
        declared = int(length) if length is not None and length.isdigit() else None
        ceiling = max(self.max_body_bytes, self.max_bundle_bytes)
        if declared is not None and declared > ceiling:
            # No route takes this much: refuse before routing.
            await _reject(scope, send, self._too_large(ceiling))
            return
        has_body = (length is not None and length != "0") or _header(scope, "transfer-encoding")
        content_type = (_header(scope, "content-type") or "").split(";")[0].strip().lower()
        if has_body and scope["path"].startswith("/api/") and not _is_json(content_type):
            detail = f"send the body as application/json (got {content_type or 'no content type'})"
            await _reject(scope, send, UnsupportedMediaType(detail))
            return
        limit = 0  # settled at the first read, when the route is known
        received = 0
        too_large = False
        answered = False

        async def counting_receive() -> Message:
            nonlocal limit, received, too_large
            if not limit:
                limit = self._limit(scope)
                if declared is not None and declared > limit:
                    too_large = True
                    raise self._too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise self._too_large(limit)
            return message

        async def guarded_send(message: Message) -> None:
            # Frameworks may turn the error raised while reading into a 400 of
            # their own; once the limit is crossed the answer is our 413.
            nonlocal answered
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start" and not answered:
                answered = True
                await _reject(scope, send, self._too_large(limit))

        try:
            await self.app(scope, counting_receive, guarded_send)
        except PayloadTooLarge:
            if not answered:
                await _reject(scope, send, self._too_large(limit))
        if received >= heap.TRIM_AFTER_BYTES:
            # The answer has gone; give back the memory parsing the body took.
            await anyio.to_thread.run_sync(heap.trim)

    @staticmethod
    def _too_large(limit: int) -> PayloadTooLarge:
        return PayloadTooLarge(f"the request body is larger than the limit of {limit} bytes")


async def _reject(scope: Scope, send: Send, error: MeshHookError) -> None:
    """Answer ``error`` before the app runs, rendered like any other error."""
    response = error_response(error, instance=scope["path"])
    await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _new_request_id() -> str:
    """32 hex digits, like a UUID's. Pseudo-random: a request id is no secret,
    and ``uuid4``'s ``os.urandom`` is a system call that hands the GIL to any
    other thread (the webhook writer) for up to a switch interval."""
    return f"{random.getrandbits(128):032x}"


def _loggable(path: str) -> str:
    """``path`` for the access log: a webhook's id is a credential, so only its
    first 4 characters are logged (enough to tell hooks apart)."""
    if path.startswith("/hooks/"):
        hook_id, _, rest = path[len("/hooks/") :].partition("/")
        return f"/hooks/{hook_id[:4]}…/{rest}"
    return path


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _headers_of(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def _header(scope: Scope, name: str) -> Any:
    wanted = name.encode()
    for key, value in scope["headers"]:
        if key == wanted:
            return value.decode("latin-1")
    return None
