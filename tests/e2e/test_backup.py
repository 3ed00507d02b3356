"""``meshhook backup`` while a real ``meshhook serve`` keeps saving versions and
running workflows; ``meshhook restore`` into another home; the restored server
holds every version and run acknowledged before the backup began, with gapless
event logs that replay to the recorded state, and finishes the runs that were
in flight."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import running_server
from tests.e2e.test_run_crash import credentials

ENV = {"MESHHOOK_LEASE_SECONDS": "2", "MESHHOOK_WORKERS": "4"}


def definition(step: int) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {"id": "wait", "type": "delay", "config": {"duration_seconds": 0.2}},
            {"id": "shape", "type": "transform", "config": {"expression": f"{{step: `{step}`}}"}},
        ],
        "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "shape"}],
        "settings": {},
    }


class Writers:
    """Saves versions of one workflow and starts runs of another, recording what
    the server acknowledged, until stopped."""

    def __init__(self, client: httpx.Client, saved: str, running: str) -> None:
        self.client, self.saved, self.running = client, saved, running
        self.lock = threading.Lock()
        self.versions: list[int] = []
        self.runs: list[str] = []
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.threads = [
            threading.Thread(target=self._save, daemon=True),
            threading.Thread(target=self._run, daemon=True),
        ]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def acknowledged(self) -> tuple[list[int], list[str]]:
        with self.lock:
            return list(self.versions), list(self.runs)

    def _save(self) -> None:
        step, head = 0, 1
        while not self.stop.is_set():
            step += 1
            response = self.client.put(
                f"/workflows/{self.saved}",
                json={"definition": definition(step)},
                headers={"If-Match": f'"{head}"'},
            )
            if response.status_code != 200:
                self.failures.append(response.text)
                continue
            head = response.json()["version"]
            with self.lock:
                self.versions.append(head)

    def _run(self) -> None:
        while not self.stop.is_set():
            response = self.client.post(f"/workflows/{self.running}/runs", json={"input": {}})
            if response.status_code != 202:
                self.failures.append(response.text)
                continue
            with self.lock:
                self.runs.append(response.json()["id"])
            time.sleep(0.01)


def run_ids(client: httpx.Client, workflow: str) -> set[str]:
    found: set[str] = set()
    params: dict[str, Any] = {"workflow": workflow, "limit": 200}
    while True:
        page = client.get("/runs", params=params)
        assert page.status_code == 200, page.text
        found |= {run["id"] for run in page.json()["items"]}
        if not page.json()["next_cursor"]:
            return found
        params["cursor"] = page.json()["next_cursor"]


def meshhook(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MESHHOOK_HOME": str(home)}
    env.pop("MESHHOOK_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "meshhook", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_backup_while_serving_restores_everything_acknowledged_before_it(
    tmp_path: Path,
) -> None:
    home, restored_home = tmp_path / "home", tmp_path / "restored"
    backup_file = tmp_path / "meshhook-backup.db"
    with running_server(home, extra_env=ENV) as server:
        token = credentials(home)
        client = httpx.Client(
            base_url=f"{server.url}/api/v1/projects/default",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        for key in ("saved", "running"):
            created = client.post(
                "/workflows", json={"key": key, "name": key, "definition": definition(0)}
            )
            assert created.status_code == 201, created.text
        assert client.post("/workflows/running/versions/publish", json={}).status_code == 200
        with Writers(client, "saved", "running") as writers:
            time.sleep(1.0)
            versions_before, runs_before = writers.acknowledged()
            made = meshhook(home, "backup", str(backup_file))
            versions_after, runs_after = writers.acknowledged()
            time.sleep(0.5)  # writes go on after the copy, and must not be in it
        assert made.returncode == 0, made.stderr
        assert not writers.failures, writers.failures[:3]
        assert versions_before, "versions were being saved during the backup"
        assert runs_before, "runs were being started during the backup"
        client.close()

    restored = meshhook(restored_home, "restore", str(backup_file), "--yes")
    assert restored.returncode == 0, restored.stderr + restored.stdout
    # The key-encryption key is kept beside the database, not in it (docs/operations.md).
    key_file = restored_home / "master.key"
    key_file.write_bytes((home / "master.key").read_bytes())
    key_file.chmod(0o600)

    with running_server(restored_home, extra_env=ENV) as server:
        client = httpx.Client(
            base_url=f"{server.url}/api/v1/projects/default",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        head = client.get("/workflows/saved").json()["version"]
        # Every version acknowledged before the backup began is there; none
        # acknowledged after it ended (the copy is one moment in between).
        assert max(versions_before) <= head <= max(versions_after)
        for number in versions_before:
            got = client.get(f"/workflows/saved/versions/{number}")
            assert got.status_code == 200, (number, got.text)
        present = run_ids(client, "running")
        assert set(runs_before) <= present <= set(runs_after)
        # Runs in flight at the copy finish on the restored server, logs intact.
        deadline = time.monotonic() + 120
        while True:
            statuses = {client.get(f"/runs/{run_id}").json()["status"] for run_id in present}
            if statuses == {"succeeded"}:
                break
            assert time.monotonic() < deadline, statuses
            time.sleep(0.5)
        for run_id in present:
            events = client.get(f"/runs/{run_id}/events", params={"limit": 200}).json()
            seqs = [event["seq"] for event in events["items"]]
            assert seqs == list(range(1, len(seqs) + 1)), run_id
            assert client.get(f"/runs/{run_id}/replay").json()["equal"] is True, run_id
        client.close()


def test_restore_refuses_a_file_that_is_not_a_meshhook_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    refused = meshhook(tmp_path / "home", "restore", str(junk), "--yes")
    assert refused.returncode == 1
    assert "not a readable SQLite database" in refused.stderr
    assert not (tmp_path / "home" / "meshhook.db").exists()
