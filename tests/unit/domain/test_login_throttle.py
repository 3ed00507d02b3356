"""The sign-in back-off: free attempts, then doubling locks up to a cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from meshhook.domain import login_throttle as throttle

POLICY = throttle.ThrottlePolicy(
    free_attempts=5,
    base_delay=timedelta(seconds=1),
    max_delay=timedelta(minutes=15),
    forget_after=timedelta(hours=1),
)
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_the_first_attempts_are_free_then_each_one_doubles_the_lock() -> None:
    counter = None
    for _ in range(4):
        counter = throttle.charge(counter, NOW, POLICY)
        assert throttle.retry_after(counter, NOW, POLICY) == 0
    waits = []
    for _ in range(6):
        counter = throttle.charge(counter, NOW, POLICY)
        waits.append(throttle.retry_after(counter, NOW, POLICY))
    assert waits == [1, 2, 4, 8, 16, 32]


def test_the_lock_is_capped() -> None:
    counter = throttle.Counter(failures=40, locked_until=None, updated_at=NOW)
    charged = throttle.charge(counter, NOW, POLICY)
    assert throttle.retry_after(charged, NOW, POLICY) == 15 * 60


def test_a_lock_runs_out_and_an_idle_counter_is_forgotten() -> None:
    counter = throttle.Counter(failures=6, locked_until=NOW + timedelta(seconds=2), updated_at=NOW)
    assert throttle.retry_after(counter, NOW + timedelta(seconds=1), POLICY) == 1
    assert throttle.retry_after(counter, NOW + timedelta(seconds=3), POLICY) == 0
    # Still counted within the hour: the next attempt locks for longer.
    later = throttle.charge(counter, NOW + timedelta(minutes=30), POLICY)
    assert later.failures == 7
    # Idle for more than an hour: counting starts again.
    fresh = throttle.charge(counter, NOW + timedelta(hours=2), POLICY)
    assert fresh.failures == 1
    assert fresh.locked_until is None


def test_a_refund_takes_back_one_attempt_and_its_lock() -> None:
    counter = throttle.Counter(failures=4, locked_until=None, updated_at=NOW)
    charged = throttle.charge(counter, NOW, POLICY)
    assert throttle.locks_now(charged, POLICY)
    refunded = throttle.refund(charged, POLICY)
    assert refunded.failures == 4
    assert refunded.locked_until is None
