"""The body of every error: RFC 9457 problem details with MeshHook's extensions.

``api/errors.py`` renders it; ``api/openapi.py`` declares it on every operation
so generated clients know the error shape.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from meshhook.domain.errors import Problem as DomainProblem


class ProblemOut(BaseModel):
    """One finding, placed by a JSON Pointer into the request body or definition."""

    path: str
    code: str
    message: str
    severity: Literal["error", "warning"]

    @classmethod
    def of(cls, problem: DomainProblem) -> ProblemOut:
        return cls(
            path=problem.path, code=problem.code, message=problem.message, severity=problem.severity
        )


def _absent_when_empty(schema: dict[str, Any]) -> None:
    """Documented without a default: the member is left out, not sent empty (a
    default would make generated clients declare it always present)."""
    schema.pop("default", None)


class Problem(BaseModel):
    """An error answer (``application/problem+json``). Some errors add members
    of their own (e.g. a save conflict's ``conflicts``, ``head_version``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of error.")
    title: str
    status: int
    detail: str = Field(description="What went wrong with this request, for a human.")
    # Absent rather than null when there is none.
    instance: str = Field(
        default="",
        description="The path that was requested.",
        json_schema_extra=_absent_when_empty,
    )
    request_id: str = Field(
        default="", description="Also in X-Request-ID.", json_schema_extra=_absent_when_empty
    )
    errors: list[ProblemOut] = Field(
        default_factory=list,
        json_schema_extra=_absent_when_empty,
        description="Findings placed by JSON Pointers, at most 200 (then a final "
        "`problems.truncated` one).",
    )
