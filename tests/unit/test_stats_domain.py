"""Histogram slots and percentiles of the run statistics."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from meshhook.domain.stats import (
    DAY,
    HOUR,
    QUARTER,
    SLOTS,
    WEEK,
    Summary,
    Window,
    bucket_of,
    percentile,
    slot_bounds,
    slot_of,
)


def test_slots_double() -> None:
    assert slot_of(0) == 0
    assert slot_of(0.5) == 0
    assert slot_of(1) == 1
    assert slot_of(1.9) == 1
    assert slot_of(2) == 2
    assert slot_of(1000) == 10  # 512 <= 1000 < 1024
    assert slot_of(10**12) == SLOTS - 1


@given(st.floats(min_value=0, max_value=2.0**30, allow_nan=False))
def test_a_duration_lies_inside_its_slot(milliseconds: float) -> None:
    low, high = slot_bounds(slot_of(milliseconds))
    assert low <= milliseconds < high


def test_percentiles_are_within_a_factor_of_two_of_the_exact_ones() -> None:
    generator = random.Random(7)
    durations = sorted(generator.lognormvariate(4, 1.2) for _ in range(20_000))
    histogram = [0] * SLOTS
    for value in durations:
        histogram[slot_of(value)] += 1
    for quantile in (0.5, 0.95, 0.99):
        exact = durations[int(quantile * len(durations)) - 1]
        estimate = percentile(histogram, quantile)
        assert estimate is not None
        assert exact / 2 <= estimate <= exact * 2, (quantile, exact, estimate)


def test_an_empty_histogram_has_no_percentile() -> None:
    assert percentile([0] * SLOTS, 0.5) is None


def test_short_windows_sum_hours_and_long_ones_days() -> None:
    now = datetime(2026, 12, 3, 10, 25, tzinfo=UTC)
    assert (Window.HOUR.period, Window.DAY.period) == (HOUR, HOUR)
    assert (Window.WEEK.period, Window.MONTH.period) == (DAY, DAY)
    assert Window.HOUR.since(now) == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert Window.DAY.since(now) == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert Window.WEEK.since(now) == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


def test_buckets_are_hours_quarters_days_and_weeks_from_monday() -> None:
    moment = datetime(2026, 12, 3, 10, 25, 7, 123, tzinfo=UTC)  # a Thursday
    assert bucket_of(moment, HOUR) == datetime(2026, 12, 3, 10, tzinfo=UTC)
    assert bucket_of(moment, QUARTER) == datetime(2026, 12, 3, 6, tzinfo=UTC)
    assert bucket_of(moment, DAY) == datetime(2026, 12, 3, tzinfo=UTC)
    assert bucket_of(moment, WEEK) == datetime(2026, 11, 30, tzinfo=UTC)  # Monday
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    assert bucket_of(monday, WEEK) == monday
    assert bucket_of(monday - timedelta(microseconds=1), WEEK) == monday - timedelta(days=7)


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1)))
def test_a_window_is_its_ragged_start_then_whole_coarser_buckets(naive: datetime) -> None:
    now = naive.replace(tzinfo=UTC)
    for window in Window:
        fine, coarse = window.segments(now)
        assert fine.since == window.since(now)
        assert fine.period == window.period
        assert fine.until == coarse.since
        assert coarse.until is None
        assert bucket_of(coarse.since, coarse.period) == coarse.since
        assert timedelta(0) <= coarse.since - fine.since < timedelta(seconds=coarse.period)
        # At most 5 or 6 finer rows, and the coarser ones up to now.
        assert (coarse.since - fine.since) / timedelta(seconds=fine.period) <= 6
        assert (now - coarse.since) / timedelta(seconds=coarse.period) < 6


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=SLOTS, max_size=SLOTS))
def test_a_summary_reports_the_percentiles_of_its_histogram(histogram: list[int]) -> None:
    now = datetime(2026, 12, 3, 10, 25, tzinfo=UTC)
    summary = Summary(window=Window.DAY, since=now, until=now, durations=histogram)

    def rounded(quantile: float) -> float | None:
        value = percentile(histogram, quantile)
        return None if value is None else round(value, 3)

    assert summary.as_json()["duration_ms"] == {
        "p50": rounded(0.50),
        "p95": rounded(0.95),
        "p99": rounded(0.99),
    }
