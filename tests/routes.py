"""The app's routes, FastAPI's included routers opened up."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute


def leaf_routes(client: TestClient) -> Iterator[BaseRoute]:
    """Every route of the client's app that answers requests itself."""
    pending = list(client.app.routes)  # type: ignore[attr-defined]
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        if included is not None:
            pending.extend(included.routes)
        else:
            yield route


def api_routes(client: TestClient) -> Iterator[APIRoute]:
    """The FastAPI routes among them (not the UI's, not the OpenAPI document's)."""
    return (route for route in leaf_routes(client) if isinstance(route, APIRoute))
