"""Request and response bodies of ``api/definitions.py``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from meshhook.api.schemas.common import RequestBody
from meshhook.api.schemas.problems import ProblemOut


class ValidateBody(RequestBody):
    definition: Any


class TemplateOut(BaseModel):
    key: str | None = None
    id: str | None = None
    project: str | None = None
    name: str
    description: str
    tags: list[str]
    builtin: bool


class ValidationOut(BaseModel):
    """What a save would find, without saving: ``valid`` when there is no error."""

    valid: bool
    errors: list[ProblemOut] = Field(description="At most 200, then `problems.truncated`.")
    warnings: list[ProblemOut]
