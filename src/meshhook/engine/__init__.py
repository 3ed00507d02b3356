"""The run engine's moving parts: the worker loop that claims runs and drives
them (``worker.py``), executors with side effects (``executors/http_call.py``,
guarded by ``http/``: the address guard and the circuit breaker), and the
engine's metrics.

Executors carry out one step attempt and return an outcome; they never touch
the database. Orchestration (what runs next, retries, replay) is the pure
``meshhook.domain.runs``; run data is read and written through
``services/run_execution.py``, and each round's look at what is due (runs,
schedule triggers, alert deliveries) is ``services/worker_rounds.py``.
"""
