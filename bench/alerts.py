"""What alert rules add to finishing a run: the evaluation that runs inside
the worker's commit transaction (``services/alerts.run_finished``), timed in a
worker transaction like the commit's, next to the same transaction doing
nothing. Cases: no rule; a project-wide ``run.failed`` rule and a successful
run (read, no lock); the same rule and a failed run inside the cool-down
(lock, state update: the failure-storm path); and one threshold evaluation
of a ``failure_rate`` and a ``queue_lag`` rule (``evaluate_thresholds``).

``python -m bench.alerts [--quick] [--dialect sqlite|postgresql]`` prints JSON.
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from bench.harness import measure, postgres_available, temporary_database
from meshhook.domain.accounts import Actor
from meshhook.domain.runs.events import RunStatus
from meshhook.domain.runs.run import Run, RunView, Trigger
from meshhook.services import alerts, bootstrap, workflows
from meshhook.services.transactions import worker_transaction
from meshhook.services.workflows import NewWorkflow
from meshhook.store import migrate
from meshhook.store.db import create_database
from meshhook.store.tables import projects

PROJECT = "default"


def linear() -> dict[str, Any]:
    return {
        "nodes": [{"id": "start", "type": "manual", "config": {}}],
        "edges": [],
        "settings": {},
    }


def _view(status: RunStatus) -> RunView:
    failed = status is RunStatus.FAILED
    return RunView(
        status=status,
        input=None,
        output=None,
        error={"code": "http.status", "message": "api.example.com answered 503"}
        if failed
        else None,
        steps=[],
        started_at=None,
        finished_at=None,
        dead_letter=failed,
        last_seq=3,
    )


def alerts_section(dialect: str, workdir: Path, *, quick: bool) -> dict[str, Any]:
    iterations = 200 if quick else 2000
    workdir.mkdir(parents=True, exist_ok=True)
    with temporary_database(dialect, workdir) as url:
        migrate.upgrade(url)
        db = create_database(url)
        try:
            actor = Actor.cli()
            bootstrap.bootstrap(db, workdir / "initial-credentials")
            with db.engine.connect() as connection:
                project_id = connection.execute(
                    select(projects.c.id).where(projects.c.key == PROJECT)
                ).scalar_one()
            created = workflows.create(
                db, actor, PROJECT, NewWorkflow(name="w", key="w"), definition=linear()
            )
            workflow = created.workflow
            now = datetime.now(UTC)
            run = Run(
                id=uuid.uuid4(),
                project_id=project_id,
                workflow_id=workflow.id,
                workflow_key=workflow.key,
                version=1,
                alias=None,
                test=False,
                trigger=Trigger.MANUAL,
                created_at=now,
                created_by="bench",
                view=_view(RunStatus.SUCCEEDED),
            )
            succeeded, failed = _view(RunStatus.SUCCEEDED), _view(RunStatus.FAILED)

            def nothing(_: int) -> None:
                with worker_transaction(db, project_id):
                    pass

            def finish(view: RunView) -> Any:
                def action(_: int) -> None:
                    with worker_transaction(db, project_id) as scope:
                        alerts.run_finished(scope, run, view, datetime.now(UTC))

                return action

            result: dict[str, Any] = {"iterations": iterations}
            result["empty_transaction"] = measure(nothing, iterations)
            result["no_rule"] = measure(finish(failed), iterations)
            # The destination is never sent to here (no worker runs).
            alerts.save_destination(
                db, actor, PROJECT, {"name": "d", "kind": "slack", "url": "https://x.invalid/h"}
            )
            alerts.save_rule(
                db,
                actor,
                PROJECT,
                {
                    "name": "f",
                    "kind": "run.failed",
                    "cooldown_seconds": 86400,
                    "destinations": ["d"],
                },
            )
            result["rule_success"] = measure(finish(succeeded), iterations)
            result["rule_failure_suppressed"] = measure(finish(failed), iterations)
            alerts.save_rule(
                db,
                actor,
                PROJECT,
                {"name": "r", "kind": "failure_rate", "threshold": 10, "destinations": ["d"]},
            )
            alerts.save_rule(
                db,
                actor,
                PROJECT,
                {"name": "l", "kind": "queue_lag", "threshold": 60, "destinations": ["d"]},
            )
            result["threshold_round"] = measure(
                lambda _: alerts.evaluate_thresholds(db), max(20, iterations // 10)
            )
            return result
        finally:
            db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--dialect", choices=["sqlite", "postgresql"], action="append")
    args = parser.parse_args()
    found: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="meshhook-bench-alerts-") as workdir:
        for dialect in args.dialect or ["sqlite", "postgresql"]:
            if dialect == "postgresql" and not postgres_available():
                continue
            found[dialect] = alerts_section(dialect, Path(workdir) / dialect, quick=args.quick)
    print(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
