"""Run payloads are sealed at rest: the database file and a ``pg_dump`` hold
no payload byte, the API still shows them, a tampered or moved ciphertext is
refused, rows written in clear before still read, and key rotation keeps runs
readable and resumable. On both databases."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import structlog.testing
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from meshhook.app import create_app
from meshhook.services import keys as key_service
from meshhook.services import runs
from meshhook.services.runs import StartRequest
from meshhook.settings import Settings
from meshhook.store.db import Database, create_database
from meshhook.store.tables import run_events
from meshhook.store.tables import runs as runs_table
from tests.factories import Member, assert_problem
from tests.integration.test_runs import BASE, finished, workflow

PG_DUMP = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=db_url, workers=2, http_allow_private=True)


@pytest.fixture
def runner(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db, run_workers=True)) as client:
        yield client


@pytest.fixture
def echo() -> Iterator[str]:
    """A local service answering with the request it got (headers and body)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sent = self.rfile.read(int(self.headers.get("content-length") or 0))
            body = json.dumps(
                {"headers": dict(self.headers), "body": json.loads(sent or b"null")}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def flow(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """manual -> transform (input as is) -> http_call posting it to ``url``."""
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {"id": "shape", "type": "transform", "config": {"expression": "@"}},
            {
                "id": "call",
                "type": "http_call",
                "config": {
                    "method": "POST",
                    "url": url + "/echo",
                    "body": "{{ input }}",
                    "headers": headers or {},
                },
            },
        ],
        "edges": [{"from": "start", "to": "shape"}, {"from": "shape", "to": "call"}],
        "settings": {},
    }


def run_with(client: TestClient, owner: Member, key: str, value: Any) -> dict[str, Any]:
    started = client.post(
        f"{BASE}/workflows/{key}/runs", json={"input": value}, headers=owner.headers
    )
    assert started.status_code == 202, started.text
    return finished(client, owner, started.json()["id"])


def revealed(client: TestClient, owner: Member, run_id: str) -> dict[str, Any]:
    shown = client.get(f"{BASE}/runs/{run_id}", params={"reveal": "true"}, headers=owner.headers)
    assert shown.status_code == 200, shown.text
    body: dict[str, Any] = shown.json()
    return body


def stored_bytes(db: Database) -> bytes:
    """Everything the database holds, as a backup would copy it: the SQLite
    file after a WAL checkpoint (with what the WAL still holds), or a
    ``pg_dump`` of the PostgreSQL database."""
    if db.is_postgres:
        url = make_url(db.engine.url.render_as_string(hide_password=False))
        libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return subprocess.run(
            [PG_DUMP, "--data-only", libpq], check=True, capture_output=True, timeout=60
        ).stdout
    path = Path(str(db.engine.url.database))
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_no_payload_byte_reaches_the_database_file_or_a_dump(
    runner: TestClient, db: Database, owner: Member, echo: str
) -> None:
    marker = f"payload-marker-{uuid.uuid4().hex}"
    key = workflow(runner, owner, flow(echo), publish=True)

    run = run_with(runner, owner, key, {"note": marker, "items": [marker]})

    assert run["status"] == "succeeded"
    shown = revealed(runner, owner, run["id"])  # decrypted on the way out
    assert shown["input"] == {"note": marker, "items": [marker]}
    assert shown["output"]["body"]["body"] == {"note": marker, "items": [marker]}
    events = runner.get(f"{BASE}/runs/{run['id']}/events", headers=owner.headers).json()
    recorded = next(
        e for e in events["items"] if e["type"] == "step.succeeded" and e["node_id"] == "call"
    )
    assert marker in json.dumps(recorded["data"]["request"])
    dump = stored_bytes(db)
    assert run["id"].encode() in dump or uuid.UUID(run["id"]).bytes in dump  # the run is there
    assert b"step.succeeded" in dump  # metadata stays in clear
    assert marker.encode() not in dump
    with db.engine.connect() as connection:
        row = connection.execute(
            select(runs_table.c.input, runs_table.c.error, runs_table.c.steps).where(
                runs_table.c.id == uuid.UUID(run["id"])
            )
        ).one()
    assert set(row.input) == {"$sealed"}
    assert set(row.steps) == {"steps", "$sealed"}
    assert [step["status"] for step in row.steps["steps"]] == ["succeeded"] * 3
    assert all("output" not in step for step in row.steps["steps"])


def test_a_tampered_or_moved_payload_is_refused(
    runner: TestClient, db: Database, owner: Member
) -> None:
    key = workflow(runner, owner, flow("http://127.0.0.1:9"), publish=False)
    one = runner.post(
        f"{BASE}/workflows/{key}/runs",
        json={"input": {"n": 1}, "test": True},
        headers=owner.headers,
    ).json()
    two = runner.post(
        f"{BASE}/workflows/{key}/runs",
        json={"input": {"n": 2}, "test": True},
        headers=owner.headers,
    ).json()
    finished(runner, owner, one["id"])
    finished(runner, owner, two["id"])
    first, second = uuid.UUID(one["id"]), uuid.UUID(two["id"])
    with db.engine.begin() as connection:
        queued = connection.execute(
            select(run_events.c.data).where(run_events.c.run_id == first, run_events.c.seq == 1)
        ).scalar_one()
        # Run one's sealed input copied into run two's log, as an attacker with
        # write access to the database (not the key) might.
        connection.execute(
            update(run_events)
            .where(run_events.c.run_id == second, run_events.c.seq == 1)
            .values(data=queued)
        )
        stored = connection.execute(
            select(runs_table.c.input).where(runs_table.c.id == first)
        ).scalar_one()
        sealed = stored["$sealed"]
        flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
        connection.execute(
            update(runs_table).where(runs_table.c.id == first).values(input={"$sealed": flipped})
        )

    moved = runner.get(f"{BASE}/runs/{two['id']}/events", headers=owner.headers)
    tampered = runner.get(f"{BASE}/runs/{one['id']}", headers=owner.headers)

    for refused in (moved, tampered):
        problem = assert_problem(refused, 500)
        assert problem["type"].endswith("decryption-failed")
        assert "payload" in problem["detail"]


def test_runs_written_in_clear_before_sealing_still_read(
    runner: TestClient, db: Database, owner: Member, db_url: str, echo: str
) -> None:
    key = workflow(runner, owner, flow(echo), publish=True)
    # A database object with no keys attached writes as MeshHook did before
    # payloads were sealed: the run row and its first event in clear.
    before = create_database(db_url)
    try:
        old = runs.start(before, owner.actor, "alpha", key, StartRequest(input={"n": 7})).run
    finally:
        before.dispose()

    run = finished(runner, owner, str(old.id))  # a worker with keys carries it on

    assert run["status"] == "succeeded"
    assert revealed(runner, owner, str(old.id))["input"] == {"n": 7}
    with db.engine.connect() as connection:
        logged = connection.execute(
            select(run_events.c.seq, run_events.c.data)
            .where(run_events.c.run_id == old.id)
            .order_by(run_events.c.seq)
        ).all()
    assert logged[0].data["input"] == {"n": 7}  # as written, in clear
    assert any("$sealed" in row.data for row in logged[1:])  # later events sealed


def test_after_a_key_rotation_runs_still_read_replay_and_resume(
    runner: TestClient, db: Database, owner: Member, settings: Settings, echo: str
) -> None:
    key = workflow(runner, owner, flow(echo), publish=True)
    before = run_with(runner, owner, key, {"order": "A-1"})

    rotated = key_service.rotate(db, settings)
    db.keys.cache.clear()  # as a process started after the rotation

    assert rotated.rewrapped == 1
    assert rotated.retired
    shown = revealed(runner, owner, before["id"])
    assert shown["output"]["body"]["body"] == {"order": "A-1"}
    replay = runner.get(f"{BASE}/runs/{before['id']}/replay", headers=owner.headers).json()
    assert replay["equal"] is True
    resumed = runner.post(
        f"{BASE}/runs/{before['id']}/resume", json={"from_node": "call"}, headers=owner.headers
    )
    assert resumed.status_code == 202, resumed.text
    again = finished(runner, owner, resumed.json()["id"])
    assert again["status"] == "succeeded"
    assert revealed(runner, owner, again["id"])["output"]["body"]["body"] == {"order": "A-1"}


def test_a_secret_the_target_echoes_back_is_redacted_everywhere(
    runner: TestClient, owner: Member, echo: str
) -> None:
    value = "tok-4c1f9be0d2a7"
    stored = runner.put(f"{BASE}/secrets/API_TOKEN", json={"value": value}, headers=owner.headers)
    assert stored.status_code in {200, 201}, stored.text
    headers = {"Authorization": "Token {{ secrets.API_TOKEN }}", "X-Key": "{{ secrets.API_TOKEN }}"}
    key = workflow(runner, owner, flow(echo, headers), publish=True)

    with structlog.testing.capture_logs() as logs:
        run = run_with(runner, owner, key, {"n": 1})
        reads = [
            runner.get(f"{BASE}/runs/{run['id']}", headers=owner.headers),
            runner.get(
                f"{BASE}/runs/{run['id']}", params={"reveal": "true"}, headers=owner.headers
            ),
            runner.get(f"{BASE}/runs/{run['id']}/events", headers=owner.headers),
            runner.get(
                f"{BASE}/runs/{run['id']}/events", params={"reveal": "true"}, headers=owner.headers
            ),
            runner.get(f"{BASE}/runs/{run['id']}/events/stream", headers=owner.headers),
            runner.get(f"{BASE}/runs", headers=owner.headers),
        ]

    assert run["status"] == "succeeded"
    echoed = revealed(runner, owner, run["id"])["output"]["body"]["headers"]
    assert echoed["X-Key"] == "[redacted:secret]"
    assert echoed["Authorization"] == "[redacted:secret]"
    for read in reads:
        assert read.status_code == 200, read.text
        assert value not in read.text, read.url
    assert value not in repr(logs)
