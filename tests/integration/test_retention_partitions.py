"""PostgreSQL: ``run_events`` partitioned by month on its run's creation time:
partitions created ahead by the job, a month every project's policy has
expired dropped whole (not while a run in it is unfinished, nor while any
project keeps runs forever), row-level security on the partitioned table, and
no direct access to a partition for the app role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import text

from meshhook.domain.accounts import Role
from meshhook.domain.runs.events import RunStatus
from meshhook.services import retention
from meshhook.services.transactions import project_transaction
from meshhook.store.db import Database
from tests.factories import Member
from tests.integration.retention_helpers import CLI, aged_run, event_count, make_workflow, run_ids

KNOBS = retention.Knobs(batch_runs=50, batch_ms=5.0, partitions_ahead=3)


def _partitions(db: Database) -> set[str]:
    with db.engine.connect() as connection:
        return set(
            connection.execute(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                    " WHERE i.inhparent = 'run_events'::regclass"
                )
            ).scalars()
        )


def _month(moment: datetime) -> str:
    return f"run_events_p{moment:%Y%m}"


def _partition_of(db: Database, run_id: UUID) -> set[str]:
    with db.engine.connect() as connection:
        return set(
            connection.execute(
                text("SELECT DISTINCT tableoid::regclass::text FROM run_events WHERE run_id = :r"),
                {"r": run_id},
            ).scalars()
        )


def _months_ahead(now: datetime, count: int) -> list[str]:
    names, year, month = [], now.year, now.month
    for _ in range(count + 1):
        names.append(f"run_events_p{year:04d}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return names


def test_the_job_creates_partitions_ahead_and_a_default(postgres_db: Database) -> None:
    now = datetime.now(UTC)
    report = retention.apply_all(postgres_db, KNOBS, now=now, sleep=lambda _: None)
    present = _partitions(postgres_db)
    assert set(_months_ahead(now, 3)) <= present
    assert "run_events_default" in present
    again = retention.apply_all(postgres_db, KNOBS, now=now, sleep=lambda _: None)
    assert again.partitions_created == [], "nothing is created twice"
    assert set(report.partitions_created) <= present


def test_a_run_s_events_share_its_month_s_partition(postgres_db: Database, alice: Member) -> None:
    now = datetime.now(UTC)
    run_id = aged_run(postgres_db, "alpha", make_workflow(postgres_db, "alpha", "Orders"), 0)
    assert _partition_of(postgres_db, run_id) == {_month(now)}


def _expired_month_run(db: Database, *, status: RunStatus = RunStatus.SUCCEEDED) -> UUID:
    """A run of 70 days ago in its own (created) monthly partition."""
    created = datetime.now(UTC) - timedelta(days=70)
    with db.engine.begin() as connection:
        connection.execute(
            text("SELECT meshhook_run_event_partitions_ensure(:since, 1)"), {"since": created}
        )
    workflow = make_workflow(db, "alpha", f"Orders {status}")
    run_id = aged_run(db, "alpha", workflow, 70, status=status)
    assert _partition_of(db, run_id) == {_month(created)}
    return run_id


def _policy(db: Database, project: str, days: int | None) -> None:
    retention.set_policy(db, CLI, project, days, None)


def test_a_month_expired_for_every_project_is_dropped_whole(
    postgres_db: Database, alice: Member
) -> None:
    old = _expired_month_run(postgres_db)
    recent = aged_run(postgres_db, "alpha", make_workflow(postgres_db, "alpha", "New"), 1)
    month = _month(datetime.now(UTC) - timedelta(days=70))
    _policy(postgres_db, "alpha", 30)
    assert retention.expired_partitions(postgres_db) == [], "beta keeps its runs forever"
    _policy(postgres_db, "beta", 45)
    assert retention.expired_partitions(postgres_db) == [month]
    assert month in _partitions(postgres_db), "a dry run drops nothing"

    report = retention.apply_all(postgres_db, KNOBS, sleep=lambda _: None)

    assert month in report.partitions_dropped
    assert month not in _partitions(postgres_db)
    assert old not in run_ids(postgres_db), "its runs row goes in the batches after"
    assert recent in run_ids(postgres_db)
    assert event_count(postgres_db, recent) == 4


def test_a_month_holding_an_unfinished_run_is_not_dropped(
    postgres_db: Database, alice: Member
) -> None:
    going = _expired_month_run(postgres_db, status=RunStatus.WAITING)
    month = _month(datetime.now(UTC) - timedelta(days=70))
    _policy(postgres_db, "alpha", 30)
    _policy(postgres_db, "beta", 30)

    report = retention.apply_all(postgres_db, KNOBS, sleep=lambda _: None)

    assert month not in report.partitions_dropped
    assert month in _partitions(postgres_db)
    assert going in run_ids(postgres_db)
    assert event_count(postgres_db, going) == 3


def test_rls_isolates_projects_on_the_partitioned_table(
    postgres_db: Database, alice: Member
) -> None:
    ours = aged_run(postgres_db, "alpha", make_workflow(postgres_db, "alpha", "A"), 0)
    theirs = aged_run(postgres_db, "beta", make_workflow(postgres_db, "beta", "B"), 0)
    with project_transaction(postgres_db, alice.actor, "alpha", Role.OWNER) as scope:
        seen = set(scope.session.execute(text("SELECT DISTINCT run_id FROM run_events")).scalars())
        # The scrub's column grant reaches only this project's rows.
        changed = scope.session.execute(
            text("UPDATE run_events SET data = '{}' WHERE run_id = :r"), {"r": theirs}
        )
        assert changed.rowcount == 0
    assert seen == {ours}
    assert event_count(postgres_db, theirs) == 4


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM run_events_default",
        "DELETE FROM run_events",
        "UPDATE run_events SET type = 'run.failed'",
        "SELECT meshhook_run_event_partitions_drop(false) FROM run_events_default",
    ],
)
def test_the_app_role_cannot_reach_partitions_or_rewrite_events(
    postgres_db: Database, alice: Member, statement: str
) -> None:
    aged_run(postgres_db, "alpha", make_workflow(postgres_db, "alpha", "A"), 0)
    with (
        pytest.raises(Exception, match="permission denied"),
        project_transaction(postgres_db, alice.actor, "alpha", Role.OWNER) as scope,
    ):
        scope.session.execute(text(statement))
