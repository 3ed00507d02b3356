"""Schedule specs: fire times (cron in a time zone across DST, intervals), the
catch-up policies, and the node type's config checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from meshhook.domain.node_types import get_node_type
from meshhook.domain.schedules import CatchUp, ScheduleSpec, fires


def spec(**config: object) -> ScheduleSpec:
    return ScheduleSpec.from_config(config)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_an_interval_fires_at_multiples_of_it_since_the_epoch() -> None:
    every = spec(every_seconds=3600)
    assert every.next_after(at("2026-12-03T10:15:00Z")) == at("2026-12-03T11:00:00Z")
    assert every.next_after(at("2026-12-03T11:00:00Z")) == at("2026-12-03T12:00:00Z")
    assert every.latest_until(at("2026-12-03T08:00:00Z"), at("2026-12-03T10:30:00Z"), 10) == [
        at("2026-12-03T08:00:00Z"),
        at("2026-12-03T09:00:00Z"),
        at("2026-12-03T10:00:00Z"),
    ]


def test_cron_is_read_in_its_time_zone_across_dst() -> None:
    berlin = spec(cron="0 9 * * *", timezone="Europe/Berlin")
    # 09:00 CET is 08:00Z in winter; 09:00 CEST is 07:00Z after 29 March 2026.
    assert berlin.next_after(at("2026-03-27T12:00:00Z")) == at("2026-03-28T08:00:00Z")
    assert berlin.upcoming(at("2026-03-28T12:00:00Z"), 2) == [
        at("2026-03-29T07:00:00Z"),
        at("2026-03-30T07:00:00Z"),
    ]
    assert spec(cron="0 9 * * *").next_after(at("2026-03-29T12:00:00Z")) == at(
        "2026-03-30T09:00:00Z"
    )  # UTC by default


def test_latest_until_includes_both_ends_and_keeps_the_latest() -> None:
    hourly = spec(cron="0 * * * *")
    found = hourly.latest_until(at("2026-12-03T01:00:00Z"), at("2026-12-03T05:00:00Z"), 3)
    assert found == [
        at("2026-12-03T03:00:00Z"),
        at("2026-12-03T04:00:00Z"),
        at("2026-12-03T05:00:00Z"),
    ]
    assert hourly.latest_until(at("2026-12-03T01:00:00Z"), at("2026-12-03T01:59:59Z"), 5) == [
        at("2026-12-03T01:00:00Z")
    ]


DUE = at("2026-12-03T01:00:00Z")


@pytest.mark.parametrize(
    ("policy", "now", "expected", "skipped"),
    [
        # On time (within a minute): every policy fires the due time.
        ("none", DUE + timedelta(seconds=5), [DUE], 0),
        ("latest", DUE + timedelta(seconds=5), [DUE], 0),
        ("all", DUE + timedelta(seconds=5), [DUE], 0),
        # Five hours with nothing running: 01:00 .. 06:00 were due.
        ("none", DUE + timedelta(hours=5, minutes=10), [], 2),
        ("latest", DUE + timedelta(hours=5, minutes=10), [DUE + timedelta(hours=5)], 1),
        (
            "all",
            DUE + timedelta(hours=5, minutes=10),
            [DUE + timedelta(hours=h) for h in (3, 4, 5)],
            1,
        ),
    ],
)
def test_catch_up_policies(
    policy: str, now: datetime, expected: list[datetime], skipped: int
) -> None:
    hourly = spec(cron="0 * * * *", catch_up=policy, max_catch_up=3)
    assert hourly.catch_up is CatchUp(policy)
    plan = fires(hourly, DUE, now)
    assert plan.run_at == expected
    assert plan.skipped >= skipped
    assert plan.next_due_at == hourly.next_after(now)
    assert plan.next_due_at > now


def test_all_runs_every_missed_fire_under_the_cap() -> None:
    hourly = spec(cron="0 * * * *", catch_up="all", max_catch_up=100)
    plan = fires(hourly, DUE, DUE + timedelta(hours=5, minutes=10))
    assert len(plan.run_at) == 6
    assert plan.skipped == 0


def test_the_config_checks_place_bad_cron_and_time_zones() -> None:
    node_type = get_node_type("schedule")
    assert node_type is not None
    assert node_type.is_trigger
    assert node_type.check_config is not None
    issues = node_type.check_config({"cron": "61 * * * *", "timezone": "Mars/Olympus"})
    assert [(i.pointer, i.code) for i in issues] == [
        ("/cron", "config.cron"),
        ("/timezone", "config.timezone"),
    ]
    assert node_type.check_config({"cron": "*/5 9-17 * * 1-5", "timezone": "Asia/Tokyo"}) == []
