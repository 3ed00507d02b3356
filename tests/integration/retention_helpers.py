"""Runs of a given age, written straight through the project's store (a run
of 40 days ago cannot be made through the API), for the retention tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.runs.events import EventType, RunEvent, RunStatus
from meshhook.domain.runs.run import Run, RunView, Trigger
from meshhook.domain.stats import RunOutcome, StepOutcome
from meshhook.services import workflows
from meshhook.services.transactions import project_transaction
from meshhook.services.workflows import NewWorkflow
from meshhook.store.db import Database
from meshhook.store.tables import run_events, runs
from tests.definitions import linear

CLI = Actor.cli()
SECRET_INPUT = {"email": "someone@example.com", "order": 42}


def make_workflow(db: Database, project: str, name: str) -> tuple[uuid.UUID, str]:
    created = workflows.create(db, CLI, project, NewWorkflow(name=name), definition=linear())
    return created.workflow.id, created.workflow.key


def aged_run(
    db: Database,
    project: str,
    workflow: tuple[uuid.UUID, str],
    days: float,
    *,
    status: RunStatus = RunStatus.SUCCEEDED,
    now: datetime | None = None,
) -> uuid.UUID:
    """A run created ``days`` ago with payloads in its row and its events; a
    finished one adds to the statistics rollups as the engine would."""
    created = (now or datetime.now(UTC)) - timedelta(days=days)
    finished = created + timedelta(seconds=2) if status.is_terminal else None
    run = Run(
        id=uuid.uuid4(),
        project_id=uuid.uuid4(),  # not stored: the scope's project is
        workflow_id=workflow[0],
        workflow_key=workflow[1],
        version=1,
        alias=None,
        test=False,
        trigger=Trigger.MANUAL,
        created_at=created,
        created_by="tests",
        view=RunView(
            status=status,
            input=SECRET_INPUT,
            output={"total": 42} if status.is_terminal else None,
            error=None,
            steps=[
                {
                    "node_id": "send",
                    "status": "succeeded",
                    "attempts": 1,
                    "started_at": created.isoformat(),
                    "finished_at": created.isoformat(),
                    "output": {"body": SECRET_INPUT},
                    "error": None,
                }
            ],
            started_at=created,
            finished_at=finished,
            dead_letter=False,
            last_seq=4 if status.is_terminal else 3,
        ),
    )
    events = [
        RunEvent(1, EventType.RUN_QUEUED, created, None, {"input": SECRET_INPUT}),
        RunEvent(2, EventType.RUN_STARTED, created),
        RunEvent(
            3,
            EventType.STEP_SUCCEEDED,
            created,
            "send",
            {
                "attempt": 1,
                "output": {"body": SECRET_INPUT},
                "request": {"url": "https://api.example.com/orders", "body": SECRET_INPUT},
                "response": {"status": 200, "body": SECRET_INPUT},
            },
        ),
    ]
    if status.is_terminal:
        events.append(
            RunEvent(4, EventType.RUN_SUCCEEDED, finished or created, None, {"output": 1})
        )
    with project_transaction(db, CLI, project, Role.OWNER) as scope:
        scope.runs.insert(run)
        scope.runs.append(run, events)
        if not status.is_terminal:
            scope.runs.enqueue(run.id, created)
        else:
            scope.stats.record(
                workflow[0],
                RunOutcome(
                    status=status,
                    finished_at=finished or created,
                    milliseconds=2000.0,
                    lag_milliseconds=1.0,
                    dead_letter=False,
                    error_code=None,
                    steps=(StepOutcome("send", 1500.0, failed=False),),
                ),
            )
    return run.id


def run_ids(db: Database) -> set[uuid.UUID]:
    with db.engine.connect() as connection:
        return set(connection.execute(select(runs.c.id)).scalars())


def event_count(db: Database, run_id: uuid.UUID) -> int:
    with db.engine.connect() as connection:
        count: int = connection.execute(
            select(func.count()).select_from(run_events).where(run_events.c.run_id == run_id)
        ).scalar_one()
        return count


def event_data(db: Database, run_id: uuid.UUID) -> list[dict[str, Any]]:
    with db.engine.connect() as connection:
        return [
            dict(row)
            for row in connection.execute(
                select(run_events.c.data)
                .where(run_events.c.run_id == run_id)
                .order_by(run_events.c.seq)
            ).scalars()
        ]
