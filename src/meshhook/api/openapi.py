"""The OpenAPI document, with the error answers every operation can give.

Every error is ``application/problem+json`` (``api/errors.py``), whatever the
route. FastAPI knows nothing of that: it declares a ``422`` with its own
``HTTPValidationError`` body, which MeshHook never sends. :func:`install_openapi`
post-processes the generated document once, for every operation of every router
(routes added later are covered without doing anything):

- each declared ``4xx``/``5xx`` answer gets the ``Problem`` body (a route's own
  description is kept);
- ``4XX`` and ``5XX`` ranges with the ``Problem`` body are added, so generated
  clients (the UI's openapi-fetch) type the error of every call.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from meshhook.api.errors import PROBLEM_MEDIA_TYPE
from meshhook.api.schemas.problems import Problem

_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
_PROBLEM_REF = "#/components/schemas/Problem"
# FastAPI's own validation bodies: MeshHook answers a 422 with a Problem instead.
_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")
_RANGES = {
    "4XX": "The request was refused: problem details say why, with pointers in `errors`.",
    "5XX": "The server could not answer: problem details with a request id.",
}


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _PROBLEM_REF}}}


def add_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Declare the ``Problem`` body on every operation's error answers (in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in problem.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas["Problem"] = problem
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if status[:1] in ("4", "5"):
                    if status == "422" and response.get("description") == "Validation Error":
                        response["description"] = "The request does not fit the endpoint."
                    response["content"] = _problem_content()
            for status, description in _RANGES.items():
                responses.setdefault(
                    status, {"description": description, "content": _problem_content()}
                )
    for name in _FASTAPI_SCHEMAS:
        schemas.pop(name, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the post-processed document (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = add_problem_responses(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
