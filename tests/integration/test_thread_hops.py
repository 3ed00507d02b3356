"""A request crosses into the thread pool once (``api/threads.py``).

FastAPI validates the model a plain ``def`` endpoint returns in a second trip
through the pool; endpoints that return a model are therefore coroutines
(``@blocking`` runs their body in the pool), and ``/healthz`` does not use the
pool at all.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from starlette.responses import Response

from tests.factories import Member
from tests.routes import api_routes


def _returns_a_response(endpoint: Callable[..., Any]) -> bool:
    returned = inspect.signature(endpoint, eval_str=True).return_annotation
    return inspect.isclass(returned) and issubclass(returned, Response)


def test_an_endpoint_that_returns_a_model_is_a_coroutine(client: TestClient) -> None:
    plain = sorted(
        f"{sorted(route.methods)} {route.path}"
        for route in api_routes(client)
        if not inspect.iscoroutinefunction(route.endpoint)
        and not _returns_a_response(route.endpoint)
    )
    assert plain == []


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions the app hands to the thread pool."""
    handed: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counting(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        handed.append(getattr(function, "func", function).__name__)
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return handed


def test_a_read_that_answers_a_model_hops_once(
    client: TestClient, owner: Member, hops: list[str]
) -> None:
    for path in ("/api/v1/projects/alpha", "/api/v1/projects/alpha/members", "/api/v1/me"):
        hops.clear()
        answer = client.get(path, headers=owner.headers)
        assert answer.status_code == 200, answer.text
        assert len(hops) == 1, (path, hops)


def test_healthz_does_not_use_the_thread_pool(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_thread(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the thread pool is busy")

    monkeypatch.setattr(anyio.to_thread, "run_sync", no_thread)
    assert client.get("/healthz").json() == {"status": "ok"}
