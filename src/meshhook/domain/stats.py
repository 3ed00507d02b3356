"""Run statistics from rollups: what one finished run adds to its hour's
aggregates, and how aggregates over a window become rates and percentiles.

Durations are counted in a histogram of ``SLOTS`` slots whose bounds double
(slot 0: under 1 ms; slot ``i``: from 2^(i-1) to 2^i ms; the last one
everything from about 12 days up), so any number of runs costs the same few
integers per hour, and a percentile is found to within its slot (reported
interpolated inside it: within a factor of 2 at worst, usually far closer).
Pure: no I/O.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import accumulate
from typing import Any

from meshhook.domain.runs.events import RunStatus, StepStatus
from meshhook.domain.runs.state import RunState

SLOTS = 32
HOUR, QUARTER, DAY, WEEK = 3600, 6 * 3600, 86400, 7 * 86400
PERIODS = (HOUR, QUARTER, DAY, WEEK)
"""Every finished run is added to its hour, its quarter of a day (6 hours),
its day and its week (from Monday, UTC). A window sums its ragged start in the
finer period and the rest in the coarser one (``Window.segments``), so no
answer reads more than about 12 rows per workflow (and node, and error code),
whatever the window."""
_COARSER = {HOUR: QUARTER, DAY: WEEK}
_MONDAY = 4 * DAY
"""1970-01-05, the first Monday after the epoch: weeks are counted from it."""
TOP = 5
"""How many slowest and most-failing nodes and error codes a summary lists."""


@dataclass(frozen=True, slots=True)
class Segment:
    """The rows of one period whose bucket starts in [since, until) (until
    None: open-ended)."""

    period: int
    since: datetime
    until: datetime | None


class Window(StrEnum):
    HOUR = "1h"
    DAY = "24h"
    WEEK = "7d"
    MONTH = "30d"

    @property
    def length(self) -> timedelta:
        return {
            Window.HOUR: timedelta(hours=1),
            Window.DAY: timedelta(days=1),
            Window.WEEK: timedelta(days=7),
            Window.MONTH: timedelta(days=30),
        }[self]

    @property
    def period(self) -> int:
        """The period its start is aligned to: hours for up to a day, days beyond."""
        return HOUR if self.length <= timedelta(days=1) else DAY

    @property
    def series_period(self) -> int:
        """The bucket of a chart's points: hours up to a week (169 points at
        most), days beyond."""
        return HOUR if self.length <= timedelta(days=7) else DAY

    def since(self, now: datetime) -> datetime:
        """The first bucket the window covers (the hour, or day, ``length`` ago
        included, so a window is never shorter than it says)."""
        return bucket_of(now - self.length, self.period)

    def segments(self, now: datetime) -> tuple[Segment, Segment]:
        """The rows that hold exactly the window's runs (every bucket from
        ``since(now)`` on): the finer period's from ``since`` up to the first
        boundary of the coarser period, then the coarser period's from there
        (the current, unfinished one included). At most 5 hours and 5
        quarters (1 h, 24 h), or 6 days and 6 weeks (7 d, 30 d)."""
        since = self.since(now)
        fine = self.period
        coarse = _COARSER[fine]
        boundary = bucket_of(since, coarse)
        if boundary < since:
            boundary += timedelta(seconds=coarse)
        return Segment(fine, since, boundary), Segment(coarse, boundary, None)


def bucket_of(moment: datetime, period: int = HOUR) -> datetime:
    """The start (UTC) of the hour, quarter of a day, day or week (from
    Monday) ``moment`` falls in."""
    seconds = math.floor(moment.timestamp())
    offset = _MONDAY if period == WEEK else 0
    return datetime.fromtimestamp(seconds - (seconds - offset) % period, UTC)


def slot_of(milliseconds: float) -> int:
    """The histogram slot of a duration."""
    if milliseconds < 1:
        return 0
    # frexp's exponent is exact where log2 rounds (2**27 - 1e-7 is not 2**27).
    return min(SLOTS - 1, math.frexp(milliseconds)[1])


def slot_bounds(slot: int) -> tuple[float, float]:
    """[low, high) milliseconds of a slot."""
    if slot == 0:
        return 0.0, 1.0
    return float(2 ** (slot - 1)), float(2**slot)


def percentile(histogram: Sequence[int], quantile: float) -> float | None:
    """The ``quantile`` (0 to 1) of the durations counted in ``histogram``, in
    milliseconds, interpolated linearly inside its slot; None when empty."""
    total = sum(histogram)
    if total == 0:
        return None
    rank = quantile * total
    seen = 0
    for slot, count in enumerate(histogram):
        if count and seen + count >= rank:
            low, high = slot_bounds(slot)
            return low + (high - low) * max(0.0, rank - seen) / count
        seen += count
    return slot_bounds(len(histogram) - 1)[1]


@dataclass(frozen=True, slots=True)
class StepOutcome:
    node_id: str
    milliseconds: float
    failed: bool


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What a finished run adds to its workflow's hour."""

    status: RunStatus
    finished_at: datetime
    milliseconds: float
    """From queued to finished."""
    lag_milliseconds: float | None
    """From queued to the first step (queue lag); None if it never started."""
    dead_letter: bool
    error_code: str | None
    steps: tuple[StepOutcome, ...]

    @classmethod
    def of(cls, state: RunState, dead_letter: bool = False) -> RunOutcome:
        """The outcome of a run whose ``state`` is terminal."""
        assert state.status.is_terminal
        assert state.finished_at is not None
        created = state.created_at or state.finished_at
        started = state.started_at
        steps = tuple(
            StepOutcome(
                node_id=step.node_id,
                milliseconds=_milliseconds(step.finished_at - step.started_at),
                failed=step.status == StepStatus.FAILED,
            )
            for step in state.steps.values()
            if step.started_at is not None and step.finished_at is not None
        )
        return cls(
            status=state.status,
            finished_at=state.finished_at,
            milliseconds=_milliseconds(state.finished_at - created),
            lag_milliseconds=None if started is None else _milliseconds(started - created),
            dead_letter=dead_letter,
            error_code=(state.error or {}).get("code") if state.error else None,
            steps=steps,
        )


def _milliseconds(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds() * 1000)


@dataclass(frozen=True, slots=True)
class NodeFigures:
    workflow_key: str
    node_id: str
    steps: int
    failures: int
    total_ms: float
    max_ms: float

    def as_json(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow_key,
            "node_id": self.node_id,
            "steps": self.steps,
            "failures": self.failures,
            "mean_ms": round(self.total_ms / self.steps, 3) if self.steps else None,
            "max_ms": round(self.max_ms, 3),
        }


@dataclass(slots=True)
class Summary:
    """A window's figures for a workflow or a whole project."""

    window: Window
    since: datetime
    until: datetime
    by_status: dict[str, int] = field(default_factory=dict)
    dead_lettered: int = 0
    durations: list[int] = field(default_factory=lambda: [0] * SLOTS)
    lags: list[int] = field(default_factory=lambda: [0] * SLOTS)
    errors: list[tuple[str, int]] = field(default_factory=list)
    """The most frequent error codes, most frequent first."""
    slowest: list[NodeFigures] = field(default_factory=list)
    """Nodes by mean step duration, slowest first."""
    failing: list[NodeFigures] = field(default_factory=list)
    """Nodes by failed steps, most first."""

    @property
    def finished(self) -> int:
        return sum(self.by_status.values())

    def as_json(self) -> dict[str, Any]:
        finished = self.finished
        succeeded = self.by_status.get("succeeded", 0)
        return {
            "window": str(self.window),
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "runs": {
                "finished": finished,
                **{str(status): self.by_status.get(str(status), 0) for status in _FINAL},
                "dead_lettered": self.dead_lettered,
            },
            "success_rate": round(succeeded / finished, 4) if finished else None,
            "duration_ms": _percentiles(self.durations),
            "queue_lag_ms": _percentiles(self.lags),
            "errors": [{"code": code, "count": count} for code, count in self.errors],
            "slowest_nodes": [node.as_json() for node in self.slowest],
            "failing_nodes": [node.as_json() for node in self.failing],
        }


_FINAL = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


def _percentiles(histogram: Sequence[int]) -> dict[str, float | None]:
    """p50, p95 and p99 (as ``percentile``): the running totals once, then a
    bisection per quantile (a chart asks for 338 of these)."""
    running = list(accumulate(histogram))
    total = running[-1] if running else 0
    if total == 0:
        return dict.fromkeys(_QUANTILES.values())
    found: dict[str, float | None] = {}
    for quantile, name in _QUANTILES.items():
        rank = quantile * total
        # The first slot whose running total reaches the rank (never an
        # empty one: its running total equals the slot's before it).
        slot = bisect_left(running, rank)
        count = histogram[slot]
        low, high = _BOUNDS[slot]
        found[name] = round(
            low + (high - low) * max(0.0, rank - (running[slot] - count)) / count, 3
        )
    return found


_QUANTILES = {0.50: "p50", 0.95: "p95", 0.99: "p99"}
_BOUNDS = tuple(slot_bounds(slot) for slot in range(SLOTS))


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One bucket's figures, for a chart."""

    at: datetime
    by_status: dict[str, int]
    dead_lettered: int
    durations: Sequence[int]
    lags: Sequence[int]

    def as_json(self) -> dict[str, Any]:
        finished = sum(self.by_status.values())
        succeeded = self.by_status.get("succeeded", 0)
        return {
            "at": self.at.isoformat(),
            **{str(status): self.by_status.get(str(status), 0) for status in _FINAL},
            "dead_lettered": self.dead_lettered,
            "success_rate": round(succeeded / finished, 4) if finished else None,
            "duration_ms": _percentiles(self.durations),
            "queue_lag_ms": _percentiles(self.lags),
        }


def bucket_starts(window: Window, now: datetime) -> list[datetime]:
    """Every bucket a window's chart shows, oldest first (each hour, or day,
    from the one ``window.length`` ago to the current one)."""
    period = window.series_period
    step = timedelta(seconds=period)
    current = bucket_of(now - window.length, period)
    last = bucket_of(now, period)
    starts = []
    while current <= last:
        starts.append(current)
        current += step
    return starts


@dataclass(slots=True)
class Series:
    """A window's figures bucket by bucket, every bucket present (an empty one
    has zero runs), oldest first."""

    window: Window
    period: int
    points: list[SeriesPoint]

    @classmethod
    def dense(cls, window: Window, now: datetime, found: dict[datetime, SeriesPoint]) -> Series:
        empty = [0] * SLOTS
        points = [
            found.get(at)
            or SeriesPoint(at=at, by_status={}, dead_lettered=0, durations=empty, lags=empty)
            for at in bucket_starts(window, now)
        ]
        return cls(window=window, period=window.series_period, points=points)

    def as_json(self) -> dict[str, Any]:
        return {
            "window": str(self.window),
            "bucket_seconds": self.period,
            "points": [point.as_json() for point in self.points],
        }
