"""``make bench``: every workload on SQLite and PostgreSQL in one run.

Writes ``bench/results/latest.json`` and regenerates ``docs/performance.md``.
``--quick`` shrinks the counts for a CI-sized check (a minute or two). The
retention workload (1,000,000 rows) runs only with ``--only retention``; a
full run keeps its last result.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select, text

from bench import report, seed
from bench.engine import engine_section
from bench.harness import Server, postgres_available, running_server, summary, temporary_database
from bench.retention import retention_section
from bench.saves import saves_section
from bench.stats import stats_section
from bench.webhooks import webhooks_section
from bench.workloads import SIZES, definition, set_edit
from meshhook.api.deps import cursor_keys
from meshhook.domain import canonical
from meshhook.domain.accounts import Actor
from meshhook.domain.pagination import encode_cursor, sign_cursor
from meshhook.domain.validation import (
    completeness_problems,
    ensure_structurally_valid,
    normalize_definition,
)
from meshhook.domain.workflows import WorkflowFilter
from meshhook.heap import tune_gc
from meshhook.services import definitions, projects, versions, workflows
from meshhook.services.keys import provider_for
from meshhook.services.workflows import NewWorkflow
from meshhook.settings import Settings
from meshhook.store import deltas, migrate
from meshhook.store import users as user_store
from meshhook.store.db import Database, create_database
from meshhook.store.tables import projects as project_table
from meshhook.store.tables import workflow_versions
from meshhook.store.tables import workflows as workflow_table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
PROJECT = "default"
API = "/api/v1/projects/default/workflows"


class Counts:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.raw = 60 if quick else 300
        self.small = 40 if quick else 300  # 10 and 100 nodes
        self.large_saves = 60 if quick else 1_000  # 1,000 nodes over HTTP: also the storage run
        self.large = 40 if quick else 300
        self.huge = 8 if quick else 20  # 5,000 nodes
        self.depth = 1_000 if quick else 10_000
        self.depth_iterations = 40 if quick else 100
        self.scale_workflows = 10_000 if quick else 100_000
        self.scale_versions = 10
        self.pages = 40 if quick else 200
        self.writers = 16
        self.writer_saves = 5 if quick else 25
        self.bundle_workflows = 100 if quick else 1_000
        self.bundle_versions = 5
        self.leak_saves = 500 if quick else 10_000


# --- helpers --------------------------------------------------------------------------


def _admin(db: Database, server: Server) -> Actor:
    credentials = (server.home / "initial-credentials").read_text()
    email = next(
        line.split(":", 1)[1].strip()
        for line in credentials.splitlines()
        if line.startswith("email:")
    )
    with db.session(write=False) as session, session.begin():
        user = user_store.get_by_email(session, email)
    assert user is not None
    return Actor(user_id=user.id, label=user.email, is_admin=True)


def _cursor_signer(server: Server) -> Any:
    """Signs a hand-made page cursor as ``server`` does (it refuses unsigned ones)."""
    key = cursor_keys(provider_for(Settings(home=server.home)))[0]
    return lambda cursor: sign_cursor(cursor, key)


def _create_http(server: Server, client: Any, key: str, body: Any) -> int:
    response = client.post(
        API,
        content=orjson.dumps({"key": key, "name": key, "definition": body}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text[:500]
    return int(response.headers["etag"].strip('"'))


def _save_http(client: Any, key: str, body: bytes, head: int) -> Any:
    return client.put(
        f"{API}/{key}",
        content=body,
        headers={"Content-Type": "application/json", "If-Match": f'"{head}"'},
    )


def _http_save_load(
    server: Server, size: int, saves: int, loads: int, key: str
) -> tuple[dict[str, Any], dict[str, Any], int]:
    current = definition(size)
    with server.client() as client:
        head = _create_http(server, client, key, current)
        samples = []
        for step in range(saves + 3):
            set_edit(current, step)
            body = orjson.dumps({"definition": current})
            started = time.perf_counter()
            response = _save_http(client, key, body, head)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.text[:500]
            head = int(response.headers["etag"].strip('"'))
            if step >= 3:
                samples.append(elapsed)
        save = summary(samples)
        samples = []
        for step in range(loads + 3):
            started = time.perf_counter()
            response = client.get(f"{API}/{key}")
            elapsed = time.perf_counter() - started
            assert response.status_code == 200
            if step >= 3:
                samples.append(elapsed)
        load = summary(samples)
        load["bytes"] = len(response.content)
    return save, load, head


def _service_save_load(
    db: Database, actor: Actor, size: int, saves: int, loads: int, key: str, current: Any = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    if current is None:
        current = definition(size)
        workflows.create(db, actor, PROJECT, NewWorkflow(name=key, key=key), definition=current)
    head = workflows.get(db, actor, PROJECT, key).workflow.head_version
    samples = []
    for step in range(saves + 3):
        set_edit(current, 100_000 + step)
        started = time.perf_counter()
        saved = versions.save(db, actor, PROJECT, key, current, base_version=head)
        elapsed = time.perf_counter() - started
        head = saved.workflow.head_version
        if step >= 3:
            samples.append(elapsed)
    save = summary(samples)
    samples = []
    for step in range(loads + 3):
        started = time.perf_counter()
        workflows.get(db, actor, PROJECT, key)
        elapsed = time.perf_counter() - started
        if step >= 3:
            samples.append(elapsed)
    return save, summary(samples)


def _workflow_id(db: Database, key: str) -> uuid.UUID:
    with db.session(write=False) as session, session.begin():
        found: uuid.UUID = session.execute(
            select(workflow_table.c.id).where(
                workflow_table.c.key == key, workflow_table.c.deleted_at.is_(None)
            )
        ).scalar_one()
        return found


def _project_id(db: Database, key: str) -> uuid.UUID:
    with db.session(write=False) as session, session.begin():
        found: uuid.UUID = session.execute(
            select(project_table.c.id).where(project_table.c.key == key)
        ).scalar_one()
        return found


# --- workloads -----------------------------------------------------------------------


def raw_baseline(db: Database, data: bytes, iterations: int) -> dict[str, Any]:
    """Insert + commit, and select by primary key, of the same bytes, same driver and
    durability settings as the app: the physical limit of this design."""
    body = data.decode()
    with db.session() as session, session.begin():
        session.execute(text("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
        if db.is_postgres:
            session.execute(text("ALTER TABLE bench_raw ALTER COLUMN body SET COMPRESSION lz4"))
    insert_samples, select_samples = [], []
    for index in range(iterations + 3):
        started = time.perf_counter()
        with db.session() as session, session.begin():
            session.execute(
                text("INSERT INTO bench_raw (id, body) VALUES (:id, :body)"),
                {"id": index, "body": body},
            )
        if index >= 3:
            insert_samples.append(time.perf_counter() - started)
    for index in range(iterations + 3):
        started = time.perf_counter()
        with db.session(write=False) as session, session.begin():
            value = session.execute(
                text("SELECT body FROM bench_raw WHERE id = :id"), {"id": index % iterations}
            ).scalar_one()
            value.encode()
        if index >= 3:
            select_samples.append(time.perf_counter() - started)
    return {
        "bytes": len(data),
        "insert_commit": summary(insert_samples),
        "select": summary(select_samples),
    }


def components(size: int, iterations: int) -> dict[str, Any]:
    """Where the CPU of one save goes, step by step, for one definition size."""
    current = definition(size)
    body = orjson.dumps({"definition": current})
    old = canonical.canonical_bytes(normalize_definition(current))
    set_edit(current, 1)
    steps: dict[str, Any] = {}

    def time_it(name: str, action: Any) -> None:
        samples = []
        for _ in range(iterations):
            started = time.perf_counter()
            action()
            samples.append(time.perf_counter() - started)
        steps[name] = summary(samples)

    time_it("parse request body (orjson)", lambda: orjson.loads(body))
    time_it("stdlib json.dumps (reference)", lambda: __import__("json").dumps(current))
    time_it("structural validation", lambda: ensure_structurally_valid(current))
    normalised = normalize_definition(current)
    time_it("normalise", lambda: normalize_definition(current))
    time_it("canonical bytes (careful path)", lambda: canonical.canonical_bytes(normalised))
    # What a save runs: structural validation has found every scalar plain JSON
    # and computed the graph signature the graph checks are memoised by.
    check = ensure_structurally_valid(current)
    time_it(
        "canonical bytes (plain, as a save)",
        lambda: canonical.canonical_bytes(normalised, plain=check.plain),
    )
    new = canonical.canonical_bytes(normalised)
    time_it("sha256", lambda: hashlib.sha256(new).hexdigest())
    time_it(
        "completeness checks (graph memoised, as a save)",
        lambda: completeness_problems(normalised, graph=check.graph),
    )
    time_it("prepare: all of the above, as a save", lambda: definitions.prepare(current))
    time_it("diff + pack delta", lambda: deltas.pack_delta(deltas.diff_texts(old, new)))
    time_it("pack keyframe (zlib 1)", lambda: deltas.pack_keyframe(new))
    return {"bytes": len(new), "steps": steps}


def storage_growth(db: Database, key: str, size_bytes: int) -> dict[str, Any]:
    workflow_id = _workflow_id(db, key)
    with db.session(write=False) as session, session.begin():
        rows = session.execute(
            select(
                workflow_versions.c.number,
                workflow_versions.c.base_number,
                func.length(workflow_versions.c.content).label("stored"),
            ).where(workflow_versions.c.workflow_id == workflow_id)
        ).all()
    later = [row for row in rows if row.number > 1]
    added = sum(row.stored for row in later)
    return {
        "definition_bytes": size_bytes,
        "saves": len(later),
        "content_bytes_per_save": round(added / len(later), 1),
        "percent_of_definition": round(100 * added / len(later) / size_bytes, 3),
        "keyframes": sum(1 for row in later if row.base_number is None),
    }


def database_bytes(db: Database) -> int:
    with db.session(write=False) as session, session.begin():
        if db.is_postgres:
            return int(
                session.execute(
                    text(
                        "SELECT pg_total_relation_size('workflow_versions')"
                        " + pg_total_relation_size('workflow_heads')"
                    )
                ).scalar_one()
            )
        pages = session.execute(text("PRAGMA page_count")).scalar_one()
        free = session.execute(text("PRAGMA freelist_count")).scalar_one()
        size = session.execute(text("PRAGMA page_size")).scalar_one()
        return int((pages - free) * size)


def growth_after_vacuum(db: Database, actor: Actor, key: str, saves: int) -> int | None:
    """PostgreSQL: bytes per save of ``saves`` more saves once VACUUM has made the
    dead head rows of earlier saves reusable (what autovacuum reaches in steady state)."""
    if not db.is_postgres:
        return None
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM workflow_heads, workflow_versions"))
    before = database_bytes(db)
    detail = workflows.get(db, actor, PROJECT, key)
    current = orjson.loads(detail.definition)
    head = detail.workflow.head_version
    for step in range(saves):
        set_edit(current, 50_000 + step)
        head = versions.save(
            db, actor, PROJECT, key, current, base_version=head
        ).workflow.head_version
    return round((database_bytes(db) - before) / saves)


def history_depth(db: Database, actor: Actor, server: Server, counts: Counts) -> dict[str, Any]:
    """Load and save at depth 1 and at depth N of the same 1,000-node workflow.

    Both workflows are set up first and then measured in alternation, request by
    request, so the ratio compares depths under the same machine conditions
    rather than whatever else was running during one half of the section."""
    project_id = _project_id(db, PROJECT)
    depths = (1, counts.depth)
    current: dict[int, Any] = {}
    seeded: dict[int, float] = {}
    for depth in depths:
        key = f"depth-{depth}"
        current[depth] = definition(1_000)
        workflows.create(
            db, actor, PROJECT, NewWorkflow(name=key, key=key), definition=current[depth]
        )
        started = time.perf_counter()
        if depth > 1:
            current[depth] = seed.seed_history(
                db, project_id, _workflow_id(db, key), current[depth], depth
            )
        seeded[depth] = time.perf_counter() - started
    samples: dict[int, dict[str, list[float]]] = {
        depth: {"load": [], "save": [], "middle": [], "page": []} for depth in depths
    }
    heads = {depth: depth for depth in depths}

    def timed(depth: int, what: str, request: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        response = request(*args, **kwargs)
        samples[depth][what].append(time.perf_counter() - started)
        assert response.status_code == 200, response.text[:300]
        return response

    sign = _cursor_signer(server)
    with server.client() as client:
        for step in range(counts.depth_iterations):
            for depth in depths:
                key = f"depth-{depth}"
                timed(depth, "load", client.get, f"{API}/{key}")
                set_edit(current[depth], 500_000 + step)
                body = orjson.dumps({"definition": current[depth]})
                saved = timed(depth, "save", _save_http, client, key, body, heads[depth])
                heads[depth] = int(saved.headers["etag"].strip('"'))
        for _ in range(counts.depth_iterations):
            for depth in depths:
                key = f"depth-{depth}"
                middle = max(1, depth // 2)
                timed(depth, "middle", client.get, f"{API}/{key}/versions/{middle}")
                cursor = sign(encode_cursor([heads[depth] // 2]))
                timed(depth, "page", client.get, f"{API}/{key}/versions", params={"cursor": cursor})
    results: dict[str, Any] = {}
    for depth in depths:
        key = f"depth-{depth}"
        service_save, service_load = _service_save_load(
            db,
            actor,
            1_000,
            counts.depth_iterations,
            counts.depth_iterations,
            key,
            current[depth],
        )
        results[str(depth)] = {
            "seed_seconds": round(seeded[depth], 1),
            "http_load_head": summary(samples[depth]["load"]),
            "http_save": summary(samples[depth]["save"]),
            "http_load_middle_version": summary(samples[depth]["middle"]),
            "http_history_page_middle": summary(samples[depth]["page"]),
            "service_save": service_save,
            "service_load_head": service_load,
        }
    return results


def scale(db: Database, actor: Actor, server: Server, counts: Counts) -> dict[str, Any]:
    """List and history pages in a project of N workflows and 10 N versions."""
    projects.create_project(db, Actor.cli(), "scale", "Scale", owner_email=actor.label)
    project_id = _project_id(db, "scale")
    started = time.perf_counter()
    seed.seed_scale(db, project_id, counts.scale_workflows, counts.scale_versions)
    seeded = time.perf_counter() - started
    middle = counts.scale_workflows // 2
    middle_id = uuid.UUID(int=(middle + 1) << 16 | 0xBEEF)
    middle_when = datetime(2025, 1, 1, tzinfo=UTC).timestamp() + 37 * middle
    when = datetime.fromtimestamp(middle_when, UTC).isoformat()
    word = ("orders", "billing", "crm", "sync", "alerts", "refunds", "invoices", "shipping")
    name = f"{word[middle % 8].title()} flow {middle:06d}"
    sign = _cursor_signer(server)
    cases = {
        "list first page (-updated_at)": {},
        "list deep page (-updated_at, cursor)": {
            "cursor": sign(encode_cursor(["-updated_at", when, str(middle_id)]))
        },
        "list deep page (name, cursor)": {
            "sort": "name",
            "cursor": sign(encode_cursor(["name", name, str(middle_id)])),
        },
        "list deep page (created_at, cursor)": {
            "sort": "created_at",
            "cursor": sign(encode_cursor(["created_at", when, str(middle_id)])),
        },
        "search q (rare match)": {"q": f"flow {middle:06d}"},
        "search q (common word)": {"q": "billing"},
    }
    base = "/api/v1/projects/scale/workflows"
    results: dict[str, Any] = {
        "workflows": counts.scale_workflows,
        "seed_seconds": round(seeded, 1),
    }
    with server.client() as client:
        results["versions"] = counts.scale_workflows * counts.scale_versions
        for label, params in cases.items():
            samples = []
            for index in range(counts.pages + 3):
                started = time.perf_counter()
                response = client.get(base, params={"limit": 50, **params})
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text[:300]
                if index >= 3:
                    samples.append(elapsed)
            results[f"http {label}"] = summary(samples)
            results[f"http {label}"]["items"] = len(response.json()["items"])
        samples = []
        for index in range(counts.pages + 3):
            key = f"seed-{(index * 7919) % counts.scale_workflows:06d}"
            started = time.perf_counter()
            response = client.get(f"{base}/{key}/versions", params={"limit": 50})
            elapsed = time.perf_counter() - started
            assert response.status_code == 200
            if index >= 3:
                samples.append(elapsed)
        results["http history page"] = summary(samples)
    samples = []
    for index in range(counts.pages + 3):
        started = time.perf_counter()
        workflows.list_workflows(
            db,
            actor,
            "scale",
            WorkflowFilter(),
            limit=50,
            cursor=encode_cursor(["-updated_at", when, str(middle_id)]),
        )
        elapsed = time.perf_counter() - started
        if index >= 3:
            samples.append(elapsed)
    results["service list deep page (-updated_at, cursor)"] = summary(samples)
    samples = []
    for index in range(counts.pages + 3):
        key = f"seed-{(index * 7919) % counts.scale_workflows:06d}"
        started = time.perf_counter()
        versions.history(db, actor, "scale", key, limit=50, cursor=None)
        elapsed = time.perf_counter() - started
        if index >= 3:
            samples.append(elapsed)
    results["service history page"] = summary(samples)
    return results


def concurrency(server: Server, counts: Counts) -> dict[str, Any]:
    """16 clients saving different workflows; then 16 clients on one hot workflow."""
    size = 100
    keys = [f"conc-{index}" for index in range(counts.writers)]
    bases = {}
    with server.client() as client:
        for key in keys:
            _create_http(server, client, key, definition(size))
            bases[key] = definition(size)
    barrier = threading.Barrier(counts.writers)
    errors: list[str] = []

    def writer(key: str) -> None:
        current = bases[key]
        head = 1
        with server.client() as client:
            barrier.wait()
            for step in range(counts.writer_saves):
                set_edit(current, step)
                response = _save_http(client, key, orjson.dumps({"definition": current}), head)
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text[:200]}")
                    return
                head = int(response.headers["etag"].strip('"'))

    threads = [threading.Thread(target=writer, args=(key,)) for key in keys]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    saves = counts.writers * counts.writer_saves
    result: dict[str, Any] = {
        "different_workflows": {
            "clients": counts.writers,
            "nodes": size,
            "saves": saves,
            "seconds": round(elapsed, 2),
            "saves_per_second": round(saves / elapsed, 1),
            "errors": errors[:5],
        }
    }
    result["hot_workflow_own_nodes"] = _hot(server, counts, shared=False)
    result["hot_workflow_shared_nodes"] = _hot(server, counts, shared=True)
    return result


def _hot(server: Server, counts: Counts, *, shared: bool) -> dict[str, Any]:
    """Each client edits one node of the same workflow, reading the head first.

    ``shared``: clients edit nodes in pairs, so overlapping saves must be refused."""
    key = f"hot-{'shared' if shared else 'own'}"
    base = definition(100)
    with server.client() as client:
        _create_http(server, client, key, base)
    outcomes: Counter[str] = Counter()
    accepted: dict[int, list[int]] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(counts.writers)

    def writer(index: int) -> None:
        node = 1 + (index // 2 if shared else index)
        with server.client() as client:
            barrier.wait()
            for step in range(counts.writer_saves):
                response = client.get(f"{API}/{key}")
                head = int(response.headers["etag"].strip('"'))
                mine = orjson.loads(response.content)["definition"]
                target = mine["nodes"][node]
                target["name"] = f"client {index} step {step}"
                saved = _save_http(client, key, orjson.dumps({"definition": mine}), head)
                with lock:
                    if saved.status_code == 200:
                        outcome = "merged" if saved.json()["merged"] else "saved"
                        accepted.setdefault(node, []).append(index * 1000 + step)
                    else:
                        outcome = str(saved.status_code)
                    outcomes[outcome] += 1

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(counts.writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with server.client() as client:
        final = client.get(f"{API}/{key}")
        head = int(final.headers["etag"].strip('"'))
        nodes = orjson.loads(final.content)["definition"]["nodes"]
    attempts = sum(outcomes.values())
    accepted_count = outcomes["saved"] + outcomes["merged"]
    lost = 0
    if not shared:
        # Each node has one writer: its last accepted name must be the one stored.
        for node, values in accepted.items():
            last = max(values)
            expected = f"client {last // 1000} step {last % 1000}"
            lost += nodes[node]["name"] != expected
    return {
        "clients": counts.writers,
        "attempts": attempts,
        "outcomes": dict(outcomes),
        "merge_rate": round(outcomes["merged"] / attempts, 3),
        "conflict_409_rate": round(outcomes["409"] / attempts, 3),
        "versions_created": head - 1,
        "gapless": head - 1 == accepted_count,
        "lost_updates": lost,
    }


def build_bundle(db: Database, actor: Actor, counts: Counts) -> bytes | None:
    try:
        from meshhook.services import bundles
    except ImportError:
        return None
    projects.create_project(db, Actor.cli(), "bundle-src", "Bundle source", owner_email=actor.label)
    for index in range(counts.bundle_workflows):
        key = f"b-{index:05d}"
        current = definition(10, seed=index)
        workflows.create(
            db, actor, "bundle-src", NewWorkflow(name=key, key=key), definition=current
        )
        for number in range(1, counts.bundle_versions):
            versions.publish(db, actor, "bundle-src", key, version=number)
            set_edit(current, number)
            versions.save(db, actor, "bundle-src", key, current, base_version=number)
    exported: bytes = bundles.export_bundle(db, actor, "bundle-src").data
    return exported


def bundle_import(db: Database, actor: Actor, server: Server, data: bytes) -> dict[str, Any]:
    from meshhook.services import bundles

    projects.create_project(db, Actor.cli(), "bundle-svc", "Service", owner_email=actor.label)
    projects.create_project(db, Actor.cli(), "bundle-http", "HTTP", owner_email=actor.label)
    started = time.perf_counter()
    bundles.import_bundle(db, actor, "bundle-svc", data)
    service_seconds = time.perf_counter() - started
    with server.client() as client:
        started = time.perf_counter()
        response = client.post(
            "/api/v1/projects/bundle-http/import",
            content=data,
            headers={"Content-Type": "application/json"},
        )
        http_seconds = time.perf_counter() - started
    return {
        "bundle_bytes": len(data),
        "service_seconds": round(service_seconds, 2),
        "http_seconds": round(http_seconds, 2),
        "http_status": response.status_code,
    }


_LEAK_NODES = 10


def memory_over_saves(server: Server, saves: int) -> dict[str, Any]:
    key = "leak"
    current = definition(_LEAK_NODES)
    samples = []
    with server.client() as client:
        head = _create_http(server, client, key, current)
        for step in range(saves):
            set_edit(current, step)
            response = _save_http(client, key, orjson.dumps({"definition": current}), head)
            assert response.status_code == 200
            head = int(response.headers["etag"].strip('"'))
            if step % max(1, saves // 10) == 0 or step == saves - 1:
                samples.append({"saves": step + 1, "rss_mb": server.status()["VmRSS"] // 1024})
    return {"saves": saves, "nodes": _LEAK_NODES, "rss_samples": samples}


def idle_cpu(server: Server, seconds: float = 5.0) -> dict[str, Any]:
    before = server.cpu_seconds()
    time.sleep(seconds)
    used = server.cpu_seconds() - before
    return {
        "seconds": seconds,
        "cpu_seconds": round(used, 3),
        "percent": round(100 * used / seconds, 2),
    }


class _Laps:
    """Seconds per section and, once a server runs, its memory after each one
    (so a peak can be traced to the section that caused it)."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.laps: dict[str, float] = {}
        self.server: Server | None = None
        self.memory: dict[str, dict[str, int]] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 1)
        self.last = now
        if self.server is not None:
            status = self.server.status()
            self.memory[name] = {
                "rss_mb": status["VmRSS"] // 1024,
                "peak_mb": status["VmHWM"] // 1024,
            }
        print(f"  {name}: {self.laps[name]} s", flush=True)


def run_dialect(
    dialect: str, counts: Counts, workdir: Path, bundle: bytes | None
) -> tuple[dict[str, Any], bytes | None]:
    results: dict[str, Any] = {}
    timer = _Laps()
    workdir.mkdir(parents=True, exist_ok=True)
    with temporary_database(dialect, workdir) as url:
        migrate.upgrade(url)
        db = create_database(url)
        try:
            large = canonical.canonical_bytes(definition(1_000))
            print(f"[{dialect}] raw baseline", flush=True)
            results["raw_baseline_1000"] = raw_baseline(db, large, counts.raw)
            with running_server(url, workdir / f"home-{dialect}") as server:
                time.sleep(1)
                timer.server = server
                results["memory"] = {"idle_start_mb": server.status()["VmRSS"] // 1024}
                results["idle_cpu"] = idle_cpu(server)
                actor = _admin(db, server)
                results["sizes"] = {}
                for size in SIZES:
                    print(f"[{dialect}] save/load {size} nodes", flush=True)
                    if size == 1_000:
                        saves, loads = counts.large_saves, counts.large
                    elif size == 5_000:
                        saves = loads = counts.huge
                    else:
                        saves = loads = counts.small
                    before = database_bytes(db) if size == 1_000 else 0
                    http_save, http_load, _ = _http_save_load(
                        server, size, saves, loads, f"http-{size}"
                    )
                    entry: dict[str, Any] = {"http_save": http_save, "http_load": http_load}
                    if size == 1_000:
                        entry["storage"] = storage_growth(db, "http-1000", len(large))
                        grown = database_bytes(db) - before
                        entry["storage"]["database_bytes_per_save"] = round(grown / (saves + 3))
                        entry["storage"]["database_bytes_per_save_after_vacuum"] = (
                            growth_after_vacuum(db, actor, "http-1000", min(saves, 200))
                        )
                    service_save, service_load = _service_save_load(
                        db, actor, size, min(saves, loads), loads, f"svc-{size}"
                    )
                    entry["service_save"] = service_save
                    entry["service_load"] = service_load
                    results["sizes"][str(size)] = entry
                    timer.lap(f"sizes {size}")
                print(f"[{dialect}] saves (PUT and PATCH, valid and draft)", flush=True)
                results["saves"] = saves_section(server, db, quick=counts.quick)
                timer.lap("saves")
                print(f"[{dialect}] history depth", flush=True)
                results["history_depth"] = history_depth(db, actor, server, counts)
                timer.lap("history_depth")
                print(f"[{dialect}] concurrency", flush=True)
                results["concurrency"] = concurrency(server, counts)
                timer.lap("concurrency")
                print(f"[{dialect}] list/history at scale", flush=True)
                results["scale"] = scale(db, actor, server, counts)
                timer.lap("scale")
                print(f"[{dialect}] bundle import", flush=True)
                if bundle is None:
                    bundle = build_bundle(db, actor, counts)
                    timer.lap("bundle_build")
                results["bundle_import"] = (
                    bundle_import(db, actor, server, bundle) if bundle else {"pending": True}
                )
                timer.lap("bundle_import")
                print(f"[{dialect}] memory over saves", flush=True)
                leak = counts.leak_saves if dialect == "sqlite" else counts.leak_saves // 5
                results["memory_over_saves"] = memory_over_saves(server, leak)
                timer.lap("memory_over_saves")
                print(f"[{dialect}] run engine", flush=True)
                results["engine"] = engine_section(server, db, quick=counts.quick)
                timer.lap("engine")
                results["section_seconds"] = timer.laps
                results["memory"]["by_section"] = timer.memory
                status = server.status()
                results["memory"]["now_mb"] = status["VmRSS"] // 1024
                results["memory"]["peak_mb"] = status["VmHWM"] // 1024
                time.sleep(2)
                results["idle_cpu_after"] = idle_cpu(server)
        finally:
            db.dispose()
    return results, bundle


def run_one_section(name: str, dialect: str, workdir: Path, *, quick: bool) -> dict[str, Any]:
    """Only section ``name`` (engine, saves), on a fresh database and server."""
    section = {"engine": engine_section, "saves": saves_section}[name]
    workdir.mkdir(parents=True, exist_ok=True)
    with temporary_database(dialect, workdir) as url:
        migrate.upgrade(url)
        db = create_database(url)
        try:
            with running_server(url, workdir / f"home-{dialect}") as server:
                return section(server, db, quick=quick)
        finally:
            db.dispose()


def run_webhooks_only(dialect: str, workdir: Path, *, quick: bool) -> dict[str, Any]:
    """Only the webhook section, on a fresh database and a server without workers."""
    workdir.mkdir(parents=True, exist_ok=True)
    with temporary_database(dialect, workdir) as url:
        migrate.upgrade(url)
        home = workdir / f"home-{dialect}"
        with running_server(url, home, {"MESHHOOK_WORKERS": "0"}) as server:
            return webhooks_section(server, quick=quick)


def merge_section(args: argparse.Namespace, name: str, section: Any) -> None:
    """Measure one section on each dialect and merge it into ``--output``."""
    kept = orjson.loads(args.output.read_bytes()) if args.output.exists() else {"dialects": {}}
    with tempfile.TemporaryDirectory(prefix="meshhook-bench-") as workdir:
        for dialect in args.dialect or ["sqlite", "postgresql"]:
            if dialect == "postgresql" and not postgres_available():
                continue
            print(f"[{dialect}] {name}", flush=True)
            entry = kept["dialects"].setdefault(dialect, {})
            entry[name] = section(dialect, Path(workdir) / dialect, quick=args.quick)
    kept[f"{name}_date"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(kept, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    if not args.no_docs:
        report.write(kept, ROOT / "docs" / "performance.md")
    print(
        orjson.dumps(
            {d: v.get(name) for d, v in kept["dialects"].items()}, option=orjson.OPT_INDENT_2
        ).decode()
    )


# ``--only NAME``: each measures one section on a fresh database of a dialect.
ONLY: dict[str, Any] = {
    "engine": partial(run_one_section, "engine"),
    "retention": retention_section,
    "saves": partial(run_one_section, "saves"),
    "stats": stats_section,
    "webhooks": run_webhooks_only,
}


# Measured by a full run after the main workloads, each on a fresh database.
SEPARATE = ("webhooks", "stats")
# Measured only by ``--only`` (retention deletes from 1,000,000 rows: ~9 minutes);
# a full run keeps the last result, with its date.
KEPT = ("retention",)


def keep_previous(output: dict[str, Any], path: Path) -> None:
    """Carry the :data:`KEPT` sections of the results at ``path`` into ``output``."""
    if not path.exists():
        return
    previous = orjson.loads(path.read_bytes())
    for name in KEPT:
        for dialect, results in output["dialects"].items():
            section = previous.get("dialects", {}).get(dialect, {}).get(name)
            if section is not None and "skipped" not in results:
                results[name] = section
        if f"{name}_date" in previous:
            output[f"{name}_date"] = previous[f"{name}_date"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts (CI-sized)")
    parser.add_argument("--dialect", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: rewrite docs/performance.md from --output and bench/notes.md",
    )
    parser.add_argument(
        "--only",
        choices=sorted(ONLY),
        help="measure one section and merge it into --output (the rest is kept)",
    )
    args = parser.parse_args()
    # What runs in this process (the service-layer timings, the retention and
    # stats workloads) gets the collector policy of `meshhook serve`, so it
    # measures the server's code as it runs there (and the HTTP client's own
    # pauses do not pass for server latency).
    tune_gc()
    if args.only:
        merge_section(args, args.only, ONLY[args.only])
        return
    if args.report_only:
        report.write(orjson.loads(args.output.read_bytes()), ROOT / "docs" / "performance.md")
        return
    counts = Counts(args.quick)
    dialects = args.dialect or ["sqlite", "postgresql"]
    started = time.perf_counter()
    output: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": report.machine(),
        "python": platform.python_version(),
        "components": {str(size): components(size, 10 if args.quick else 40) for size in (1_000,)},
        "dialects": {},
    }
    bundle: bytes | None = None
    with tempfile.TemporaryDirectory(prefix="meshhook-bench-") as workdir:
        for dialect in dialects:
            if dialect == "postgresql" and not postgres_available():
                output["dialects"][dialect] = {"skipped": "PostgreSQL not reachable"}
                continue
            output["dialects"][dialect], bundle = run_dialect(
                dialect, counts, Path(workdir) / dialect, bundle
            )
        # The workloads that need a database (or a server) of their own.
        for name in SEPARATE:
            for dialect in dialects:
                if "skipped" in output["dialects"][dialect]:
                    continue
                print(f"[{dialect}] {name}", flush=True)
                output["dialects"][dialect][name] = ONLY[name](
                    dialect, Path(workdir) / f"{dialect}-{name}", quick=args.quick
                )
    output["seconds"] = round(time.perf_counter() - started, 1)
    if not args.quick:
        keep_previous(output, args.output)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(output, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    if not args.no_docs:
        report.write(output, ROOT / "docs" / "performance.md")
    print(report.verdicts_text(output))
    print(f"done in {output['seconds']} s; results in {args.output}")


if __name__ == "__main__":
    main()
