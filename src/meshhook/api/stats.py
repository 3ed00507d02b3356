"""Run statistics: per project and per workflow, over 1 h, 24 h, 7 d or 30 d."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from starlette.responses import Response

from meshhook.api.deps import CurrentActor, DatabaseDep
from meshhook.api.schemas.stats import SeriesOut, StatsOut
from meshhook.domain.stats import Series, Summary, Window
from meshhook.services import stats

router = APIRouter(prefix="/api/v1/projects/{project}", tags=["stats"])

WindowQuery = Annotated[Window, Query(description="1h, 24h, 7d or 30d.")]


def _json(summary: Summary | Series) -> Response:
    return Response(orjson.dumps(summary.as_json()), media_type="application/json")


@router.get("/stats", name="project_stats", response_model=StatsOut)
def project_stats(
    project: str, db: DatabaseDep, actor: CurrentActor, window: WindowQuery = Window.DAY
) -> Response:
    """Finished runs of every workflow in the project (test runs excluded)."""
    return _json(stats.project_stats(db, actor, project, window))


@router.get("/workflows/{workflow}/stats", name="workflow_stats", response_model=StatsOut)
def workflow_stats(
    project: str,
    workflow: str,
    db: DatabaseDep,
    actor: CurrentActor,
    window: WindowQuery = Window.DAY,
) -> Response:
    """Finished runs of one workflow (test runs excluded)."""
    return _json(stats.workflow_stats(db, actor, project, workflow, window))


@router.get("/stats/series", name="project_stats_series", response_model=SeriesOut)
def project_stats_series(
    project: str, db: DatabaseDep, actor: CurrentActor, window: WindowQuery = Window.DAY
) -> Response:
    """The project's figures bucket by bucket (hours up to 7d, days for 30d), for charts."""
    return _json(stats.project_series(db, actor, project, window))


@router.get(
    "/workflows/{workflow}/stats/series", name="workflow_stats_series", response_model=SeriesOut
)
def workflow_stats_series(
    project: str,
    workflow: str,
    db: DatabaseDep,
    actor: CurrentActor,
    window: WindowQuery = Window.DAY,
) -> Response:
    """One workflow's figures bucket by bucket, for charts."""
    return _json(stats.workflow_series(db, actor, project, workflow, window))
