"""Saves whose cost follows the edit (issue #15 §3 and §4): ``python -m bench --only saves``.

Two 1,000-node workloads over HTTP against a real ``meshhook serve``: the valid
definition of ``bench/workloads.py`` and a draft still under construction
(``draft``: ~230 completeness problems). For each, one-node edits saved by PUT
(the whole document) and by PATCH (an RFC 6902 replace of the edited node's
config), their p50/p99, and the database growth per save (SQLite: the file's
pages once the WAL is checkpointed into it; PostgreSQL: the two version tables).
Both send ``Prefer: return=minimal`` as the web UI and the CLI do: the answer
is the version's metadata and problems, without the definition just sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import text

from bench.harness import Server, summary
from bench.workloads import definition, draft, set_edit
from meshhook.domain import canonical
from meshhook.store.db import Database

PROJECT = "/api/v1/projects/default"
API = f"{PROJECT}/workflows"
PATCH_TYPE = "application/json-patch+json"
MINIMAL = {"Prefer": "return=minimal"}  # what the UI and the CLI send with a save
NODES = 1_000
WORKLOADS: dict[str, Callable[[int], dict[str, Any]]] = {"valid": definition, "draft": draft}

# Targets (issue #15 §4), in milliseconds, and §3's storage bound.
PATCH_P99_MS = 10.0
PUT_P99_MS = 25.0
STORAGE_PERCENT = 5.0


def database_bytes(db: Database) -> int:
    """SQLite: the database file's size once the WAL is checkpointed (pages x page
    size); PostgreSQL: the version tables with their indexes and TOAST."""
    with db.engine.connect() as connection:
        if db.is_postgres:
            return int(
                connection.execute(
                    text(
                        "SELECT pg_total_relation_size('workflow_versions')"
                        " + pg_total_relation_size('workflow_heads')"
                    )
                ).scalar_one()
            )
        pages = connection.execute(text("PRAGMA page_count")).scalar_one()
        size = connection.execute(text("PRAGMA page_size")).scalar_one()
        return int(pages * size)


def _edited_node(current: dict[str, Any], step: int) -> int:
    """The index of the node ``set_edit(current, step)`` changes."""
    count = len(current["nodes"])
    return 1 + (step * 7919) % (count - 1) if count > 1 else 0


def _etag(response: Any) -> int:
    assert response.status_code in (200, 201), response.text[:500]
    return int(response.headers["etag"].strip('"'))


def _workload(
    server: Server, db: Database, name: str, make: Callable[[int], dict[str, Any]], saves: int
) -> dict[str, Any]:
    current = make(NODES)
    size = len(canonical.canonical_bytes(current))
    key = f"saves-{name}"
    with server.client() as client:
        head = _etag(
            client.post(
                API,
                content=orjson.dumps({"key": key, "name": key, "definition": current}),
                headers={"Content-Type": "application/json"},
            )
        )
        problems = len(client.get(f"{API}/{key}").json()["problems"])
        entry: dict[str, Any] = {"definition_bytes": size, "problems_shown": problems}
        for how in ("put", "patch"):
            samples: list[float] = []
            sent = 0
            before = database_bytes(db)
            floor: list[float] = []
            for step in range(saves + 3):
                if how == "patch":
                    # The floor under the same conditions: the cheapest authenticated
                    # request (the token and the project, no workflow, no write).
                    started = time.perf_counter()
                    assert client.get(PROJECT).status_code == 200
                    if step >= 3:
                        floor.append(time.perf_counter() - started)
                edit = (0 if how == "put" else 1_000_000) + step
                set_edit(current, edit)
                if how == "put":
                    body = orjson.dumps({"definition": current})
                    headers = {
                        "Content-Type": "application/json",
                        "If-Match": f'"{head}"',
                        **MINIMAL,
                    }
                    url, method = f"{API}/{key}", "PUT"
                else:
                    index = _edited_node(current, edit)
                    op = {
                        "op": "replace",
                        "path": f"/nodes/{index}/config",
                        "value": current["nodes"][index]["config"],
                    }
                    body = orjson.dumps([op])
                    headers = {"Content-Type": PATCH_TYPE, "If-Match": f'"{head}"', **MINIMAL}
                    url, method = f"{API}/{key}/definition", "PATCH"
                started = time.perf_counter()
                response = client.request(method, url, content=body, headers=headers)
                elapsed = time.perf_counter() - started
                head = _etag(response)
                if step >= 3:
                    samples.append(elapsed)
                    sent += len(body)
            grown = (database_bytes(db) - before) / (saves + 3)
            entry[how] = {
                **summary(samples),
                "request_bytes": round(sent / saves),
                "database_bytes_per_save": round(grown),
                "percent_of_definition": round(100 * grown / size, 3),
            }
            if floor:
                entry["request_floor"] = summary(floor)
    return entry


def saves_section(server: Server, db: Database, *, quick: bool) -> dict[str, Any]:
    """Both workloads, PUT then PATCH, on the server's database."""
    saves = 40 if quick else 200
    return {name: _workload(server, db, name, make, saves) for name, make in WORKLOADS.items()}


def saves_verdicts(output: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for dialect, results in output.get("dialects", {}).items():
        section = results.get("saves")
        if not section:
            continue
        for name, entry in section.items():
            # (target, measured, limit, unit, context shown after the measure)
            checks = [
                (
                    f"{name}: one-node edit via PATCH p99 ≤ 10 ms",
                    entry["patch"]["p99_ms"],
                    PATCH_P99_MS,
                    "ms",
                    "",
                ),
                (
                    f"{name}: one-node edit via PUT p99 ≤ 25 ms",
                    entry["put"]["p99_ms"],
                    PUT_P99_MS,
                    "ms",
                    "",
                ),
            ]
            raw = results.get("raw_baseline_1000")
            if dialect == "postgresql" and raw:
                # The §4 PostgreSQL save line read as the save the UI and the CLI
                # send for a one-node edit; the section's own row measures a PUT.
                baseline = raw["insert_commit"]["p99_ms"]
                floor = entry.get("request_floor")
                # Context for that line: what any authenticated request costs.
                context = (
                    f"; floor (an authenticated GET of the project alone)"
                    f" p99 {floor['p99_ms']:.2f} ms = {floor['p99_ms'] / baseline:.1f} x raw"
                    if floor
                    else ""
                )
                checks.append(
                    (
                        f"{name}: one-node edit via PATCH p99 ≤ 2 x raw insert+commit p99",
                        entry["patch"]["p99_ms"],
                        2 * baseline,
                        "ms",
                        context,
                    )
                )
            if dialect == "sqlite":
                checks.append(
                    (
                        f"{name}: database growth per one-node edit ≤ 5 % of the definition",
                        entry["put"]["percent_of_definition"],
                        STORAGE_PERCENT,
                        "%",
                        "",
                    )
                )
            for target, value, limit, unit, context in checks:
                rows.append(
                    (
                        target,
                        dialect,
                        f"{value:.2f} {unit} (limit {limit:.2f}){context}",
                        "met" if value <= limit else "MISSED",
                    )
                )
    return rows


def saves_lines(results: dict[str, Any]) -> list[str]:
    section = results.get("saves")
    if not section:
        return []
    lines = [
        "",
        f"Saves of one-node edits, {NODES:,} nodes (`python -m bench --only saves`):"
        " p50 / p99 ms, bytes sent per save, database growth per save.",
        "",
        "| workload | problems shown | via | p50 / p99 | sent | growth | % of definition |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, entry in section.items():
        for how in ("put", "patch"):
            value = entry[how]
            lines.append(
                f"| {name} ({entry['definition_bytes']:,} B) | {entry['problems_shown']} |"
                f" {how.upper()} | {value['p50_ms']:.2f} / {value['p99_ms']:.2f} |"
                f" {value['request_bytes']:,} | {value['database_bytes_per_save']:,} |"
                f" {value['percent_of_definition']:.2f} |"
            )
    floors = [
        f"{name} {entry['request_floor']['p50_ms']:.2f} / {entry['request_floor']['p99_ms']:.2f}"
        for name, entry in section.items()
        if "request_floor" in entry
    ]
    if floors:
        lines += [
            "",
            "The request floor, measured between the PATCHes: an authenticated GET of"
            " the project (the token and the project read, nothing else), p50 / p99 ms: "
            + "; ".join(floors)
            + ".",
        ]
    return lines
