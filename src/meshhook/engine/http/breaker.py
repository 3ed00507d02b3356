"""A circuit breaker per host, so a dead service is not hammered by every run.

Closed: calls go through. After ``threshold`` consecutive failures it opens:
calls fail fast (``http.circuit_open``) for ``cooldown`` seconds. Then it is
half-open: one trial call goes through; its success closes the breaker, its
failure opens it again. Each worker process keeps its own breakers; the
decision is recorded in the run's events like any other outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = False


class CircuitBreakers:
    def __init__(
        self,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        max_hosts: int = 10_000,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.max_hosts = max_hosts
        self._circuits: dict[str, _Circuit] = {}

    def allow(self, host: str) -> bool:
        """Whether a call to ``host`` may go out now."""
        circuit = self._circuits.get(host)
        if circuit is None or circuit.opened_at is None:
            return True
        if self.clock() - circuit.opened_at < self.cooldown or circuit.trial_in_flight:
            return False
        circuit.trial_in_flight = True  # half-open: this call is the trial
        return True

    def succeeded(self, host: str) -> None:
        self._circuits.pop(host, None)

    def failed(self, host: str) -> None:
        circuit = self._circuits.get(host)
        if circuit is None:
            if len(self._circuits) >= self.max_hosts:
                self._circuits.pop(next(iter(self._circuits)))
            circuit = self._circuits[host] = _Circuit()
        circuit.failures += 1
        circuit.trial_in_flight = False
        if circuit.failures >= self.threshold or circuit.opened_at is not None:
            circuit.opened_at = self.clock()
