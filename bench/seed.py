"""Bulk seeding straight into the database (not through the API): deep
histories and a project of 100,000 workflows with 1,000,000 versions.

Rows are valid: contents are packed by ``store/version_content.py`` exactly
as the application packs them, so every seeded version loads.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import insert, update

from bench.workloads import set_edit
from meshhook.domain.canonical import canonical_bytes
from meshhook.store import version_content
from meshhook.store.db import Database
from meshhook.store.tables import workflow_heads, workflow_versions, workflows

_BATCH = 500
_WORDS = ("orders", "billing", "crm", "sync", "alerts", "refunds", "invoices", "shipping")


def _hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def seed_history(
    db: Database, project_id: uuid.UUID, workflow_id: uuid.UUID, definition: Any, depth: int
) -> Any:
    """Versions 2..depth of one-node edits on top of version 1; returns the head definition."""
    current = copy.deepcopy(definition)
    now = datetime.now(UTC)
    with db.session() as session, session.begin():
        head = version_content.current_head(session, project_id, workflow_id)
        assert head is not None
        assert head.number == 1
        rows: list[dict[str, Any]] = []
        for number in range(2, depth + 1):
            set_edit(current, number)
            text = canonical_bytes(current)
            packed, new_head = version_content.pack(head, number, text)
            head = new_head or head
            rows.append(
                {
                    "workflow_id": workflow_id,
                    "number": number,
                    "project_id": project_id,
                    "content": packed.content,
                    "base_number": packed.base_number,
                    "keyframe": packed.keyframe,
                    "content_hash": _hash(text),
                    "parent_number": number - 1,
                    "message": f"edit {number}",
                    "state": "draft",
                    "created_at": now,
                    "created_by": "bench",
                }
            )
            if len(rows) == _BATCH:
                session.execute(insert(workflow_versions), rows)
                rows = []
        if rows:
            session.execute(insert(workflow_versions), rows)
        session.execute(
            update(workflow_heads)
            .where(workflow_heads.c.workflow_id == workflow_id)
            .values(
                number=head.number,
                keyframe=head.keyframe,
                chain_length=head.chain_length,
                chain_bytes=head.chain_bytes,
                definition=head.text.decode(),
            )
        )
        session.execute(
            update(workflows).where(workflows.c.id == workflow_id).values(head_version=depth)
        )
    return current


Chain = list[tuple[bytes, int | None, int, str]]


def _tiny_chain(versions: int) -> tuple[Chain, bytes]:
    """Packed contents of a small workflow's versions 1..n (shared by every seeded one)."""
    definition: dict[str, Any] = {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}, "position": {"x": 0, "y": 0}},
            {
                "id": "shape",
                "type": "transform",
                "name": "Shape",
                "config": {"expression": "{id: id}"},
                "position": {"x": 200, "y": 0},
            },
        ],
        "edges": [{"from": "start", "to": "shape"}],
        "settings": {},
    }
    chain: Chain = []
    head = None
    text = b""
    for number in range(1, versions + 1):
        definition["nodes"][1]["config"]["expression"] = f"{{id: id, v: `{number}`}}"
        text = canonical_bytes(definition)
        packed, new_head = version_content.pack(head, number, text)
        head = new_head or head
        chain.append((packed.content, packed.base_number, packed.keyframe, _hash(text)))
    return chain, text


def seed_scale(db: Database, project_id: uuid.UUID, count: int, versions_each: int) -> None:
    """``count`` workflows with ``versions_each`` versions each, in one project."""
    chain, head_text = _tiny_chain(versions_each)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    workflow_rows = []
    for index in range(count):
        when = start + timedelta(seconds=37 * index)
        word = _WORDS[index % len(_WORDS)]
        workflow_rows.append(
            (
                uuid.UUID(int=(index + 1) << 16 | 0xBEEF),
                f"seed-{index:06d}",
                f"{word.title()} flow {index:06d}",
                f"Seeded {word} workflow",
                when,
            )
        )
    if db.is_postgres:
        _copy_postgres(db, project_id, workflow_rows, chain, head_text)
    else:
        _insert_sqlite(db, project_id, workflow_rows, chain, head_text)


def _insert_sqlite(
    db: Database,
    project_id: uuid.UUID,
    rows: list[tuple[uuid.UUID, str, str, str, datetime]],
    chain: Chain,
    head_text: bytes,
) -> None:
    def stamp(value: datetime) -> str:
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    project = project_id.hex
    head = len(chain)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(
            "INSERT INTO workflows (id, project_id, key, name, description, tags, is_template,"
            " head_version, published_version, created_at, created_by, updated_at, updated_by)"
            " VALUES (?, ?, ?, ?, ?, '[]', 0, ?, NULL, ?, 'bench', ?, 'bench')",
            (
                (w.hex, project, key, name, about, head, stamp(when), stamp(when))
                for w, key, name, about, when in rows
            ),
        )
        cursor.executemany(
            "INSERT INTO workflow_versions (workflow_id, number, project_id, content, base_number,"
            " keyframe, content_hash, parent_number, message, state, created_at,"
            " created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', 'draft', ?, 'bench')",
            (
                (w.hex, n, project, content, base, keyframe, digest, n - 1 or None, stamp(when))
                for w, _key, _name, _about, when in rows
                for n, (content, base, keyframe, digest) in enumerate(chain, 1)
            ),
        )
        text = head_text.decode()
        cursor.executemany(
            "INSERT INTO workflow_heads (workflow_id, project_id, number, keyframe, chain_length,"
            " chain_bytes, definition) VALUES (?, ?, ?, ?, 0, 0, ?)",
            ((w.hex, project, head, chain[-1][2], text) for w, *_rest in rows),
        )
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
    finally:
        raw.close()


def _copy_postgres(
    db: Database,
    project_id: uuid.UUID,
    rows: list[tuple[uuid.UUID, str, str, str, datetime]],
    chain: Chain,
    head_text: bytes,
) -> None:
    head = len(chain)
    tags = orjson.dumps([]).decode()
    raw = db.engine.raw_connection()
    try:
        connection: Any = raw.driver_connection
        with connection.cursor() as cursor:
            with cursor.copy(
                "COPY workflows (id, project_id, key, name, description, tags, is_template,"
                " head_version, created_at, created_by, updated_at, updated_by) FROM STDIN"
            ) as copy_in:
                for w, key, name, about, when in rows:
                    copy_in.write_row(
                        (
                            w,
                            project_id,
                            key,
                            name,
                            about,
                            tags,
                            False,
                            head,
                            when,
                            "bench",
                            when,
                            "bench",
                        )
                    )
            with cursor.copy(
                "COPY workflow_versions (workflow_id, number, project_id, content, base_number,"
                " keyframe, content_hash, parent_number, message, state, created_at,"
                " created_by) FROM STDIN"
            ) as copy_in:
                for w, _key, _name, _about, when in rows:
                    for n, (content, base, keyframe, digest) in enumerate(chain, 1):
                        copy_in.write_row(
                            (
                                w,
                                n,
                                project_id,
                                content,
                                base,
                                keyframe,
                                digest,
                                n - 1 or None,
                                "",
                                "draft",
                                when,
                                "bench",
                            )
                        )
            text = head_text.decode()
            with cursor.copy(
                "COPY workflow_heads (workflow_id, project_id, number, keyframe, chain_length,"
                " chain_bytes, definition) FROM STDIN"
            ) as copy_in:
                for w, *_rest in rows:
                    copy_in.write_row((w, project_id, head, chain[-1][2], 0, 0, text))
        connection.commit()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE workflows")
            cursor.execute("VACUUM ANALYZE workflow_versions")
            cursor.execute("VACUUM ANALYZE workflow_heads")
            # The search side table of migration 0006: VACUUM also merges the GIN
            # index's pending list, as autovacuum would in time.
            cursor.execute("VACUUM ANALYZE workflow_search")
        connection.autocommit = False
    finally:
        raw.close()
