"""The gate around argon2: bounded concurrency, a bounded queue, then refusal."""

from __future__ import annotations

import threading

import pytest

from meshhook.security.passwords import GateBusy, HashGate


def test_a_full_gate_turns_the_next_caller_away_at_once() -> None:
    gate = HashGate(concurrency=1, queue=0, wait=30)
    with gate.turn(), pytest.raises(GateBusy), gate.turn():
        pass
    with gate.turn():  # the slot is free again
        pass


def test_a_queued_caller_gets_the_slot_when_it_frees_or_gives_up() -> None:
    gate = HashGate(concurrency=1, queue=1, wait=0.2)
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with gate.turn():
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    entered.wait(10)
    # Queued, but the slot stays taken past the wait.
    with pytest.raises(GateBusy), gate.turn():
        pass
    release.set()
    holder.join(10)
    with gate.turn():
        pass
