"""The run engine's workloads (``make bench``, section ``engine``).

Against a real ``meshhook serve`` with its in-process workers:

- latency at rest: a 3-step sequential transform workflow (manual → transform x 3),
  one run at a time, measured from the durable start record (``run.queued``) to
  the terminal event by the events' own timestamps, and from the client's POST to
  the moment it observed the run finished;
- per-step cost: a 1,000-step sequential run against the 3-step run's per-step;
- a 16-way fan-out and join;
- sustained throughput: ``throughput_runs`` runs started as fast as 8 client
  threads can, runs/s and steps/s from the first start to the last finish, and
  the server's memory meanwhile;
- what sealing payloads at rest and redacting them costs (``payloads``:
  ``bench/payload_cost.py``).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import text

from bench.harness import Server, percentile
from bench.workloads import chain, fan_out
from meshhook.store.db import Database

API = "/api/v1/projects/default"
TERMINAL = {"succeeded", "failed", "cancelled"}


def _publish(client: Any, key: str, body: dict[str, Any]) -> None:
    created = client.post(f"{API}/workflows", json={"key": key, "name": key, "definition": body})
    assert created.status_code == 201, created.text[:300]
    published = client.post(f"{API}/workflows/{key}/versions/publish", json={})
    assert published.status_code == 200, published.text[:300]


def _run_once(client: Any, key: str) -> tuple[float, float]:
    """(engine ms from the events, client ms from POST to observed finish)."""
    started = time.perf_counter()
    run = client.post(f"{API}/workflows/{key}/runs", json={"input": {"n": 1}})
    assert run.status_code == 202, run.text[:300]
    run_id = run.json()["id"]
    while True:
        found = client.get(f"{API}/runs/{run_id}").json()
        if found["status"] in TERMINAL:
            break
        time.sleep(0.001)
    observed = (time.perf_counter() - started) * 1000
    assert found["status"] == "succeeded", found
    events = client.get(f"{API}/runs/{run_id}/events", params={"limit": 200}).json()["items"]
    first = datetime.fromisoformat(events[0]["at"])
    # A long run has more than one page of events: its end is the run's finish.
    last = datetime.fromisoformat(found["finished_at"])
    return (last - first).total_seconds() * 1000, observed


def _latency(client: Any, key: str, runs: int) -> dict[str, Any]:
    for _ in range(3):
        _run_once(client, key)  # warm-up
    engine, observed = zip(*(_run_once(client, key) for _ in range(runs)), strict=True)
    return {"engine": _summary(engine), "client": _summary(observed)}


def _summary(milliseconds: tuple[float, ...]) -> dict[str, Any]:
    ordered = sorted(milliseconds)
    return {
        "n": len(ordered),
        "p50_ms": round(percentile(ordered, 0.50), 2),
        "p95_ms": round(percentile(ordered, 0.95), 2),
        "p99_ms": round(percentile(ordered, 0.99), 2),
        "max_ms": round(ordered[-1], 2),
    }


def _throughput(server: Server, db: Database, key: str, runs: int, steps: int) -> dict[str, Any]:
    peak = [server.status()["VmRSS"]]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], server.status()["VmRSS"])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    marker = datetime.now().astimezone()

    def start_some(count: int) -> None:
        with server.client() as client:
            for _ in range(count):
                answer = client.post(f"{API}/workflows/{key}/runs", json={"input": {"n": 1}})
                assert answer.status_code == 202, answer.text[:300]

    began = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(start_some, [runs // 8] * 8))
    started_seconds = time.perf_counter() - began
    query = text(
        "SELECT count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'cancelled')),"
        " count(*) FILTER (WHERE status = 'succeeded'), min(created_at), max(finished_at)"
        " FROM runs WHERE created_at >= :marker"
    )
    if db.dialect == "sqlite":
        query = text(
            "SELECT sum(status IN ('succeeded', 'failed', 'cancelled')),"
            " sum(status = 'succeeded'), min(created_at), max(finished_at)"
            " FROM runs WHERE created_at >= :marker"
        )
    deadline = time.monotonic() + 600
    while True:
        with db.engine.connect() as connection:
            row = connection.execute(query, {"marker": _bind(db, marker)}).one()
        if int(row[0] or 0) >= runs or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    done.set()
    sampler.join()
    first, last = _moment(row[2]), _moment(row[3])
    seconds = (last - first).total_seconds()
    return {
        "runs": runs,
        "succeeded": int(row[1] or 0),
        "seconds": round(seconds, 2),
        "start_seconds": round(started_seconds, 2),
        "runs_per_second": round(runs / seconds, 1),
        "steps_per_second": round(runs * steps / seconds, 1),
        "rss_peak_mb": peak[0] // 1024,
    }


def _bind(db: Database, moment: datetime) -> Any:
    if db.dialect == "sqlite":
        return moment.astimezone().replace(tzinfo=None).isoformat(sep=" ")
    return moment


def _moment(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value


def engine_section(server: Server, db: Database, *, quick: bool) -> dict[str, Any]:
    latency_runs = 30 if quick else 200
    throughput_runs = 400 if quick else 2_000
    long_steps = 200 if quick else 1_000
    results: dict[str, Any] = {}
    with server.client() as client:
        _publish(client, "engine-3", chain(3))
        _publish(client, "engine-long", chain(long_steps))
        _publish(client, "engine-fan", fan_out(16))
        results["three_steps"] = _latency(client, "engine-3", latency_runs)
        per_step_3 = results["three_steps"]["engine"]["p50_ms"] / 3
        long_runs = [_run_once(client, "engine-long")[0] for _ in range(3)]
        per_step_long = sorted(long_runs)[1] / long_steps
        results["long_run"] = {
            "steps": long_steps,
            "engine_ms_median": round(sorted(long_runs)[1], 2),
            "per_step_ms": round(per_step_long, 3),
            "per_step_ms_three_step_run": round(per_step_3, 3),
            "ratio": round(per_step_long / per_step_3, 2) if per_step_3 else None,
        }
        results["fan_out_16"] = _latency(client, "engine-fan", latency_runs // 2)
    results["throughput"] = _throughput(server, db, "engine-3", throughput_runs, 3)
    # In this process on a database of its own (bench/payload_cost.py); imported
    # here as it builds its workflow with ``chain`` above.
    from bench.payload_cost import payload_section

    results["payloads"] = payload_section(db.dialect, quick=quick)
    return results
