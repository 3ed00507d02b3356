"""Request and response bodies of ``api/expressions.py``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from meshhook.api.schemas.common import RequestBody
from meshhook.domain.limits import MAX_EXPRESSION_LENGTH


class EvaluateBody(RequestBody):
    expression: str = Field(max_length=MAX_EXPRESSION_LENGTH)
    data: Any = Field(default=None, description="The sample input (any JSON).")


class EvaluateOut(BaseModel):
    result: Any
