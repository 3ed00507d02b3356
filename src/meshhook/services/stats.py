"""Run statistics of a project or one workflow over a window (viewer role),
read from the rollups the engine keeps as runs finish (``store/stats.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.stats import Series, Summary, Window
from meshhook.services.transactions import project_transaction
from meshhook.store.db import Database


def project_stats(db: Database, actor: Actor, project_key: str, window: Window) -> Summary:
    """Every workflow of the project together (test runs are not counted)."""
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        return scope.stats.summary(window, datetime.now(UTC))


def workflow_stats(
    db: Database, actor: Actor, project_key: str, workflow_ref: str, window: Window
) -> Summary:
    """One workflow, by id or key (a trashed one too: its history stays)."""
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        workflow = scope.find_workflow(workflow_ref)
        return scope.stats.summary(window, datetime.now(UTC), workflow.id)


def project_series(db: Database, actor: Actor, project_key: str, window: Window) -> Series:
    """The project's figures bucket by bucket over ``window`` (for charts)."""
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        return scope.stats.series(window, datetime.now(UTC))


def workflow_series(
    db: Database, actor: Actor, project_key: str, workflow_ref: str, window: Window
) -> Series:
    """One workflow's figures bucket by bucket over ``window``."""
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        workflow = scope.find_workflow(workflow_ref)
        return scope.stats.series(window, datetime.now(UTC), workflow.id)
