"""Schedule triggers, without I/O: a ``schedule`` node's config as a spec, its
fire times, and which due times to fire after a pause (the ``catch_up`` policy).

A cron expression (five fields, via ``cronsim``) is read in its IANA time zone,
so ``0 9 * * *`` in ``Europe/Berlin`` fires at 09:00 local time across DST
changes (a time skipped by a spring-forward fires at the next valid minute). An
interval (``every_seconds``) fires at the multiples of it since the Unix epoch
(UTC), so every process computes the same due times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

DEFAULT_TIMEZONE = "UTC"
DEFAULT_MAX_CATCH_UP = 10
MAX_CATCH_UP = 100
MAX_EVERY_SECONDS = 366 * 24 * 3600
ON_TIME = timedelta(seconds=60)
"""A due time fired within this of its moment is on time, not a missed fire."""


class CatchUp(StrEnum):
    NONE = "none"
    """Fires missed while nothing ran are skipped."""
    LATEST = "latest"
    """Only the most recent missed fire runs (the default)."""
    ALL = "all"
    """Every missed fire runs, the latest ``max_catch_up`` of them."""


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    cron: str | None
    every_seconds: int | None
    timezone: str
    catch_up: CatchUp
    max_catch_up: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ScheduleSpec:
        """The spec of a valid ``schedule`` config (see ``node_types/schedule.py``)."""
        every = config.get("every_seconds")
        return cls(
            cron=config.get("cron"),
            every_seconds=int(every) if every is not None else None,
            timezone=config.get("timezone") or DEFAULT_TIMEZONE,
            catch_up=CatchUp(config.get("catch_up") or CatchUp.LATEST),
            max_catch_up=int(config.get("max_catch_up") or DEFAULT_MAX_CATCH_UP),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "cron": self.cron,
            "every_seconds": self.every_seconds,
            "timezone": self.timezone,
            "catch_up": str(self.catch_up),
            "max_catch_up": self.max_catch_up,
        }

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment`` (UTC)."""
        if self.every_seconds is not None:
            step = self.every_seconds
            epoch = moment.timestamp()
            k = int(epoch // step) + 1
            return datetime.fromtimestamp(k * step, UTC)
        assert self.cron is not None
        local = moment.astimezone(ZoneInfo(self.timezone))
        return next(CronSim(self.cron, local)).astimezone(UTC)

    def upcoming(self, moment: datetime, count: int) -> list[datetime]:
        """The next ``count`` fire times after ``moment``."""
        found: list[datetime] = []
        for _ in range(count):
            moment = self.next_after(moment)
            found.append(moment)
        return found

    def latest_until(self, since: datetime, until: datetime, limit: int) -> list[datetime]:
        """Up to ``limit`` fire times in ``[since, until]``, the latest ones, oldest first."""
        found: list[datetime] = []
        if limit <= 0 or until < since:
            return found
        if self.every_seconds is not None:
            step = self.every_seconds
            k = int(until.timestamp() // step)
            while len(found) < limit:
                moment = datetime.fromtimestamp(k * step, UTC)
                if moment < since:
                    break
                found.append(moment)
                k -= 1
        else:
            assert self.cron is not None
            zone = ZoneInfo(self.timezone)
            start = (until + timedelta(seconds=1)).astimezone(zone)
            for local in CronSim(self.cron, start, reverse=True):
                moment = local.astimezone(UTC)
                if moment > until:
                    continue
                if moment < since or len(found) >= limit:
                    break
                found.append(moment)
        return found[::-1]


@dataclass(frozen=True, slots=True)
class Fires:
    """What a worker does with a claimed due time."""

    run_at: list[datetime]
    """The due times to start runs for (each one's idempotency key), oldest first."""
    skipped: int
    """Due times missed and not run (per the catch-up policy; at least this many for ``all``)."""
    next_due_at: datetime


def fires(spec: ScheduleSpec, due_at: datetime, now: datetime) -> Fires:
    """The runs to start for the schedule due at ``due_at`` (≤ ``now``): every
    fire time in ``[due_at, now]`` per ``catch_up``; then the next due time."""
    limit = spec.max_catch_up if spec.catch_up is CatchUp.ALL else 1
    due = spec.latest_until(due_at, now, limit + 1)  # one more: were some missed?
    next_due = spec.next_after(now)
    if not due:
        return Fires([], 0, next_due)
    latest = due[-1]
    on_time = now - latest <= ON_TIME
    if spec.catch_up is CatchUp.ALL:
        chosen = due[-limit:]
    elif spec.catch_up is CatchUp.LATEST or on_time:
        chosen = [latest]
    else:
        chosen = []
    missed = len(due) - len(chosen)
    return Fires(chosen, missed, next_due)


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a cron expression cronsim reads, or ``None``."""
    try:
        CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        return str(error) or "not a cron expression"
    return None


def timezone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone, or ``None``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not an IANA time zone (such as UTC or Europe/Berlin)"
    return None
