"""``/docs``: Swagger UI for the API, served from this server, never a CDN.

Its files come from the ``fastapi-offline`` package (a pinned Swagger UI
build installed with MeshHook), so the page runs no script fetched from
elsewhere at an unpinned version. The page has no inline script (its start-up
code is ``/docs/assets/init.js``) and carries the web UI's Content Security
Policy.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

from meshhook.api.web import CONTENT_SECURITY_POLICY

router = APIRouter(include_in_schema=False)

SWAGGER_FILES = Path(str(files("fastapi_offline") / "static"))
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# Swagger UI's files change only with the installed package: revalidate.
_REVALIDATE = {"Cache-Control": "no-cache", **_SECURITY_HEADERS}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>MeshHook API</title>
<link rel="icon" href="/docs/assets/favicon.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
"""

_INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
"""


@router.get("/docs", name="api_docs")
def api_docs() -> HTMLResponse:
    return HTMLResponse(_PAGE, headers=_REVALIDATE)


@router.get("/docs/assets/{name}", name="api_docs_asset")
def api_docs_asset(name: str) -> Response:
    if name == "init.js":
        return Response(_INIT, media_type="text/javascript", headers=_REVALIDATE)
    media_type = _ASSETS.get(name)
    if media_type is None:
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(SWAGGER_FILES / name, media_type=media_type, headers=_REVALIDATE)
