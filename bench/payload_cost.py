"""What sealing run payloads at rest, and redacting them for the console, cost
the engine (``make bench``, section ``engine``, key ``payloads``).

In this process, on a fresh database of the section's dialect (on SQLite,
the cheapest to write, the crypto takes its largest share), 3-step transform runs are
queued and then driven by a real :class:`~meshhook.engine.worker.Worker`,
alternately with the keys attached (payloads sealed: what every server does)
and without (payloads in clear: only this baseline does it), interleaved
rounds of each (four quick, three full; medians compared). Reported:

- throughput (steps/s) of both and their ratio;
- the time spent inside the payload cipher (seal and open, counted around
  ``PayloadCipher._seal`` / ``_open``, the one place that encrypts) as a share
  of the sealed rounds' wall time, and per step. It is the calling thread's
  CPU time (``time.thread_time``): the worker's database calls run in 8
  threads, and on PostgreSQL the driver releases the GIL while it waits, so a
  wall clock around a seal also counts the time the sealing thread waited for
  the GIL behind the others (reported beside it as ``cipher_wall_ms_per_step``:
  0.40 against 0.13 ms/step on SQLite in the idle run that first showed it);
- the redaction a viewer's console read costs (run + events through
  ``redact_run`` / ``redact_event``) per step, against the engine's time per step.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.harness import temporary_database
from bench.workloads import chain
from meshhook.domain.accounts import Actor
from meshhook.domain.redaction import Redactor
from meshhook.domain.runs.redacted import redact_event, redact_run
from meshhook.engine.worker import Worker, WorkerSettings
from meshhook.services import accounts, projects, runs, versions, workflows
from meshhook.services.keys import provider_for
from meshhook.services.runs import StartRequest
from meshhook.services.workflows import NewWorkflow
from meshhook.settings import Settings
from meshhook.store import migrate
from meshhook.store.db import Database, create_database
from meshhook.store.run_payloads import PayloadCipher

PROJECT = "payloads"
KEY = "chain-3"
STEPS = 3
INPUT = {"order": "A-1001", "lines": [{"sku": f"S-{n}", "qty": n} for n in range(8)]}


class CipherClock:
    """Seconds spent in the payload cipher's seal and open while installed:
    CPU seconds of the calling thread (``seconds``) and wall seconds, which
    also count waits for the GIL (``wall_seconds``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.wall_seconds = 0.0
        self.calls = 0
        self._lock = threading.Lock()

    @contextmanager
    def installed(self) -> Iterator[None]:
        originals = {name: getattr(PayloadCipher, name) for name in ("_seal", "_open")}

        def timed(original: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(*args: Any) -> Any:
                began = time.perf_counter()
                cpu = time.thread_time()
                try:
                    return original(*args)
                finally:
                    cpu = time.thread_time() - cpu
                    wall = time.perf_counter() - began
                    with self._lock:  # the worker's threads seal concurrently
                        self.seconds += cpu
                        self.wall_seconds += wall
                        self.calls += 1

            return wrapper

        for name, original in originals.items():
            setattr(PayloadCipher, name, timed(original))
        try:
            yield
        finally:
            for name, original in originals.items():
                setattr(PayloadCipher, name, original)


def _drive(db: Database, worker: Worker, count: int) -> tuple[float, float]:
    """Queue ``count`` runs, let the worker finish them; the seconds it took,
    and the CPU seconds this process spent meanwhile."""
    actor = Actor.cli()
    for _ in range(count):
        runs.start(db, actor, PROJECT, KEY, StartRequest(input=INPUT))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(worker.run(),))
    began = time.perf_counter()
    cpu = time.process_time()
    thread.start()
    while True:
        with db.engine.connect() as connection:
            left = connection.execute(
                text("SELECT count(*) FROM runs WHERE status NOT IN ('succeeded', 'failed')")
            ).scalar_one()
        if not left:
            break
        time.sleep(0.01)
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu
    loop.call_soon_threadsafe(worker.stop)
    thread.join()
    loop.close()
    return seconds, cpu


def _redaction_per_run(db: Database, samples: int) -> float:
    """CPU seconds to redact one finished run and its events as a viewer sees
    them (one thread, nothing else in this process running)."""
    actor = Actor.cli()
    page, _ = runs.list_runs(db, actor, PROJECT, runs.RunQuery(), limit=samples)
    loaded = [(runs.get(db, actor, PROJECT, str(run.id), reveal=True), run.id) for run in page]
    logs = [runs.events(db, actor, PROJECT, str(run_id), reveal=True)[0] for _, run_id in loaded]
    began = time.thread_time()
    for (run, _), events in zip(loaded, logs, strict=True):
        redactor = Redactor.build()
        redact_run(run, redactor)
        for event in events:
            redact_event(event, redactor)
    return (time.thread_time() - began) / max(len(loaded), 1)


def payload_section(dialect: str, *, quick: bool) -> dict[str, Any]:
    count = 100 if quick else 500
    rounds = 4 if quick else 3
    with (
        tempfile.TemporaryDirectory(prefix="meshhook-payloads-") as workdir,
        temporary_database(dialect, Path(workdir)) as url,
    ):
        migrate.upgrade(url)
        db = create_database(url)
        try:
            keys = provider_for(Settings(home=Path(workdir) / "home", database_url=url))
            owner = accounts.create_user(db, Actor.cli(), "bench@example.com", password=None)
            projects.create_project(db, Actor.cli(), PROJECT, "Payloads", owner_email=owner.email)
            workflows.create(
                db, Actor.cli(), PROJECT, NewWorkflow(name=KEY, key=KEY), definition=chain(STEPS)
            )
            versions.publish(db, Actor.cli(), PROJECT, KEY)
            settings = WorkerSettings(concurrency=8, poll_seconds=0.02, schedule_seconds=0)
            clock = CipherClock()
            timings: dict[str, list[float]] = {"sealed": [], "clear": []}
            cpu: dict[str, list[float]] = {"sealed": [], "clear": []}
            _drive(db, Worker(db, keys, settings), 20)  # warm-up (the data key is made here)
            for _ in range(rounds):
                for mode in ("clear", "sealed"):
                    worker = Worker(db, keys, settings)  # attaches the keys to ``db``
                    if mode == "clear":
                        db.keys.source = None  # the baseline only: payloads in clear
                        seconds, used = _drive(db, worker, count)
                    else:
                        with clock.installed():
                            seconds, used = _drive(db, worker, count)
                    timings[mode].append(seconds)
                    cpu[mode].append(used)
            redaction = _redaction_per_run(db, 50)
        finally:
            db.dispose()
    steps = count * STEPS
    sealed = statistics.median(timings["sealed"])
    clear = statistics.median(timings["clear"])
    sealed_rounds = sum(timings["sealed"])
    per_step_ms = sealed / steps * 1000
    cipher_share = clock.seconds / sealed_rounds
    sealed_steps = steps * len(timings["sealed"])
    redaction_share = redaction / STEPS / (sealed / steps)
    return {
        "runs_per_round": count,
        "steps_per_second_sealed": round(steps / sealed, 1),
        "steps_per_second_clear": round(steps / clear, 1),
        "sealed_over_clear_throughput": round(clear / sealed, 3),
        "cipher_calls_per_step": round(clock.calls / sealed_steps, 2),
        "cipher_ms_per_step": round(clock.seconds / sealed_steps * 1000, 4),
        "cipher_wall_ms_per_step": round(clock.wall_seconds / sealed_steps * 1000, 4),
        "engine_ms_per_step": round(per_step_ms, 3),
        "engine_cpu_ms_per_step": round(sum(cpu["sealed"]) / sealed_steps * 1000, 3),
        "engine_cpu_ms_per_step_clear": round(
            sum(cpu["clear"]) / (steps * len(cpu["clear"])) * 1000, 3
        ),
        "cipher_share_of_engine": round(cipher_share, 4),
        "cipher_share_of_engine_cpu": round(clock.seconds / sum(cpu["sealed"]), 4),
        "redaction_ms_per_step": round(redaction / STEPS * 1000, 4),
        "redaction_share_of_engine": round(redaction_share, 4),
        "together_share_of_engine": round(cipher_share + redaction_share, 4),
    }


if __name__ == "__main__":
    import json

    for dialect in ("sqlite", "postgresql"):
        print(dialect, json.dumps(payload_section(dialect, quick=True), indent=2))
