"""The editor's JMESPath preview: evaluate an expression on a sample input."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends
from starlette.responses import Response

from meshhook.api.bodies import json_body, openapi_body
from meshhook.api.deps import CurrentActor
from meshhook.api.schemas.expressions import EvaluateBody, EvaluateOut
from meshhook.domain import jmespath_preview
from meshhook.domain.errors import PayloadTooLarge, Problem

router = APIRouter(prefix="/api/v1", tags=["definitions"])


@router.post(
    "/jmespath/evaluate",
    name="evaluate_jmespath",
    response_model=EvaluateOut,
    openapi_extra=openapi_body(EvaluateBody),
)
def evaluate_jmespath(
    _actor: CurrentActor,
    body: Annotated[EvaluateBody, Depends(json_body(EvaluateBody))],
) -> Response:
    """`{result}`: the expression's value on `data`, evaluated as a run would.
    422 (with `code` and, for a syntax error, the character `position`) when it
    does not compile, fails or takes longer than 0.5 s; 413 for a sample or
    result over 256 KiB."""
    sample = orjson.dumps(body.data)
    if len(sample) > jmespath_preview.MAX_SAMPLE_BYTES:
        raise PayloadTooLarge(
            f"the sample is {len(sample)} bytes; the limit is {jmespath_preview.MAX_SAMPLE_BYTES}",
            errors=[Problem("/data", "sample.too_large", "the sample is too large")],
        )
    result = jmespath_preview.evaluate(body.expression, body.data)
    return Response(orjson.dumps({"result": result}), media_type="application/json")


__all__ = ["router"]
