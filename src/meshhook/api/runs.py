"""Runs: start (under a workflow), list, read, events (and their live stream),
cancel, replay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import Response, StreamingResponse

from meshhook.api.bodies import json_body, openapi_body
from meshhook.api.deps import CurrentActor, Cursor, DatabaseDep, Limit
from meshhook.api.schemas.common import Page
from meshhook.api.schemas.runs import (
    EventOut,
    ReplayOut,
    ResumeBody,
    RunOut,
    StartBody,
)
from meshhook.domain.accounts import Role
from meshhook.domain.limits import (
    DEFAULT_PAGE_SIZE,
    MAX_KEY_LENGTH,
)
from meshhook.domain.runs.events import RunEvent
from meshhook.domain.runs.run import Run
from meshhook.services import runs
from meshhook.services.runs import RunQuery, StartRequest

router = APIRouter(prefix="/api/v1/projects/{project}", tags=["runs"])

STREAM_POLL_SECONDS = 0.25
MAX_IDEMPOTENCY_KEY = 200


def _run_response(run: Run, *, status_code: int = 200, location: str | None = None) -> Response:
    headers = {"Location": location} if location else None
    return Response(
        orjson.dumps(run.as_json()),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


@router.post(
    "/workflows/{workflow}/runs",
    name="start_run",
    status_code=202,
    response_model=RunOut,
    responses={200: {"description": "An earlier run with the same Idempotency-Key."}},
    openapi_extra=openapi_body(StartBody),
)
def start_run(
    project: str,
    workflow: str,
    request: Request,
    actor: CurrentActor,
    body: Annotated[StartBody, Depends(json_body(StartBody, role=Role.EDITOR))],
    db: DatabaseDep,
    idempotency_key: Annotated[
        str | None, Header(max_length=MAX_IDEMPOTENCY_KEY, min_length=1)
    ] = None,
) -> Response:
    """Start a run of the published version (or `version`, `alias`, or the head
    draft with `test`); 202 once it is durably queued."""
    started = runs.start(
        db,
        actor,
        project,
        workflow,
        StartRequest(
            input=body.input,
            version=body.version,
            alias=body.alias,
            test=body.test,
            idempotency_key=idempotency_key,
        ),
    )
    if started.created:
        _wake(request)
    location = f"/api/v1/projects/{project}/runs/{started.run.id}"
    status_code = 202 if started.created else 200
    return _run_response(started.run, status_code=status_code, location=location)


@router.get("/runs", name="list_runs", response_model=Page[RunOut])
def list_runs(
    project: str,
    db: DatabaseDep,
    actor: CurrentActor,
    cursor: Cursor,
    workflow: Annotated[
        str | None, Query(max_length=MAX_KEY_LENGTH, description="Id or key.")
    ] = None,
    status: Annotated[
        str | None, Query(pattern="^(queued|running|waiting|succeeded|failed|cancelled)$")
    ] = None,
    trigger: Annotated[str | None, Query(pattern="^(manual|webhook|resume)$")] = None,
    test: bool | None = None,
    dead_letter: Annotated[
        bool | None, Query(description="true: failed runs that resume can retry.")
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    version: Annotated[
        int | None, Query(ge=1, le=2_147_483_647, description="Runs of this version number.")
    ] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> Response:
    """The project's runs, newest first."""
    query = RunQuery(
        workflow=workflow,
        status=status,
        trigger=trigger,
        test=test,
        dead_letter=dead_letter,
        since=since,
        until=until,
        version=version,
    )
    page, next_cursor = runs.list_runs(db, actor, project, query, limit=limit, cursor=cursor.value)
    body = {"items": [run.as_json() for run in page], "next_cursor": cursor.next(next_cursor)}
    return Response(orjson.dumps(body), media_type="application/json")


RevealQuery = Annotated[
    bool,
    Query(
        description="Show payloads as recorded, not redacted (admin role; audited as run.reveal)."
    ),
]


@router.get("/runs/{run}", name="get_run", response_model=RunOut)
def get_run(
    project: str, run: str, db: DatabaseDep, actor: CurrentActor, reveal: RevealQuery = False
) -> Response:
    """One run: its pinned version, status, output or error, and its steps;
    personal data and credentials in payloads are redacted (docs/privacy.md)."""
    return _run_response(runs.get(db, actor, project, run, reveal=reveal))


@router.get("/runs/{run}/events", name="list_run_events", response_model=Page[EventOut])
def list_run_events(
    project: str,
    run: str,
    db: DatabaseDep,
    actor: CurrentActor,
    after: Annotated[int, Query(ge=0, le=2_147_483_647, description="Events after this seq.")] = 0,
    limit: Limit = DEFAULT_PAGE_SIZE,
    reveal: RevealQuery = False,
) -> Response:
    """The run's append-only event log, oldest first (payloads redacted)."""
    page, _finished = runs.events(
        db, actor, project, run, after=after, limit=limit + 1, reveal=reveal
    )
    more = len(page) > limit
    page = page[:limit]
    next_cursor = str(page[-1].seq) if more and page else None
    body = {"items": [event.as_json() for event in page], "next_cursor": next_cursor}
    return Response(orjson.dumps(body), media_type="application/json")


@router.get(
    "/runs/{run}/events/stream",
    name="stream_run_events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_run_events(
    project: str,
    run: str,
    db: DatabaseDep,
    actor: CurrentActor,
    last_event_id: Annotated[str | None, Header(max_length=12)] = None,
    reveal: RevealQuery = False,
) -> StreamingResponse:
    """The events as Server-Sent Events (`id:` is `seq`; `Last-Event-ID`
    resumes); the stream ends after the run's terminal event."""
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    # The first read checks access and existence before the stream starts.
    first, finished = await asyncio.to_thread(
        partial(runs.events, db, actor, project, run, after=after, limit=500, reveal=reveal)
    )

    async def stream() -> AsyncIterator[bytes]:
        nonlocal after
        page, done = first, finished
        while True:
            for event in page:
                yield _sse(event)
                after = event.seq
            if done and not page:
                return
            if not page:
                await asyncio.sleep(STREAM_POLL_SECONDS)
            page, done = await asyncio.to_thread(
                partial(
                    runs.events,
                    db,
                    actor,
                    project,
                    run,
                    after=after,
                    limit=500,
                    reveal=reveal,
                    audit=False,  # audited once, by the first read
                )
            )

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _sse(event: RunEvent) -> bytes:
    data = orjson.dumps(event.as_json())
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.seq, str(event.type).encode(), data)


@router.post("/runs/{run}/cancel", name="cancel_run", status_code=202, response_model=RunOut)
def cancel_run(project: str, run: str, db: DatabaseDep, actor: CurrentActor) -> Response:
    """Cancel a run: nothing after the steps in flight runs; 409 when it has finished."""
    return _run_response(runs.cancel(db, actor, project, run), status_code=202)


@router.post(
    "/runs/{run}/resume",
    name="resume_run",
    status_code=202,
    response_model=RunOut,
    openapi_extra=openapi_body(ResumeBody),
)
def resume_run(
    project: str,
    run: str,
    request: Request,
    actor: CurrentActor,
    body: Annotated[ResumeBody, Depends(json_body(ResumeBody, role=Role.EDITOR))],
    db: DatabaseDep,
) -> Response:
    """A new run of the same version that reuses the recorded outputs upstream
    of `from_node` and executes from it on (e.g. a dead-lettered step)."""
    resumed = runs.resume(db, actor, project, run, body.from_node)
    _wake(request)
    location = f"/api/v1/projects/{project}/runs/{resumed.id}"
    return _run_response(resumed, status_code=202, location=location)


def _wake(request: Request) -> None:
    wake = getattr(request.app.state, "wake_workers", None)
    if wake is not None:
        wake()


@router.get("/runs/{run}/replay", name="replay_run", response_model=ReplayOut)
def replay_run(project: str, run: str, db: DatabaseDep, actor: CurrentActor) -> Response:
    """Recompute the run from its events alone (nothing executed) and compare."""
    result = runs.replay(db, actor, project, run)
    return Response(
        orjson.dumps({"equal": result.equal, "run": result.run}), media_type="application/json"
    )


__all__ = ["router"]
