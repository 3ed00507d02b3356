"""Exponential back-off for sign-in attempts (pure: the clock comes in as ``now``).

Each account (keyed by its normalised email, whether or not it exists) and each
client address has a counter. An attempt is *charged* before the password is
checked, so concurrent guesses cannot slip past the limit together: the first
``free_attempts`` go through at once; from then on each attempt charged locks
the key for ``base_delay * 2 ** (n - free_attempts)`` seconds, capped at
``max_delay``. An attempt that arrives while the key is locked is refused
without checking the password. A successful sign-in clears the account's
counter; counters with no failure for ``forget_after`` start again from zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_attempts: int
    base_delay: timedelta
    max_delay: timedelta
    forget_after: timedelta

    def delay(self, charged: int) -> timedelta:
        """How long a key stays locked after its ``charged``-th attempt."""
        if charged < self.free_attempts:
            return timedelta(0)
        exponent = min(charged - self.free_attempts, 32)  # 2**32 s is far past any cap
        delay: timedelta = self.base_delay * 2**exponent
        return min(delay, self.max_delay)


@dataclass(frozen=True, slots=True)
class Counter:
    failures: int
    locked_until: datetime | None
    updated_at: datetime


def current(counter: Counter | None, now: datetime, policy: ThrottlePolicy) -> Counter | None:
    """The counter as it stands at ``now``: ``None`` once it has been forgotten
    (idle for ``forget_after`` and no longer locked)."""
    if counter is None:
        return None
    locked = counter.locked_until is not None and counter.locked_until > now
    if not locked and now - counter.updated_at > policy.forget_after:
        return None
    return counter


def retry_after(counter: Counter | None, now: datetime, policy: ThrottlePolicy) -> int:
    """Whole seconds until an attempt may be made (0: now)."""
    live = current(counter, now, policy)
    if live is None or live.locked_until is None or live.locked_until <= now:
        return 0
    return max(1, math.ceil((live.locked_until - now).total_seconds()))


def charge(counter: Counter | None, now: datetime, policy: ThrottlePolicy) -> Counter:
    """The counter after one more attempt (call only when ``retry_after`` is 0)."""
    live = current(counter, now, policy)
    failures = (live.failures if live else 0) + 1
    delay = policy.delay(failures)
    return Counter(failures=failures, locked_until=now + delay if delay else None, updated_at=now)


def refund(counter: Counter, policy: ThrottlePolicy) -> Counter:
    """The counter with one charged attempt taken back (it turned out to succeed)."""
    failures = max(0, counter.failures - 1)
    locked = counter.locked_until if policy.delay(failures) else None
    return Counter(failures=failures, locked_until=locked, updated_at=counter.updated_at)


def locks_now(counter: Counter, policy: ThrottlePolicy) -> bool:
    """This charge is the one that starts the back-off (worth an audit entry)."""
    return counter.failures == policy.free_attempts
