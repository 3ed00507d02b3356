"""Request bodies: read only after the caller may send them, parsed with
orjson, validated by a pydantic model.

Workflow definitions can be megabytes; parsing them once with orjson (instead
of the standard library) keeps saves fast. The model's schema still appears in
the OpenAPI document through ``openapi_extra``.

On project routes the body is read by a dependency that depends on the role
check (``role=``): a non-member gets 404 and a viewer 403 before a byte of the
body is read, let alone parsed. The size limit is a property of the route
(:func:`bundle_sized`), enforced while reading by ``BodyGuardMiddleware``.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, BinaryIO, TypeVar, cast

import anyio
import orjson
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from meshhook.api.deps import project_role
from meshhook.domain import canonical, pointers
from meshhook.domain.accounts import Actor, Role
from meshhook.domain.duplicate_keys import refuse_duplicate_keys
from meshhook.domain.errors import BadRequest, Problem, UnsupportedMediaType, ValidationFailed

Model = TypeVar("Model", bound=BaseModel)
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_BUNDLE_SIZED: set[Callable[..., Any]] = set()


def bundle_sized(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint as taking bundle-sized bodies (``max_bundle_bytes``);
    every other route gets ``max_body_bytes``."""
    _BUNDLE_SIZED.add(endpoint)
    return endpoint


def takes_bundle(endpoint: Any) -> bool:
    """Whether ``endpoint`` was marked with :func:`bundle_sized`."""
    try:
        return endpoint in _BUNDLE_SIZED
    except TypeError:  # an unhashable endpoint is never marked
        return False


def json_body(model: type[Model], *, role: Role | None = None) -> Callable[..., Awaitable[Model]]:
    """A dependency reading the body as ``model`` (400 malformed, 422 invalid).

    With ``role``, the route's ``{project}`` role is checked first: the body of
    a caller who may not use the route is never read.
    """
    if role is None:

        async def read(request: Request) -> Model:
            return parse_model(model, await request.body())

        return read

    async def read_as_member(request: Request, _: Actor = Depends(project_role(role))) -> Model:
        return parse_model(model, await request.body())

    return read_as_member


# Bodies spooled to a file stay in memory up to this size.
SPOOL_IN_MEMORY_BYTES = 1024 * 1024


def spooled_body(*, role: Role) -> Callable[..., AsyncIterator[BinaryIO]]:
    """A dependency writing the body to a temporary file as it arrives, after the
    ``{project}`` role check, and handing the file (at its start) to the
    endpoint: a bundle-sized body is never held in memory whole (the size limit
    is still enforced while reading, by ``BodyGuardMiddleware``). The file is
    deleted when the response is sent."""

    async def spool_as_member(
        request: Request, _: Actor = Depends(project_role(role))
    ) -> AsyncIterator[BinaryIO]:
        with tempfile.SpooledTemporaryFile(
            max_size=SPOOL_IN_MEMORY_BYTES, prefix="meshhook-body-"
        ) as file:
            async for chunk in request.stream():
                if chunk:
                    await anyio.to_thread.run_sync(file.write, chunk)
            file.seek(0)
            yield cast(BinaryIO, file)

    return spool_as_member


JSON_PATCH = "application/json-patch+json"


# A body declared this small is in the server's buffer by the time its headers
# are read (as a webhook's: api/webhooks.py): taking it before the role check
# costs nothing; it is still parsed only after.
SMALL_BODY_BYTES = 64 * 1024


def body_is_small(request: Request) -> bool:
    """Whether the request declares a body of at most :data:`SMALL_BODY_BYTES`
    (not streamed): one that may be read before the caller's role is checked."""
    if request.headers.get("transfer-encoding") is not None:
        return False
    declared = request.headers.get("content-length")
    return declared is not None and declared.isdigit() and int(declared) <= SMALL_BODY_BYTES


def check_json_patch_type(request: Request) -> None:
    """415 unless the body is ``application/json-patch+json``."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != JSON_PATCH:
        raise UnsupportedMediaType(
            f"send the patch as Content-Type: {JSON_PATCH} (got {media or 'none'!r})"
        )


def parse_json_patch(raw: bytes) -> Any:
    """An RFC 6902 JSON Patch body: 400 when it is not JSON, 422 on a NUL or a
    duplicated key. The operations themselves are checked when applied."""
    return _parse_json(raw)


def _parse_json(raw: bytes) -> Any:
    """``raw`` as JSON: 400 when malformed, 422 on a NUL or a duplicated key."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"the request body is not valid JSON: {error}") from None
    canonical.refuse_nul(raw, data)
    refuse_duplicate_keys(raw, data)
    return data


def parse_model(model: type[Model], raw: bytes) -> Model:
    """``raw`` JSON as ``model``: 400 when malformed, 422 (with pointers) when
    it has a NUL, a duplicated key or does not fit the model."""
    data = _parse_json(raw)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed(
            "the request does not match what this endpoint expects",
            errors=[
                Problem(
                    pointers.from_tokens(item["loc"]),
                    f"request.{item['type']}",
                    item["msg"],
                )
                for item in error.errors()
            ],
        ) from None


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a body read by :func:`json_body`.

    The model's own ``$defs`` (an enum such as ``Role``) are inlined: a local
    ``#/$defs/...`` reference does not resolve inside the OpenAPI document.
    """
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline(schema, definitions)}},
        }
    }


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            target = definitions[reference.removeprefix("#/$defs/")]
            rest = {key: value for key, value in node.items() if key != "$ref"}
            return {**_inline(target, definitions), **_inline(rest, definitions)}
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


def model_json(model: BaseModel) -> Response:
    """A pydantic model as a JSON response, serialised once by pydantic-core.

    Returned from an endpoint whose route declares ``response_model`` (for the
    OpenAPI document), this skips FastAPI's second validation of the value and
    its encoding with the standard library: ~4 ms for a page of 50 workflows.
    """
    return Response(model.model_dump_json(), media_type="application/json")


def raw_json(
    fields: dict[str, Any],
    raw: dict[str, bytes],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON object response with some members spliced in as ready-made JSON.

    Stored definitions are already canonical JSON bytes: they are returned as
    they are, never parsed and serialised again.
    """
    head = orjson.dumps(fields)
    # One copy of each stored value, into the joined body: slices of a
    # memoryview copy nothing (a 340 KB definition was copied three times).
    parts: list[bytes | memoryview] = [memoryview(head)[:-1]]
    for name, value in raw.items():
        parts.append(b"," if len(parts) > 1 or len(head) > 2 else b"")
        parts.append(orjson.dumps(name) + b":")
        end = len(value)
        while end and value[end - 1] == _NEWLINE:
            end -= 1
        parts.append(memoryview(value)[:end])
    parts.append(b"}")
    return Response(
        b"".join(parts), status_code=status_code, media_type="application/json", headers=headers
    )


_NEWLINE = ord("\n")
