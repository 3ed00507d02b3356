"""The worker loop: claim due runs, drive each as far as it goes, sleep.

A worker drives a claimed run in stretches: ``advance`` (pure) produces the
events of everything that needs no side effect, which are committed together
with the run's next due time; ``http_call`` attempts are then carried out
(concurrently, the lease renewed meanwhile) and their outcomes recorded with
the next stretch. A worker killed at any instant loses nothing: what was not
committed is redone by whoever claims the run after its lease expires, and an
HTTP attempt redone carries the same ``Idempotency-Key``.

Database calls run in threads (the driver is synchronous); the loop itself is
asyncio, so one process drives many runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from meshhook.domain.runs.advance import advance, record_outcome
from meshhook.domain.runs.decide import StartStep
from meshhook.domain.runs.evaluate import Failed, Succeeded
from meshhook.domain.runs.events import RunEvent
from meshhook.engine.alerts import AlertSender
from meshhook.engine.executors.http_call import Attempt, HttpCallExecutor, HttpSettings
from meshhook.engine.metrics import EngineMetrics
from meshhook.services import alert_outbox, run_execution, worker_rounds
from meshhook.services import alerts as alert_service
from meshhook.services import retention as retention_service
from meshhook.services import schedules as schedule_service
from meshhook.services.retention import Knobs
from meshhook.services.run_execution import LeaseLost, Work
from meshhook.services.secrets import Keys
from meshhook.services.worker_rounds import Found, Wanted
from meshhook.settings import Settings
from meshhook.store.db import Database
from meshhook.store.notifications import Listener
from meshhook.store.runs import Claimed, EventConflict
from meshhook.tracing import Tracing

log = structlog.get_logger("meshhook.worker")


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    concurrency: int = 8
    lease_seconds: float = 30.0
    poll_seconds: float = 1.0
    """Longest sleep with nothing to do (a start in this process wakes it at once)."""
    drain_seconds: float = 10.0
    schedule_seconds: float = 1.0
    """How often the worker looks for due schedule triggers (0: never)."""
    alert_seconds: float = 1.0
    """How often the worker sends due alert deliveries (0: never)."""
    threshold_seconds: float = 15.0
    """How often the worker evaluates failure-rate and queue-lag alert rules."""
    retention_seconds: float = 0.0
    """How often the worker applies the retention policies (0: never)."""
    retention: Knobs = field(default_factory=Knobs)
    http: HttpSettings = field(default_factory=HttpSettings)


def worker_settings(settings: Settings, concurrency: int | None = None) -> WorkerSettings:
    """The worker knobs from the app settings (``MESHHOOK_WORKERS``, ...)."""
    return WorkerSettings(
        concurrency=concurrency if concurrency is not None else settings.workers,
        lease_seconds=settings.lease_seconds,
        drain_seconds=settings.drain_seconds,
        retention_seconds=settings.retention_interval_seconds,
        retention=Knobs.of(settings),
        http=HttpSettings(
            allow_private=settings.http_allow_private,
            max_response_bytes=settings.http_max_response_bytes,
        ),
    )


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        db: Database,
        keys: Keys,
        settings: WorkerSettings,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: EngineMetrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.db = db
        self.keys = keys
        db.keys.attach(keys)  # run payloads are sealed and opened with them
        self.settings = settings
        self.name = name or worker_name()
        self.clock = clock
        self.active: set[asyncio.Task[None]] = set()
        self.stopping = asyncio.Event()
        self.wakeup = asyncio.Event()
        self.executor: HttpCallExecutor | None = None
        self.metrics = metrics or EngineMetrics()
        self.tracing = tracing or Tracing(None)
        self.last = dict.fromkeys(("stats", "schedules", "alerts", "thresholds"), -1e9)
        """When each cadence last looked (``time.monotonic()``)."""
        self.alert_task: asyncio.Task[None] | None = None
        self.sender: AlertSender | None = None
        self.beat = time.monotonic()
        """When the claim loop last went round (``healthy`` watches it)."""
        self.failure: str | None = None
        """Why the last round failed (e.g. the database is unreachable), if it did."""
        self.ended = False

    def wake(self) -> None:
        """Look for work now (a run was just queued in this process)."""
        self.wakeup.set()

    async def run(self) -> None:
        """Claim and drive runs until :meth:`stop`; then drain what is in flight."""
        self.executor = HttpCallExecutor(self.settings.http)
        self.sender = AlertSender(self.settings.http)
        listener = None
        if self.db.is_postgres:
            loop = asyncio.get_running_loop()

            def from_thread() -> None:
                loop.call_soon_threadsafe(self.wake)

            listener = Listener(self.db, from_thread)
            listener.start()
        log.info("worker started", worker=self.name, concurrency=self.settings.concurrency)
        keeper = (
            asyncio.create_task(self._retention_loop())
            if self.settings.retention_seconds > 0
            else None
        )
        try:
            while not self.stopping.is_set():
                try:
                    found, free = await self._round()
                except Exception as error:  # the database went away: keep trying
                    self.failure = f"{type(error).__name__}: {error}"[:300]
                    log.error("worker round failed", worker=self.name, error=self.failure)
                    await self._sleep()
                    continue
                self.failure = None
                self._start_thresholds()
                if await self._fire_schedules(found):
                    continue  # runs were just queued: claim them at once
                if not found.claimed or free <= len(found.claimed):
                    await self._sleep()
            await self._drain()
            if self.alert_task is not None:
                await asyncio.gather(self.alert_task, return_exceptions=True)
        finally:
            self.ended = True
            if keeper is not None:
                # It ends after its current batch (it watches ``stopping``).
                self.stopping.set()
                await asyncio.gather(keeper, return_exceptions=True)
            if listener is not None:
                await asyncio.to_thread(listener.stop)
            await self.executor.aclose()
            await self.sender.aclose()
            log.info("worker stopped", worker=self.name)

    async def _round(self) -> tuple[Found, int]:
        """Claim what this worker has room for and start driving it; in the same
        transaction, read what else is due at its cadence (the queue's depth for
        the metrics, schedule triggers, alert deliveries: services/worker_rounds.py)."""
        self.beat = time.monotonic()
        free = self.settings.concurrency - len(self.active)
        wanted = Wanted(
            claim=max(free, 0),
            queue_stats=self._due("stats", 1.0),
            schedules=self._due("schedules", self.settings.schedule_seconds),
            alerts=self._alerts_due(),
        )
        if wanted == Wanted():
            return Found(), free
        now = self.clock()
        found = await asyncio.to_thread(
            worker_rounds.look, self.db, self.name, self.settings.lease_seconds, wanted, now
        )
        looked = time.monotonic()
        for cadence, asked in (
            ("stats", wanted.queue_stats),
            ("schedules", wanted.schedules),
            ("alerts", wanted.alerts),
        ):
            if asked:
                self.last[cadence] = looked
        for item in found.claimed:
            task = asyncio.create_task(self._drive(item))
            self.active.add(task)
            task.add_done_callback(self._finished)
        if found.stats is not None:
            self.metrics.queue(found.stats.due, found.stats.oldest_due, now)
        if found.deliveries:
            self.alert_task = asyncio.create_task(self._alerts(found.deliveries))
        return found, free

    def _due(self, cadence: str, every: float) -> bool:
        """Whether ``cadence``'s look is due (``every`` seconds; 0: never)."""
        return every > 0 and time.monotonic() - self.last[cadence] >= every

    def health_problem(self) -> str | None:
        """Why this worker is not doing its job, or None when it is: its loop
        ended, its last round failed, or it has not gone round for a lease."""
        if self.ended:
            return "the worker loop has ended"
        if self.failure is not None:
            return self.failure
        silent = time.monotonic() - self.beat
        if silent > max(self.settings.lease_seconds, 10 * self.settings.poll_seconds):
            return f"the worker loop has not run for {silent:.0f} s"
        return None

    async def _fire_schedules(self, found: Found) -> int:
        """Start the runs of the schedule triggers the round found due; every
        worker looks, and each due time fires once (services/schedules.py)."""
        if not found.schedules:
            return 0
        try:
            return await asyncio.to_thread(
                schedule_service.fire, self.db, found.schedules, self.clock()
            )
        except Exception as error:  # a database hiccup: look again next time
            log.error("schedule tick failed", worker=self.name, error=repr(error))
            return 0

    def _alerts_due(self) -> bool:
        """Whether to look for due alert deliveries this round: at most once per
        ``alert_seconds``, one delivering task at a time (a slow receiver never
        holds up runs), and not when threshold rules are due (the task evaluates
        them first, then looks for what they queued itself)."""
        if self.alert_task is not None and not self.alert_task.done():
            return False
        return self._due("alerts", self.settings.alert_seconds) and not self._thresholds_due()

    def _thresholds_due(self) -> bool:
        return time.monotonic() - self.last["thresholds"] >= self.settings.threshold_seconds

    def _start_thresholds(self) -> None:
        """Evaluate failure-rate and queue-lag rules every ``threshold_seconds``
        (then send what is due) in the alert task, when it is free."""
        if not (self._due("alerts", self.settings.alert_seconds) and self._thresholds_due()):
            return
        if self.alert_task is not None and not self.alert_task.done():
            return
        self.last["alerts"] = self.last["thresholds"] = time.monotonic()
        self.alert_task = asyncio.create_task(self._alerts(None))

    async def _alerts(self, due: list[tuple[uuid.UUID, uuid.UUID]] | None) -> None:
        """Deliver ``due``; with ``None``, evaluate the threshold rules first and
        look for due deliveries afterwards (what they queued goes out at once)."""
        try:
            if due is None:
                await asyncio.to_thread(alert_service.evaluate_thresholds, self.db, self.clock())
                due = await asyncio.to_thread(alert_outbox.due, self.db, self.clock())
            await asyncio.gather(*(self._deliver(project, delivery) for project, delivery in due))
        except Exception as error:  # a database hiccup: look again next time
            log.error("alert round failed", worker=self.name, error=repr(error))

    async def _deliver(self, project_id: uuid.UUID, delivery_id: uuid.UUID) -> None:
        assert self.sender is not None
        prepared = await asyncio.to_thread(
            alert_outbox.take, self.db, self.keys, project_id, delivery_id, self.clock()
        )
        if prepared is None:
            return  # another worker has it
        attempt = await self.sender.send(prepared)
        await asyncio.to_thread(alert_outbox.record, self.db, project_id, prepared, attempt)

    async def _retention_loop(self) -> None:
        """Apply the retention policies now and every ``retention_seconds``
        (services/retention.py): partitions ahead, expired ones dropped, runs
        deleted and scrubbed in short batches. One worker at a time does it."""
        while not self.stopping.is_set():
            try:
                await asyncio.to_thread(
                    retention_service.job_pass,
                    self.db,
                    self.settings.retention,
                    self.stopping.is_set,
                )
            except Exception as error:  # a database hiccup: try again next time
                log.error("retention pass failed", worker=self.name, error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.stopping.wait(), timeout=self.settings.retention_seconds
                )

    def status(self) -> dict[str, object]:
        """What /readyz reports of this worker."""
        return {
            "name": self.name,
            "running": not self.stopping.is_set(),
            "healthy": self.health_problem() is None,
            "active_runs": len(self.active),
            "concurrency": self.settings.concurrency,
        }

    def stop(self) -> None:
        self.stopping.set()
        self.wakeup.set()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.active.discard(task)
        self.wakeup.set()  # a slot is free
        if not task.cancelled() and task.exception() is not None:
            log.error("run driver crashed", worker=self.name, error=repr(task.exception()))

    async def _sleep(self) -> None:
        self.wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wakeup.wait(), timeout=self.settings.poll_seconds)

    async def _drain(self) -> None:
        """SIGTERM: claim nothing more; give what is in flight a grace period."""
        if not self.active:
            return
        _done, pending = await asyncio.wait(self.active, timeout=self.settings.drain_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _drive(self, claimed: Claimed) -> None:
        work = await asyncio.to_thread(run_execution.load, self.db, claimed)
        try:
            await self._drive_loaded(claimed, work)
        except asyncio.CancelledError:
            # Drained past the grace period: hand the run back for anyone.
            if work is not None:
                await asyncio.shield(
                    asyncio.to_thread(run_execution.release, self.db, work, self.name)
                )
            raise

    async def _drive_loaded(self, claimed: Claimed, work: Work | None) -> None:
        carried: list[RunEvent] = []
        while work is not None:
            progress = advance(work.graph, work.state, self.clock(), clock=self.clock)
            try:
                await asyncio.to_thread(
                    run_execution.commit,
                    self.db,
                    work,
                    self.name,
                    [*carried, *progress.events],
                    wake_at=progress.wake_at,
                    holding=bool(progress.effects),
                    lease_seconds=self.settings.lease_seconds,
                )
            except LeaseLost:
                log.warning("lease lost", worker=self.name, run_id=str(claimed.run_id))
                return
            except EventConflict:
                # A cancel (or a takeover) appended first: start over from the log.
                work = await asyncio.to_thread(run_execution.load, self.db, claimed)
                carried = []
                continue
            committed = [*carried, *progress.events]
            self.metrics.committed(work.graph, work.state, committed)
            self.tracing.steps_committed(work.run.id, work.graph.by_id, committed)
            carried = []
            if work.state.status.is_terminal:
                self.tracing.run_finished(
                    work.run.id,
                    work.run.workflow_key,
                    work.run.version,
                    str(work.state.status),
                    work.run.created_at,
                    work.state.finished_at or self.clock(),
                )
                log.info(
                    "run finished",
                    run_id=str(work.run.id),
                    status=str(work.state.status),
                    error=(work.state.error or {}).get("code"),
                )
                return
            if not progress.effects:
                return
            if self.stopping.is_set():
                await asyncio.to_thread(run_execution.release, self.db, work, self.name)
                return
            attempts = await self._carry_out(work, progress.effects)
            if attempts is None:
                return  # the lease was lost meanwhile
            now = self.clock()
            for command, attempt in attempts:
                carried.extend(
                    record_outcome(
                        work.graph,
                        work.state,
                        command,
                        attempt.outcome,
                        now,
                        jitter=random.random(),  # noqa: S311 (jitter, not security)
                        extra=attempt.record,
                    )
                )

    async def _carry_out(
        self, work: Work, commands: list[StartStep]
    ) -> list[tuple[StartStep, Attempt]] | None:
        heartbeat = asyncio.create_task(self._heartbeat(work))
        try:
            results = await asyncio.gather(*(self._attempt(work, c) for c in commands))
        finally:
            heartbeat.cancel()
            lost = await asyncio.gather(heartbeat, return_exceptions=True)
        if lost and lost[0] is True:
            return None
        return list(zip(commands, results, strict=True))

    async def _heartbeat(self, work: Work) -> bool:
        """Renew the lease every third of its length; True when it was lost."""
        while True:
            await asyncio.sleep(self.settings.lease_seconds / 3)
            held = await asyncio.to_thread(
                run_execution.renew, self.db, work, self.name, self.settings.lease_seconds
            )
            if not held:
                return True

    async def _attempt(self, work: Work, command: StartStep) -> Attempt:
        assert self.executor is not None
        node = work.graph.by_id[command.node_id]
        names = node.secret_names()
        secrets = await asyncio.to_thread(
            run_execution.step_secrets, self.db, self.keys, work, node.id, names
        )
        log.info(
            "step attempt",
            run_id=str(work.run.id),
            node_id=node.id,
            attempt=command.attempt,
            takeover=command.takeover,
        )
        with self.tracing.attempt(work.run.id, node.id, node.type, command.attempt) as step:
            method = str(node.config.get("method", "GET"))
            with step.http_client(method, str(node.config.get("url", ""))) as trace_headers:
                attempt = await self.executor.execute(
                    node.config,
                    command.input,
                    secrets.values,
                    idempotency_key=f"{work.run.id}/{node.id}",
                    allowed_hosts=secrets.allowed_hosts,
                    trace_headers=trace_headers,
                )
            outcome = attempt.outcome
            step.outcome(
                isinstance(outcome, Succeeded),
                attempt.record,
                outcome.error if isinstance(outcome, Failed) else None,
            )
        return attempt
