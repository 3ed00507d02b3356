"""The web UI: the built single-page app in ``meshhook/ui_dist`` served at ``/``.

Files under ``assets/`` carry a content hash in their name, so they are cached
for a year; ``index.html`` is revalidated on every load so a new release is
picked up at once. Any other path that is not a file answers ``index.html``
(the app's router reads the path). The API, the docs, health and metrics are
never shadowed: those paths do not match this route at all, so their own
404/405 answers stay as they are.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

UI_DIST = Path(__file__).resolve().parent.parent / "ui_dist"
RESERVED_PREFIXES = ("/api", "/docs", "/healthz", "/readyz", "/metrics", "/openapi.json")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# The build loads nothing from elsewhere and runs no inline script; Svelte Flow
# positions nodes with inline styles, hence 'unsafe-inline' for styles only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


def is_reserved(path: str) -> bool:
    """Paths that belong to the API and the operational endpoints, never to the UI."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in RESERVED_PREFIXES)


class UiRoute(Route):
    """A catch-all ``GET`` route that steps aside for reserved paths."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_reserved(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


class UiFiles:
    """Answers UI requests from one build directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _file(self, relative: str) -> Path | None:
        if not relative:
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    async def respond(self, request: Request) -> Response:
        relative: str = request.path_params.get("path", "")
        found = self._file(relative)
        if found is not None and found.name != "index.html":
            cache = IMMUTABLE if relative.startswith("assets/") else REVALIDATE
            return FileResponse(found, headers={"Cache-Control": cache})
        if relative.startswith("assets/"):
            # A missing hashed asset must not come back as HTML with status 200.
            return PlainTextResponse("not found", status_code=404)
        index = self.root / "index.html"
        if not index.is_file():
            return PlainTextResponse(
                "The web UI is not built: run `make ui` (the API is at /api/v1).",
                status_code=503,
            )
        headers = {
            "Cache-Control": REVALIDATE,
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        }
        return FileResponse(index, headers=headers, media_type="text/html")


def mount_ui(app: FastAPI, root: Path = UI_DIST) -> None:
    """Serve the UI at ``/``; call after every other router is included."""
    files = UiFiles(root)
    app.router.routes.append(
        UiRoute(
            "/{path:path}", files.respond, methods=["GET"], name="web_ui", include_in_schema=False
        )
    )
