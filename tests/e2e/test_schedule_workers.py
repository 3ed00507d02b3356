"""A schedule fires exactly once per due time with two real ``meshhook
worker`` processes ticking at once, on SQLite and on PostgreSQL.

``serve`` runs the API without workers; two ``meshhook worker`` processes
fire a one-second schedule (``catch_up: all``, so a late tick runs what it
missed) for several seconds. Every due time must have exactly one run, and
the due times must be consecutive (none skipped, none doubled).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import create_postgres_database, drop_postgres_database, require_postgres
from tests.e2e.server import running_server

SECONDS = 8


def credentials(home: Path) -> str:
    lines = (home / "initial-credentials").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)["token"]


def start_worker(home: Path, database_url: str | None, name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MESHHOOK_HOME": str(home),
        "MESHHOOK_LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    if database_url:
        env["MESHHOOK_DATABASE_URL"] = database_url
    else:
        env.pop("MESHHOOK_DATABASE_URL", None)
    with (home / f"{name}.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "meshhook", "worker", "--concurrency", "4"],
            env=env,
            stdout=log,
            stderr=log,
        )


def wait_started(home: Path, count: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        logs = [log.read_text() for log in sorted(home.glob("w*.log"))]
        if sum("worker started" in text for text in logs) >= count:
            return
        assert time.monotonic() < deadline, logs
        time.sleep(0.2)


def every_second() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "tick", "type": "schedule", "config": {"every_seconds": 1, "catch_up": "all"}},
            {"id": "echo", "type": "transform", "config": {"expression": "scheduled_for"}},
        ],
        "edges": [{"from": "tick", "to": "echo"}],
        "settings": {},
    }


def scheduled_runs(api: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"trigger": "schedule", "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/runs", params=params).json()
        found.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return found


def _exercise(home: Path, database_url: str | None) -> None:
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with running_server(home, database_url, extra_env={"MESHHOOK_WORKERS": "0"}) as server:
            api = httpx.Client(
                base_url=f"{server.url}/api/v1/projects/default",
                headers={"Authorization": f"Bearer {credentials(home)}"},
                timeout=30,
            )
            created = api.post("/workflows", json={"name": "Tick", "definition": every_second()})
            assert created.status_code == 201, created.text
            published = api.post("/workflows/tick/versions/publish", json={})
            assert published.status_code == 200, published.text
            workers = [start_worker(home, database_url, f"w{n}") for n in range(2)]
            wait_started(home, 2)
            time.sleep(SECONDS)
            for process in workers:
                process.send_signal(signal.SIGTERM)
            for process in workers:
                process.wait(timeout=30)
            runs = scheduled_runs(api)
            due = sorted(datetime.fromisoformat(run["input"]["scheduled_for"]) for run in runs)
            assert len(due) >= SECONDS // 2, [w.read_text() for w in home.glob("w*.log")]
            assert len(set(due)) == len(due), "a due time fired twice"
            gaps = {later - earlier for earlier, later in itertools.pairwise(due)}
            assert gaps == {timedelta(seconds=1)}, gaps
            assert {run["created_by"] for run in runs} == {"schedule"}
            api.close()
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_two_workers_fire_each_due_time_once_on_sqlite(tmp_path: Path) -> None:
    _exercise(tmp_path / "home", None)


@pytest.mark.postgres
def test_two_workers_fire_each_due_time_once_on_postgres(tmp_path: Path) -> None:
    require_postgres()
    database_url = create_postgres_database("meshhook_schedule")
    try:
        _exercise(tmp_path / "home", database_url)
    finally:
        drop_postgres_database(database_url)
