"""/readyz fails (503, saying why) while the in-process run workers cannot do
their job, and recovers when they can again; the worker loop survives a
database outage instead of dying with it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from meshhook.app import create_app
from meshhook.services import worker_rounds
from meshhook.settings import Settings
from meshhook.store.db import Database


def wait_for(client: TestClient, status: int, timeout: float = 10) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get("/readyz")
        if answer.status_code == status:
            body: dict[str, object] = answer.json()
            return body
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.05)


def test_readyz_reports_workers_that_cannot_claim_and_their_recovery(
    tmp_path: Path, db_url: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=db_url, workers=2)
    with TestClient(create_app(settings, db, run_workers=True)) as client:
        ready = wait_for(client, 200)
        assert ready["workers"]["healthy"] is True  # type: ignore[index]
        real_look = worker_rounds.look

        def outage(*args: object, **kwargs: object) -> object:
            raise OperationalError("SELECT ... FOR UPDATE", {}, Exception("connection refused"))

        monkeypatch.setattr(worker_rounds, "look", outage)
        client.app.state.worker.wake()  # type: ignore[attr-defined]
        problem = wait_for(client, 503)
        assert problem["title"] == "Service unavailable"
        assert "run workers are not healthy" in str(problem["detail"])
        assert "connection refused" in str(problem["detail"])

        monkeypatch.setattr(worker_rounds, "look", real_look)
        client.app.state.worker.wake()  # type: ignore[attr-defined]
        assert wait_for(client, 200)["workers"]["healthy"] is True  # type: ignore[index]


def test_readyz_fails_when_the_worker_loop_has_ended(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=db_url, workers=1)
    with TestClient(create_app(settings, db, run_workers=True)) as client:
        wait_for(client, 200)
        client.app.state.worker.stop()  # type: ignore[attr-defined]
        problem = wait_for(client, 503)
        assert "the worker loop has ended" in str(problem["detail"])
