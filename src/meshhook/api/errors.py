"""Every error response is RFC 9457 problem details, rendered here and only here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from meshhook.domain import pointers
from meshhook.domain.errors import MeshHookError, Problem
from meshhook.domain.limits import cap_problems

PROBLEM_TYPE_BASE = "https://meshhook.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = structlog.get_logger("meshhook.api")


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    errors: Sequence[Problem] = (),
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        body["request_id"] = request_id
    if errors:
        # The domain caps its lists already; this is the last guard for any other.
        body["errors"] = [problem.as_dict() for problem in cap_problems(errors)]
    if extra:
        body.update(extra)
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", 'Bearer realm="meshhook"')
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=all_headers
    )


def error_response(error: MeshHookError, instance: str | None = None) -> Response:
    return problem_response(
        error.status,
        error.title,
        error.detail,
        slug=error.slug,
        errors=error.errors,
        extra=error.extra,
        headers=error.headers(),
        instance=instance,
    )


def _pointer(location: Sequence[str | int]) -> tuple[str, str]:
    """FastAPI's ``loc`` ("body", "definition", 3) as ("body", "/definition/3")."""
    where = str(location[0]) if location else "body"
    return where, pointers.from_tokens(location[1:])


def _validation_problems(error: RequestValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        where, path = _pointer(item.get("loc", ()))
        prefix = "" if where == "body" else f"{where}:"
        problems.append(
            Problem(
                path=prefix + path,
                code=f"request.{item.get('type', 'invalid')}",
                message=str(item.get("msg", "invalid value")),
            )
        )
    return problems


async def _meshhook_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, MeshHookError)
    return error_response(error, instance=request.url.path)


async def _request_validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    if any(item.get("type") == "json_invalid" for item in error.errors()):
        ctx = next(item.get("ctx", {}) for item in error.errors() if item["type"] == "json_invalid")
        return problem_response(
            400,
            "Malformed JSON",
            f"the request body is not valid JSON: {ctx.get('error', 'parse error')}",
            slug="malformed-json",
            instance=request.url.path,
        )
    return problem_response(
        422,
        "Validation failed",
        "the request does not match what this endpoint expects",
        slug="validation-failed",
        errors=_validation_problems(error),
        instance=request.url.path,
    )


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    detail = (
        f"no such endpoint: {request.method} {request.url.path}"
        if error.status_code in titles
        else str(error.detail)
    )
    return problem_response(
        error.status_code,
        titles.get(error.status_code, "HTTP error"),
        detail,
        slug="http-" + str(error.status_code),
        headers=dict(error.headers or {}),
        instance=request.url.path,
    )


async def _unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unhandled error", path=request.url.path)
    return problem_response(
        500,
        "Internal error",
        "something went wrong on our side; the request id helps find it in the logs",
        slug="internal-error",
        instance=request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MeshHookError, _meshhook_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
