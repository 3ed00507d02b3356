"""Version storage on both databases: every version of a random edit history
loads byte for byte, and history grows with the change, not the workflow."""

from __future__ import annotations

import copy
import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from bench.workloads import definition, set_edit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meshhook.domain.accounts import Role
from meshhook.domain.canonical import canonical_bytes, content_hash
from meshhook.services import versions, workflows
from meshhook.services.transactions import project_transaction
from meshhook.services.workflows import NewWorkflow
from meshhook.store import migrate, version_content
from meshhook.store.db import Database
from meshhook.store.tables import workflow_heads, workflow_versions
from meshhook.store.tables import workflows as workflow_rows
from meshhook.store.versions import Rewrite, VersionStore
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.factories import Member
from tests.unit.domain.strategies import definitions, edited


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """A first definition, then saves of edited definitions, reverts and no-op saves."""
    current = draw(definitions(max_nodes=10))
    steps: list[tuple[str, Any]] = [("create", current)]
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["save", "save", "save", "revert", "same"]))
        if kind == "save":
            current = draw(edited(current))
            steps.append(("save", current))
        elif kind == "revert":
            steps.append(("revert", draw(st.integers(1, 100))))
        else:
            steps.append(("same", current))
    return steps


def _play(
    db: Database, owner: Member, steps: list[tuple[str, Any]]
) -> tuple[str, dict[int, bytes]]:
    """Apply ``steps``; the workflow key and the bytes each version was saved with."""
    key = f"w-{uuid.uuid4().hex[:12]}"
    expected: dict[int, bytes] = {}
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name=key, key=key), definition=steps[0][1]
    )
    expected[1] = created.definition
    head = 1
    for kind, value in steps[1:]:
        if kind == "revert":
            target = 1 + value % head
            saved = versions.revert(db, owner.actor, "alpha", key, target)
            assert saved.definition == expected[target]
        else:
            saved = versions.save(db, owner.actor, "alpha", key, value, base_version=head)
        head = saved.workflow.head_version
        expected.setdefault(head, saved.definition)
    return key, expected


@pytest.mark.parametrize("chain", [3, version_content.MAX_CHAIN_LENGTH])
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=histories())
def test_every_version_of_a_random_history_loads_byte_exact(
    db: Database, owner: Member, monkeypatch: pytest.MonkeyPatch, chain: int, steps: Any
) -> None:
    monkeypatch.setattr(version_content, "MAX_CHAIN_LENGTH", chain)
    key, saved = _play(db, owner, steps)
    for number, text in saved.items():
        loaded = versions.get_version(db, owner.actor, "alpha", key, number)
        assert loaded.definition == text, number
        assert loaded.info.content_hash == content_hash(text)


def test_versions_written_with_gaps_and_out_of_order_load_byte_exact(
    db: Database, owner: Member
) -> None:
    base = definition(30)
    created = workflows.create(db, owner.actor, "alpha", NewWorkflow(name="Gaps"), definition=base)
    texts = {1: created.definition}
    with project_transaction(db, owner.actor, "alpha", Role.OWNER) as scope:
        for step, number in enumerate([4, 9, 2]):  # 2 comes after the head 9
            changed = copy.deepcopy(base)
            set_edit(changed, step)
            texts[number] = canonical_bytes(changed)
            first = scope.versions.get_info(created.workflow.id, 1)
            assert first is not None
            info = dataclasses.replace(
                first, number=number, content_hash=content_hash(texts[number])
            )
            scope.versions.insert(info, texts[number])
    with project_transaction(db, owner.actor, "alpha", Role.OWNER) as scope:
        for number, text in texts.items():
            version = scope.versions.get(created.workflow.id, number)
            assert version is not None
            assert version.definition == text, number
        head = scope.session.execute(
            select(workflow_heads.c.number).where(
                workflow_heads.c.workflow_id == created.workflow.id
            )
        ).scalar_one()
    assert head == 9


def test_a_transaction_over_many_workflows_keeps_few_heads_and_loads_byte_exact(
    db: Database, owner: Member
) -> None:
    """A transaction that writes more workflows than it keeps heads of (a bundle
    import) reads an evicted head again, with its own writes: saving on top of
    it after the others still stores every version byte for byte."""
    base = definition(20)
    count = version_content._HEADS_KEPT + 4
    created = [
        workflows.create(db, owner.actor, "alpha", NewWorkflow(name=f"H{i}"), definition=base)
        for i in range(count)
    ]
    texts: dict[tuple[uuid.UUID, int], bytes] = {}
    with project_transaction(db, owner.actor, "alpha", Role.OWNER) as scope:
        for round_ in range(2):  # the second round finds every first-round head evicted
            for index, item in enumerate(created):
                workflow_id = item.workflow.id
                changed = copy.deepcopy(base)
                set_edit(changed, 100 * round_ + index)
                number = 2 + round_
                texts[workflow_id, number] = canonical_bytes(changed)
                first = scope.versions.get_info(workflow_id, 1)
                assert first is not None
                info = dataclasses.replace(
                    first,
                    number=number,
                    parent_number=number - 1,
                    content_hash=content_hash(texts[workflow_id, number]),
                )
                scope.versions.insert(info, texts[workflow_id, number])
                kept = version_content._cache(scope.session)
                assert len(kept) <= version_content._HEADS_KEPT
    with project_transaction(db, owner.actor, "alpha", Role.OWNER) as scope:
        for (workflow_id, number), text in texts.items():
            version = scope.versions.get(workflow_id, number)
            assert version is not None
            assert version.definition == text, (workflow_id, number)


def test_a_one_node_edit_adds_at_most_five_percent_of_the_definition(
    db: Database, owner: Member
) -> None:
    current = definition(200)
    size = len(canonical_bytes(current))
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name="Growth"), definition=current
    )
    edits = 2 * version_content.MAX_CHAIN_LENGTH + 2  # crosses two keyframes
    for step in range(edits):
        set_edit(current, step)
        versions.save(db, owner.actor, "alpha", "growth", current, base_version=step + 1)
    with project_transaction(db, owner.actor, "alpha", Role.OWNER) as scope:
        rows = scope.session.execute(
            select(
                workflow_versions.c.number,
                func.length(workflow_versions.c.content).label("stored"),
            ).where(workflow_versions.c.workflow_id == created.workflow.id)
        ).all()
    assert len(rows) == edits + 1
    added = sum(row.stored for row in rows if row.number > 1)
    assert added / edits <= 0.05 * size, (added / edits, size)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips or fails without PostgreSQL
    url = create_postgres_database("meshhook_migration")
    yield url
    drop_postgres_database(url)


def _old_rows(connection: Any, versions_per_workflow: list[int]) -> dict[tuple[Any, int], str]:
    """Workflows stored the 0003 way: a full copy of the definition per version."""
    now = datetime.now(UTC)
    project_id = uuid.uuid4()
    connection.execute(
        sa.text(
            "INSERT INTO projects (id, key, name, created_at) VALUES (:id, 'old', 'Old', :now)"
        ).bindparams(id=project_id, now=now)
    )
    texts: dict[tuple[Any, int], str] = {}
    for index, count in enumerate(versions_per_workflow):
        workflow_id = uuid.uuid4()
        connection.execute(
            sa.text(
                "INSERT INTO workflows (id, project_id, key, name, description, tags,"
                " is_template, head_version, created_at, created_by, updated_at, updated_by)"
                " VALUES (:id, :project, :key, :key, '', '[]', false, :head, :now, 'x', :now, 'x')"
            ).bindparams(id=workflow_id, project=project_id, key=f"w{index}", head=count, now=now)
        )
        current = definition(40, seed=index)
        for number in range(1, count + 1):
            if number > 1:
                set_edit(current, number)
            text = canonical_bytes(current).decode()
            texts[workflow_id, number] = text
            connection.execute(
                sa.text(
                    "INSERT INTO workflow_versions (workflow_id, number, project_id, definition,"
                    " content_hash, message, problems, state, created_at, created_by)"
                    " VALUES (:w, :n, :p, :d, 'sha256:x', '', '[]', 'draft', :now, 'x')"
                ).bindparams(w=workflow_id, n=number, p=project_id, d=text, now=now)
            )
    return texts


def test_the_migration_converts_full_copies_and_back(empty_url: str) -> None:
    migrate.upgrade(empty_url, revision="0003")
    engine = sa.create_engine(empty_url)
    try:
        with engine.begin() as connection:
            texts = _old_rows(connection, [1, 3, version_content.MAX_CHAIN_LENGTH + 6])
        migrate.upgrade(empty_url)
        with Session(engine) as session, session.begin():
            for (workflow_id, number), text in texts.items():
                project_id = session.execute(
                    select(workflow_rows.c.project_id).where(workflow_rows.c.id == workflow_id)
                ).scalar_one()
                version = VersionStore(session, project_id).get(workflow_id, number)
                assert version is not None
                assert version.definition == text.encode(), (workflow_id, number)
            keyframes = session.execute(
                select(func.count()).where(workflow_versions.c.base_number.is_(None))
            ).scalar_one()
        assert keyframes == 3 + 1  # one per workflow, plus one where the long chain rolls over
        migrate.downgrade(empty_url, revision="0003")
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT workflow_id, number, definition FROM workflow_versions")
            ).all()
        restored = {(uuid.UUID(str(w)), n): d for w, n, d in rows}
        assert restored == texts
    finally:
        engine.dispose()


def _head_row(db: Database, workflow_id: uuid.UUID) -> Any:
    with db.engine.connect() as connection:
        return connection.execute(
            select(workflow_heads.c.number, workflow_heads.c.text_number).where(
                workflow_heads.c.workflow_id == workflow_id
            )
        ).one()


def test_a_head_whose_row_text_lags_loads_byte_exact_in_any_process(
    db: Database, owner: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save rewrites the head row's full text only every MAX_HEAD_LAG
    versions; in between the head is the row's text and the deltas after it,
    as another process (nothing cached) finds it."""
    monkeypatch.setattr(version_content, "MAX_HEAD_LAG", 3)
    current = definition(30)
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name="Lag"), definition=current
    )
    workflow_id = created.workflow.id
    texts = {1: created.definition}
    lags = set()
    for step in range(1, 12):
        set_edit(current, step)
        saved = versions.save(db, owner.actor, "alpha", "lag", current, base_version=step)
        texts[saved.workflow.head_version] = saved.definition
        number, stored = _head_row(db, workflow_id)
        assert number == saved.workflow.head_version
        assert stored is not None
        assert 0 <= number - stored <= 3
        lags.add(number - stored)
        version_content.TEXTS.clear()  # as a process that did not save it
        head = workflows.get(db, owner.actor, "alpha", "lag")
        assert head.definition == saved.definition
    assert lags == {0, 1, 2, 3}
    version_content.TEXTS.clear()
    for number, text in texts.items():
        assert versions.get_version(db, owner.actor, "alpha", "lag", number).definition == text
    # The next save diffs against the rebuilt head: still byte exact.
    set_edit(current, 99)
    saved = versions.save(db, owner.actor, "alpha", "lag", current, base_version=12)
    version_content.TEXTS.clear()
    assert versions.get_version(db, owner.actor, "alpha", "lag", 13).definition == saved.definition


def test_a_secrets_scrub_rewrites_a_lagging_head_rows_text(
    db: Database, owner: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(version_content, "MAX_HEAD_LAG", 5)
    current = definition(20)
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name="Scrub"), definition=current
    )
    for step in range(1, 4):
        set_edit(current, step)
        versions.save(db, owner.actor, "alpha", "scrub", current, base_version=step)
    assert _head_row(db, created.workflow.id) == (4, 1)
    rewritten = canonical_bytes({**current, "settings": {"owner": "scrubbed"}})
    with project_transaction(db, owner.actor, "alpha", Role.OWNER) as scope:
        changed = scope.versions.rewrite_history(
            created.workflow.id,
            lambda version: versions_rewrite(rewritten) if version.info.number == 4 else None,
        )
    assert changed == [4]
    assert _head_row(db, created.workflow.id) == (4, 4)
    version_content.TEXTS.clear()
    assert versions.get_version(db, owner.actor, "alpha", "scrub", 4).definition == rewritten


def versions_rewrite(text: bytes) -> Rewrite:
    return Rewrite(definition=text, content_hash=content_hash(text))


def test_downgrading_gives_lagging_head_rows_their_heads_text(empty_url: str) -> None:
    migrate.upgrade(empty_url, revision="0003")
    engine = sa.create_engine(empty_url)
    try:
        with engine.begin() as connection:
            texts = _old_rows(connection, [2])
        migrate.upgrade(empty_url)
        ((workflow_id, _),) = [key for key in texts if key[1] == 2]
        with Session(engine) as session, session.begin():
            project_id = session.execute(
                select(workflow_rows.c.project_id).where(workflow_rows.c.id == workflow_id)
            ).scalar_one()
            store = VersionStore(session, project_id)
            first = store.get_info(workflow_id, 1)
            assert first is not None
            current = definition(40)
            for number in range(3, 7):  # the row keeps version 2's text
                set_edit(current, number)
                text = canonical_bytes(current)
                texts[workflow_id, number] = text.decode()
                info = dataclasses.replace(first, number=number, content_hash=content_hash(text))
                store.insert(info, text)
        number, stored = _head_row_of(engine, workflow_id)
        assert (number, stored) == (6, 2)
        migrate.downgrade(empty_url, revision="0019")
        with engine.connect() as connection:
            text = connection.execute(
                sa.text("SELECT definition FROM workflow_heads WHERE number = 6")
            ).scalar_one()
        assert text == texts[workflow_id, 6]
        migrate.upgrade(empty_url)
    finally:
        engine.dispose()


def _head_row_of(engine: sa.Engine, workflow_id: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            select(workflow_heads.c.number, workflow_heads.c.text_number).where(
                workflow_heads.c.workflow_id == workflow_id
            )
        ).one()


def test_a_head_this_process_holds_is_loaded_without_reading_its_text(
    db: Database, owner: Member
) -> None:
    current = definition(30)
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name="Held"), definition=current
    )
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        held = workflows.get(db, owner.actor, "alpha", "held")
        reads_text = [s for s in statements if "workflow_heads.definition" in s]
        assert held.definition == created.definition
        assert reads_text == []
        version_content.TEXTS.clear()
        cold = workflows.get(db, owner.actor, "alpha", "held")
        assert cold.definition == created.definition
        assert [s for s in statements if "workflow_heads.definition" in s]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_a_head_row_changed_between_two_reads_is_rebuilt_from_the_versions(
    db: Database, owner: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read holds no lock: if a save commits between reading the head row's
    columns and its text, the head comes from the (immutable) version rows."""
    monkeypatch.setattr(version_content, "MAX_HEAD_LAG", 0)  # every save writes its text
    current = definition(30)
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name="Race"), definition=current
    )
    set_edit(current, 1)
    saved = versions.save(db, owner.actor, "alpha", "race", current, base_version=1)
    version_content.TEXTS.clear()
    with project_transaction(db, owner.actor, "alpha", Role.VIEWER, write=False) as scope:
        # The columns as read before the save: version 1, its own text.
        before = version_content.HeadRow(1, 1, 0, 0, None, None)
        head = version_content.head_of(
            scope.session, scope.project.id, created.workflow.id, before, content_hash=None
        )
    assert head.text == created.definition
    assert saved.definition != created.definition
