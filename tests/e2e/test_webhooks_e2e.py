"""Webhooks against real ``meshhook serve`` processes.

- kill -9 right after 202s (SQLite): every run a 202 named exists after a
  restart, and a worker finishes it.
- The rate limit on PostgreSQL is one bucket for every API process: two
  ``serve`` processes on one database accept ``burst`` requests between them.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import create_postgres_database, drop_postgres_database, require_postgres
from tests.e2e.server import running_server
from tests.e2e.test_run_crash import credentials

NO_WORKERS = {"MESHHOOK_WORKERS": "0"}


def hook_definition(**config: Any) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "hook", "type": "webhook", "config": {"path": "in", **config}},
            {"id": "echo", "type": "transform", "config": {"expression": "body"}},
        ],
        "edges": [{"from": "hook", "to": "echo"}],
        "settings": {},
    }


def api_client(url: str, home: Path) -> httpx.Client:
    return httpx.Client(
        base_url=f"{url}/api/v1/projects/default",
        headers={"Authorization": f"Bearer {credentials(home)}"},
        timeout=30,
    )


def publish_hook(api: httpx.Client, **config: Any) -> str:
    """A published workflow with a webhook trigger; its hook's path (``/hooks/...``)."""
    created = api.post("/workflows", json={"name": "Hook", "definition": hook_definition(**config)})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert api.post(f"/workflows/{key}/versions/publish", json={}).status_code == 200
    url: str = api.get(f"/workflows/{key}/webhook").json()["url"]
    return "/hooks/" + url.split("/hooks/", 1)[1]


def test_runs_a_202_named_survive_kill_9_of_serve(tmp_path: Path) -> None:
    home = tmp_path / "home"
    accepted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    with running_server(home, extra_env=NO_WORKERS) as first:
        with api_client(first.url, home) as api:
            path = publish_hook(api, rate_per_second=100000, burst=100000)

        def send(index: int) -> None:
            with httpx.Client(base_url=first.url, timeout=5) as client:
                n = 0
                while not stop.is_set():
                    n += 1
                    try:
                        answer = client.post(path, json={"sender": index, "n": n})
                    except httpx.TransportError:
                        return  # the server is gone
                    if answer.status_code == 202:
                        with lock:
                            accepted.append(answer.json()["run_id"])

        senders = [threading.Thread(target=send, args=(i,)) for i in range(4)]
        for thread in senders:
            thread.start()
        deadline = time.monotonic() + 30
        while len(accepted) < 50 and time.monotonic() < deadline:
            time.sleep(0.005)
        # Requests are in flight: the process dies between commits and answers.
        os.kill(first.pid, signal.SIGKILL)
        stop.set()
        for thread in senders:
            thread.join()
    assert len(accepted) >= 50

    with running_server(home) as second, api_client(second.url, home) as api:
        deadline = time.monotonic() + 120
        pending = set(accepted)
        while pending and time.monotonic() < deadline:
            for run_id in list(pending):
                run = api.get(f"/runs/{run_id}")
                assert run.status_code == 200, f"run {run_id} answered 202 is lost"
                if run.json()["status"] == "succeeded":
                    pending.discard(run_id)
            time.sleep(0.2)
        assert not pending, f"{len(pending)} runs never finished"


def test_the_rate_limit_is_shared_by_two_serve_processes_on_postgresql(
    tmp_path: Path,
) -> None:
    require_postgres()
    database_url = create_postgres_database("meshhook_e2e_hooks")
    home = tmp_path / "home"
    burst = 12
    try:
        with (
            running_server(home, database_url, NO_WORKERS) as one,
            running_server(home, database_url, NO_WORKERS) as two,
        ):
            with api_client(one.url, home) as api:
                path = publish_hook(api, rate_per_second=0.001, burst=burst)
            statuses: list[int] = []
            with httpx.Client(timeout=10) as client:
                for index in range(3 * burst):
                    server = one if index % 2 else two
                    statuses.append(client.post(server.url + path, json={"i": index}).status_code)
            assert statuses.count(202) == burst, statuses
            assert statuses.count(429) == 2 * burst, statuses
    finally:
        drop_postgres_database(database_url)
