"""The one exception hierarchy of MeshHook.

Raised by ``domain`` and ``services``; mapped to RFC 9457 problem details in
exactly one place (``meshhook.api.errors``). Nothing below ``api`` raises HTTP
exceptions: each class here carries the HTTP status it stands for so the
mapping stays a table, not a chain of ``isinstance`` checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about a piece of input, placed by a JSON Pointer.

    ``path`` points into the request body (or the definition) so a client can put
    the message next to the right field or node.
    """

    path: str
    code: str
    message: str
    severity: Severity = "error"

    def as_dict(self) -> dict[str, str]:
        return {
            "path": self.path,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
        }


@dataclass
class MeshHookError(Exception):
    """Root of every error MeshHook raises on purpose."""

    detail: str
    errors: list[Problem] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    slug: ClassVar[str] = "internal-error"

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def __str__(self) -> str:
        return self.detail

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the problem body."""
        return {}


class BadRequest(MeshHookError):
    status = 400
    title = "Bad request"
    slug = "bad-request"


class Unauthorized(MeshHookError):
    status = 401
    title = "Authentication required"
    slug = "unauthorized"


class Forbidden(MeshHookError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(MeshHookError):
    status = 404
    title = "Not found"
    slug = "not-found"


class MethodNotAllowed(MeshHookError):
    """``extra["allow"]`` (the methods that are) becomes the ``Allow`` header."""

    status = 405
    title = "Method not allowed"
    slug = "method-not-allowed"

    def headers(self) -> dict[str, str]:
        allow = self.extra.get("allow")
        return {"Allow": ", ".join(allow)} if allow else {}


class Conflict(MeshHookError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class UniqueConflict(Conflict):
    """A write ran into a row another transaction wrote first (a unique key).

    Raised by ``store`` in place of the database driver's integrity error, so
    services catch a domain error and say what was taken.
    """


class PreconditionFailed(MeshHookError):
    status = 412
    title = "Precondition failed"
    slug = "precondition-failed"


class PayloadTooLarge(MeshHookError):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"


class UnsupportedMediaType(MeshHookError):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class ValidationFailed(MeshHookError):
    status = 422
    title = "Validation failed"
    slug = "validation-failed"


class PreconditionRequired(MeshHookError):
    status = 428
    title = "Precondition required"
    slug = "precondition-required"


class ServiceUnavailable(MeshHookError):
    status = 503
    title = "Service unavailable"
    slug = "service-unavailable"

    def headers(self) -> dict[str, str]:
        retry = self.extra.get("retry_after")
        return {"Retry-After": str(retry)} if retry is not None else {}


class TooManyRequests(MeshHookError):
    """Refused for now; ``extra["retry_after"]`` (seconds) becomes ``Retry-After``."""

    status = 429
    title = "Too many requests"
    slug = "too-many-requests"

    def headers(self) -> dict[str, str]:
        retry = self.extra.get("retry_after")
        return {"Retry-After": str(retry)} if retry is not None else {}
