"""``meshhook stats``: run statistics of a project or a workflow (over the HTTP API)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from meshhook.cli.common import console, report_errors
from meshhook.cli.output import add_row, emit, table
from meshhook.cli.remote import AsJson, Project, api

WINDOWS = ("1h", "24h", "7d", "30d")


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f} ms" if value < 10_000 else f"{value / 1000:,.1f} s"


@report_errors
def stats(
    ctx: typer.Context,
    project: Project,
    workflow: Annotated[
        str | None, typer.Option("--workflow", "-w", help="One workflow (key or id).")
    ] = None,
    window: Annotated[
        str, typer.Option("--window", help="1h, 24h, 7d or 30d.", case_sensitive=False)
    ] = "24h",
    as_json: AsJson = False,
) -> None:
    """Finished runs over a window: by status, success rate, duration and queue-lag
    percentiles, the most frequent errors, the slowest and most-failing nodes.

    Test runs are not counted. The figures come from hourly rollups, so a window
    starts at the top of the hour its length ago.
    """
    if window not in WINDOWS:
        raise typer.BadParameter(f"choose one of {', '.join(WINDOWS)}", param_hint="--window")
    with api(ctx, as_json) as client:
        figures = client.stats(project, workflow=workflow, window=window)
    if as_json:
        emit(figures)
        return
    runs = figures["runs"]
    rate = figures["success_rate"]
    subject = f"workflow {workflow}" if workflow else f"project {project}"
    console.print(
        f"{subject}, last {window}: {runs['finished']} runs finished"
        f" ({runs['succeeded']} succeeded, {runs['failed']} failed, {runs['cancelled']} cancelled,"
        f" {runs['dead_lettered']} dead-lettered)"
        + (f", success rate {rate:.1%}" if rate is not None else ""),
        highlight=False,
    )
    grid = table("", "p50", "p95", "p99")
    for label, key in (("duration", "duration_ms"), ("queue lag", "queue_lag_ms")):
        add_row(grid, label, *(_ms(figures[key][p]) for p in ("p50", "p95", "p99")))
    console.print(grid)
    _nodes("slowest nodes (mean)", figures["slowest_nodes"])
    _nodes("most failing nodes", figures["failing_nodes"])
    if figures["errors"]:
        grid = table("error code", "count")
        for error in figures["errors"]:
            add_row(grid, error["code"], str(error["count"]))
        console.print(grid)


def _nodes(title: str, nodes: list[dict[str, Any]]) -> None:
    if not nodes:
        return
    grid = table(title, "workflow", "steps", "failures", "mean", "max")
    for node in nodes:
        add_row(
            grid,
            node["node_id"],
            node["workflow"],
            str(node["steps"]),
            str(node["failures"]),
            _ms(node["mean_ms"]),
            _ms(node["max_ms"]),
        )
    console.print(grid)
