"""The partitions of ``run_events`` on PostgreSQL (migration 0017).

``run_events`` is range-partitioned by month on ``run_created_at``, its run's
creation time: every event of a run lands in the run's month, so a partition
holds whole runs and can be dropped whole. Partitions are named
``run_events_pYYYYMM`` (UTC months); ``run_events_default`` takes anything no
monthly partition covers (a clock far off, a partition not created in time).

Why monthly, not daily: retention ages are days to years, and the runs of a
month that is not wholly expired for every project are deleted row by row
anyway; monthly partitions keep the count small (a year is 12 tables, not
365), so a query that cannot prune, and the planner, stay cheap, while a
partition is dropped at most a month after the longest policy expires it.

The worker's retention job calls two SECURITY DEFINER functions, because the
app role owns nothing: one creates partitions ahead (and the default), the
other drops partitions that every project's policy has expired and that hold
no unfinished run. What is expired is computed inside the function from the
policies; the caller cannot name a date. SQLite has no partitions: these are
no-ops there, and retention deletes in batches on both.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

PARTITION = re.compile(r"^run_events_(p\d{6}|default)$")


def is_partition(name: str | None) -> bool:
    """A partition of ``run_events`` (not described by the table models)."""
    return name is not None and PARTITION.match(name) is not None


def ensure_ahead(session: Session, now: datetime, months_ahead: int) -> list[str]:
    """Create the monthly partitions from this month to ``months_ahead`` months
    on (and the default one) where missing; the names created."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    rows = session.execute(
        text("SELECT meshhook_run_event_partitions_ensure(:since, :ahead)"),
        {"since": now, "ahead": months_ahead},
    ).scalars()
    return list(rows)


def drop_expired(session: Session, *, dry_run: bool = False) -> list[str]:
    """Drop the monthly partitions every project's policy has expired (none
    while any project keeps its runs forever); the names dropped (or, with
    ``dry_run``, that would be)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    rows = session.execute(
        text("SELECT meshhook_run_event_partitions_drop(:dry)"), {"dry": dry_run}
    ).scalars()
    return list(rows)
