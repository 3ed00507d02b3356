"""Histogram slots and percentiles of the run statistics."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from meshhook.domain.stats import DAY, HOUR, SLOTS, Window, percentile, slot_bounds, slot_of


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
