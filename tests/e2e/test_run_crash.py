"""Durability under kill -9: runs in flight through ``http_call`` and ``delay``
survive a SIGKILL of the process driving them.

SQLite: a real ``meshhook serve`` (API + in-process workers) is killed and
started again. PostgreSQL: ``serve`` without workers plus two ``meshhook
worker`` processes; one is killed, and another started. Every run must reach
its end, no event may be lost (gapless logs, replay equal), and every request
one run sent carries one and the same ``Idempotency-Key``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import create_postgres_database, drop_postgres_database, require_postgres
from tests.e2e.server import RunningServer, running_server

RUNS = 100
target_delay = [0.05]  # seconds the receiving service takes to answer
ENGINE_ENV = {
    "MESHHOOK_HTTP_ALLOW_PRIVATE": "true",
    "MESHHOOK_LEASE_SECONDS": "2",
    "MESHHOOK_WORKERS": "16",
}


class Target:
    """The receiving service: records each request's path and idempotency key."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: dict[str, list[str]] = defaultdict(list)
        self.count = 0


@contextmanager
def target_server() -> Iterator[tuple[str, Target]]:
    target = Target()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            with target.lock:
                target.keys[self.path].append(self.headers.get("Idempotency-Key", ""))
                target.count += 1
            time.sleep(target_delay[0])
            try:
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the worker was killed mid-request

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", target
    finally:
        server.shutdown()
        server.server_close()


def definition(target_url: str) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {
                "id": "call",
                "type": "http_call",
                "config": {
                    "method": "POST",
                    "url": target_url + "/orders/{{ input.i }}",
                    "body": {"order": "{{ input.i }}"},
                    "retry": {"max_attempts": 5, "backoff_seconds": 0.2},
                },
            },
            {"id": "wait", "type": "delay", "config": {"duration_seconds": 1}},
            {"id": "done", "type": "transform", "config": {"expression": "body"}},
        ],
        "edges": [
            {"from": "start", "to": "call"},
            {"from": "call", "to": "wait"},
            {"from": "wait", "to": "done"},
        ],
        "settings": {},
    }


class Api:
    def __init__(self, url: str, token: str) -> None:
        self.client = httpx.Client(
            base_url=f"{url}/api/v1/projects/default",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def publish(self, body: dict[str, Any]) -> str:
        created = self.client.post("/workflows", json={"name": "Crash", "definition": body})
        assert created.status_code == 201, created.text
        key: str = created.json()["key"]
        assert self.client.post(f"/workflows/{key}/versions/publish", json={}).status_code == 200
        return key

    def start_runs(self, key: str) -> list[str]:
        ids = []
        for index in range(RUNS):
            started = self.client.post(f"/workflows/{key}/runs", json={"input": {"i": index}})
            assert started.status_code == 202, started.text
            ids.append(started.json()["id"])
        return ids

    def wait_all_finished(self, ids: list[str], timeout: float = 150) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        runs: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            runs = [self.client.get(f"/runs/{run_id}").json() for run_id in ids]
            if all(run["status"] in {"succeeded", "failed", "cancelled"} for run in runs):
                return runs
            time.sleep(0.5)
        pending = [r["id"] for r in runs if r["status"] not in {"succeeded", "failed"}]
        raise AssertionError(f"{len(pending)} runs never finished, e.g. {pending[:3]}")

    def check_logs(self, ids: list[str]) -> None:
        for run_id in ids:
            events = self.client.get(f"/runs/{run_id}/events", params={"limit": 200}).json()
            seqs = [event["seq"] for event in events["items"]]
            assert seqs == list(range(1, len(seqs) + 1)), run_id
            assert self.client.get(f"/runs/{run_id}/replay").json()["equal"] is True, run_id


def credentials(home: Path) -> str:
    lines = (home / "initial-credentials").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)["token"]


def wait_for_requests(target: Target, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while target.count < at_least:
        assert time.monotonic() < deadline, f"only {target.count} requests arrived"
        time.sleep(0.02)


def assert_one_key_per_run(target: Target, ids: list[str]) -> None:
    by_index = {f"/orders/{index}": run_id for index, run_id in enumerate(ids)}
    assert set(target.keys) == set(by_index), "every run called its service"
    for path, keys in target.keys.items():
        assert set(keys) == {f"{by_index[path]}/call"}, (path, keys)


def test_runs_survive_kill_9_of_serve_on_sqlite(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with target_server() as (target_url, target):
        with (
            running_server(home, extra_env=ENGINE_ENV) as first,
            Api(first.url, credentials(home)) as api,
        ):
            key = api.publish(definition(target_url))
            ids = api.start_runs(key)
            wait_for_requests(target, RUNS // 3)
            os.kill(first.pid, signal.SIGKILL)
        with (
            running_server(home, extra_env=ENGINE_ENV) as second,
            Api(second.url, credentials(home)) as api,
        ):
            runs = api.wait_all_finished(ids)
            assert {run["status"] for run in runs} == {"succeeded"}
            api.check_logs(ids)
    assert_one_key_per_run(target, ids)


def start_worker(home: Path, database_url: str, name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **ENGINE_ENV,
        "MESHHOOK_HOME": str(home),
        "MESHHOOK_DATABASE_URL": database_url,
        "MESHHOOK_LOG_FORMAT": "json",
    }
    with (home / f"{name}.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "meshhook", "worker", "--concurrency", "16"],
            env=env,
            stdout=log,
            stderr=log,
        )


@pytest.mark.postgres
def test_runs_survive_kill_9_of_a_worker_on_postgres(tmp_path: Path) -> None:
    require_postgres()
    database_url = create_postgres_database("meshhook_crash")
    home = tmp_path / "home"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with target_server() as (target_url, target):
            server_env = {**ENGINE_ENV, "MESHHOOK_WORKERS": "0"}
            with (
                running_server(home, database_url, extra_env=server_env) as server,
                Api(server.url, credentials(home)) as api,
            ):
                key = api.publish(definition(target_url))
                workers = [start_worker(home, database_url, f"w{n}") for n in range(2)]
                ids = api.start_runs(key)
                wait_for_requests(target, RUNS // 3)
                workers[0].send_signal(signal.SIGKILL)
                workers.append(start_worker(home, database_url, "w2"))
                runs = api.wait_all_finished(ids)
                assert {run["status"] for run in runs} == {"succeeded"}
                api.check_logs(ids)
                _assert_server_alive(server)
        assert_one_key_per_run(target, ids)
    finally:
        for process in workers:
            process.kill()
            process.wait()
        drop_postgres_database(database_url)


def _assert_server_alive(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200


def test_sigterm_lets_the_step_in_flight_finish_and_records_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with target_server() as (target_url, target):
        slow = definition(target_url)
        slow["nodes"] = slow["nodes"][:2]
        slow["edges"] = slow["edges"][:1]
        with (
            running_server(home, extra_env=ENGINE_ENV) as first,
            Api(first.url, credentials(home)) as api,
        ):
            key = api.publish(slow)
            target_delay[0] = 1.5
            run_id = api.client.post(f"/workflows/{key}/runs", json={"input": {"i": 0}}).json()[
                "id"
            ]
            wait_for_requests(target, 1)
            os.kill(first.pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while _alive(first.pid):
                assert time.monotonic() < deadline, "serve did not stop after SIGTERM"
                time.sleep(0.1)
        target_delay[0] = 0.05
        with (
            running_server(home, extra_env=ENGINE_ENV) as second,
            Api(second.url, credentials(home)) as api,
        ):
            events = api.client.get(f"/runs/{run_id}/events").json()["items"]
    kinds = [(e["type"], e["node_id"], bool(e["data"].get("takeover"))) for e in events]
    assert ("step.succeeded", "call", False) in kinds, kinds
    assert not any(takeover for _, _, takeover in kinds), "drained, not taken over"
    assert target.count == 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()
