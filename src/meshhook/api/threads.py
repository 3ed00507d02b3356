"""Blocking endpoints that return a model, in one thread hop.

FastAPI runs a plain ``def`` endpoint in the thread pool and then, when it
returns a model rather than a ``Response``, validates that model in a second
trip through the pool (``fastapi.routing.serialize_response``). Each trip is a
hand-over to another thread (~0.1 ms, more when the cores are busy) and a wait
for a free one. :func:`blocking` under the route decorator makes the endpoint a
coroutine whose body runs in the pool: one trip, the model checked on the event
loop, as for any ``async`` endpoint. Endpoints that do no I/O at all are plain
``async def`` (``/healthz``), so they answer even when every pool thread is
busy.

The rule, checked for every route by ``tests/integration/test_thread_hops.py``:
an endpoint that returns a model is a coroutine.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
R = TypeVar("R")


def blocking(endpoint: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run ``endpoint`` in the thread pool, once per request.

    FastAPI reads the parameters, their dependencies and the return type
    through ``__wrapped__``, so the route is declared exactly as the plain
    function would declare it.
    """

    @functools.wraps(endpoint)
    async def in_pool(*args: P.args, **kwargs: P.kwargs) -> R:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return in_pool
