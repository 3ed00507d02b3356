"""Workflow search (``q``) with the trigram candidates of migrations 0005 (SQLite)
and 0006 (PostgreSQL): the same results as the plain ``LIKE`` scan, kept in step
with every write, and on PostgreSQL out of the app role's reach except through
``meshhook_search_candidates``, which answers for the transaction's project only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from meshhook.domain.accounts import Role
from meshhook.domain.workflows import WorkflowFilter
from meshhook.services.transactions import project_transaction, transaction
from meshhook.store import dialect, migrate, tenancy
from meshhook.store import workflows as workflow_store
from meshhook.store.db import Database
from meshhook.store.tables import workflows
from meshhook.store.workflows import WorkflowStore
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.definitions import linear
from tests.factories import Member

BASE = "/api/v1/projects/alpha/workflows"

# name, description, key: LIKE wildcards and the escape character as literal
# text, mixed case, matches only in the description or only in the key.
WORKFLOWS = [
    ("Refund 50% of_orders", "", "refunds"),
    ("Refund 50 percent", 'Says "hi" to CRM', "refund-percent"),
    ("Back\\slash Path", "Copies C:\\Temp\\Files nightly", "backslash"),
    ("MiXeD CaSe Sync", "Nightly CRM export", "mixed-case"),
    ("Plain", "under_score and 100% done", "nightly-export"),
    ("Ünïcode Straße", "Größe", "unicode"),
    ("Trashed refund 50%", "gone", "trashed"),
]
NEEDLES = [
    "50%",
    "f_o",
    "of_orders",
    "refund 50",
    "\\slash",
    "k\\s",
    "c:\\temp\\",
    "MIXED case",
    "case sync",
    "crm",
    '"hi" TO crm',
    "ly-exp",
    "nightly",
    "under_score",
    "100%",
    "0% d",
    "%",
    "_",
    "\\",
    "%%%",
    "___",
    "\\\\\\",
    "ünï",
    "straße",
    "größe",
    "plain\nunder",  # across two fields: a candidate, never a match
    "percent\nsays",
    "zzz",
    "50",
    "trashed",
]


def _names(client: TestClient, member: Member, q: str, *, deleted: bool = False) -> list[str]:
    params: dict[str, str | bool] = {"q": q, "sort": "name", "deleted": deleted}
    response = client.get(BASE, params=params, headers=member.headers)
    assert response.status_code == 200, response.text
    return [workflow["name"] for workflow in response.json()["items"]]


class _Spy:
    """Counts the searches the index narrowed."""

    def __init__(self) -> None:
        self.narrowed = 0

    def __call__(self, session: Session, needle: str, *most: int) -> Any:
        found = dialect.substring_candidates(session, needle, *most)
        self.narrowed += found is not None
        return found


def _same_with_and_without_the_index(
    client: TestClient, member: Member, monkeypatch: pytest.MonkeyPatch
) -> dict[tuple[str, bool], list[str]]:
    spy = _Spy()
    results: dict[tuple[str, bool], list[str]] = {}
    for needle in NEEDLES:
        for deleted in (False, True):
            with monkeypatch.context() as patch:
                patch.setattr(workflow_store, "substring_candidates", spy)
                narrowed = _names(client, member, needle, deleted=deleted)
            with monkeypatch.context() as patch:
                patch.setattr(workflow_store, "substring_candidates", lambda *_: None)
                scanned = _names(client, member, needle, deleted=deleted)
            assert narrowed == scanned, (needle, deleted)
            results[needle, deleted] = narrowed
    assert spy.narrowed >= len([n for n in NEEDLES if len(n) >= 3])  # the index was asked
    return results


def test_search_results_are_the_same_with_and_without_the_index(
    client: TestClient, owner: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, description, key in WORKFLOWS:
        created = client.post(
            BASE,
            json={"name": name, "description": description, "key": key, "definition": linear()},
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
    assert client.delete(f"{BASE}/trashed", headers=owner.headers).status_code == 204

    found = _same_with_and_without_the_index(client, owner, monkeypatch)
    assert found["50%", False] == ["Refund 50% of_orders"]
    assert found["50%", True] == ["Trashed refund 50%"]
    assert found["f_o", False] == ["Refund 50% of_orders"]
    assert found["k\\s", False] == ["Back\\slash Path"]
    assert found["c:\\temp\\", False] == ["Back\\slash Path"]
    assert found["MIXED case", False] == ["MiXeD CaSe Sync"]
    assert found["crm", False] == ["MiXeD CaSe Sync", "Refund 50 percent"]
    assert found["ly-exp", False] == ["Plain"]  # key
    assert found["0% d", False] == ["Plain"]  # description
    assert found["%%%", False] == []
    assert found["plain\nunder", False] == []
    assert found["trashed", False] == []

    # Renames, description edits, trash and restore follow.
    patches = {
        "mixed-case": {"name": "Quarterly report"},
        "nightly-export": {"description": "Nothing special"},
        "backslash": {"name": "Forward/slash", "description": "C:/Temp"},
    }
    for key, body in patches.items():
        response = client.patch(f"{BASE}/{key}", json=body, headers=owner.headers)
        assert response.status_code == 200, response.text
    assert client.delete(f"{BASE}/refunds", headers=owner.headers).status_code == 204
    trashed = client.get(f"{BASE}?deleted=true", headers=owner.headers).json()["items"]
    trashed_id = next(w["id"] for w in trashed if w["key"] == "trashed")
    restored = client.post(f"{BASE}/{trashed_id}/restore", headers=owner.headers)
    assert restored.status_code == 200, restored.text

    found = _same_with_and_without_the_index(client, owner, monkeypatch)
    assert found["MIXED case", False] == []
    assert found["crm", False] == ["Quarterly report", "Refund 50 percent"]  # descriptions
    assert _names(client, owner, "quarterly rep") == ["Quarterly report"]
    assert found["under_score", False] == []
    assert _names(client, owner, "nothing spec") == ["Plain"]
    assert found["c:\\temp\\", False] == []
    assert found["\\slash", False] == []
    assert _names(client, owner, "forward/sl") == ["Forward/slash"]
    assert found["of_orders", False] == []
    assert found["of_orders", True] == ["Refund 50% of_orders"]
    assert found["50%", False] == ["Trashed refund 50%"]
    assert found["50%", True] == ["Refund 50% of_orders"]


# PostgreSQL: the side table, the trigger and the function of migration 0006.


_INSERT = sa.text(
    "INSERT INTO workflows (id, project_id, key, name, description, tags, is_template,"
    " head_version, created_at, created_by, updated_at, updated_by)"
    " VALUES (:id, :project, :key, :name, :description, '[]', false, 1, now(), 'x', now(), 'x')"
)
_CANDIDATES = sa.text("SELECT * FROM meshhook_search_candidates(:pattern, 100)")


def _project_ids(db: Database) -> dict[str, uuid.UUID]:
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT key, id FROM projects")).all()
    return {row.key: row.id for row in rows}


def _add(
    executor: Session | sa.Connection, project_id: uuid.UUID, key: str, name: str, description: str
) -> uuid.UUID:
    workflow_id = uuid.uuid4()
    executor.execute(
        _INSERT,
        {
            "id": workflow_id,
            "project": project_id,
            "key": key,
            "name": name,
            "description": description,
        },
    )
    return workflow_id


def _seed_two_projects(db: Database, alice: Member) -> dict[str, set[uuid.UUID]]:
    """Workflows named alike in ``alpha`` and ``beta``, each written in its own scope."""
    projects = _project_ids(db)
    ids: dict[str, set[uuid.UUID]] = {"alpha": set(), "beta": set()}
    for project in ("alpha", "beta"):
        with transaction(db) as session:
            tenancy.switch_project(session, projects[project])
            for index in range(3):
                ids[project].add(
                    _add(session, projects[project], f"w{index}", f"Shared name {index}", "")
                )
    return ids


def test_candidates_come_only_from_the_transactions_project(
    postgres_db: Database, alice: Member
) -> None:
    ids = _seed_two_projects(postgres_db, alice)
    for project in ("alpha", "beta"):
        with project_transaction(postgres_db, alice.actor, "alpha", Role.VIEWER) as scope:
            if project == "beta":
                # Only by naming beta as the transaction's project, as RLS would.
                tenancy.switch_project(scope.session, _project_ids(postgres_db)["beta"])
            found = set(scope.session.execute(_CANDIDATES, {"pattern": "%shared%"}).scalars())
        assert found == ids[project]
    with transaction(postgres_db, alice.actor) as session:
        assert session.execute(_CANDIDATES, {"pattern": "%shared%"}).all() == []
        assert session.execute(_CANDIDATES, {"pattern": "%"}).all() == []
    with project_transaction(postgres_db, alice.actor, "alpha", Role.VIEWER) as scope:
        condition = dialect.substring_candidates(scope.session, "shared name")
        assert condition is not None
        rows = scope.session.execute(sa.select(workflows.c.id).where(condition)).scalars()
        assert set(rows) == ids["alpha"]


def test_the_functions_run_as_their_owner_with_a_fixed_search_path(
    postgres_db: Database,
) -> None:
    with postgres_db.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT proname, prosecdef, proconfig, rolsuper,"
                " has_function_privilege(:app, p.oid, 'EXECUTE') AS app_may_call,"
                " coalesce(array_to_string(proacl, ','), '') AS acl"
                " FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner"
                " WHERE proname IN ('meshhook_search_candidates', 'meshhook_workflow_search_sync')"
                " ORDER BY proname"
            ),
            {"app": postgres_db.app_role},
        ).all()
    assert [row.proname for row in rows] == [
        "meshhook_search_candidates",
        "meshhook_workflow_search_sync",
    ]
    for row in rows:
        assert row.prosecdef
        assert any(setting.startswith("search_path=pg_catalog, ") for setting in row.proconfig)
        assert any(setting.endswith(", pg_temp") for setting in row.proconfig)
        assert not any(entry.startswith("=") for entry in row.acl.split(",")), row.acl  # PUBLIC
        # The test server migrates as a superuser, as CI does: the function still
        # filters by the tenant setting (the test above).
        assert row.rolsuper
    assert [row.app_may_call for row in rows] == [True, False]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT count(*) FROM workflow_search",
        "INSERT INTO workflow_search VALUES (gen_random_uuid(), gen_random_uuid(), 'x')",
        "UPDATE workflow_search SET body = 'x'",
        "DELETE FROM workflow_search",
        "TRUNCATE workflow_search",
    ],
)
def test_the_app_role_cannot_touch_the_search_table(
    postgres_db: Database, alice: Member, statement: str
) -> None:
    with (
        pytest.raises(Exception, match="permission denied"),
        project_transaction(postgres_db, alice.actor, "alpha", Role.OWNER) as scope,
    ):
        scope.session.execute(sa.text(statement))


def test_every_table_with_a_project_id_is_under_rls_or_out_of_the_app_roles_reach(
    postgres_db: Database,
) -> None:
    """``workflow_search`` is the one table without a policy: the app role has no
    privilege on it. The partitions of ``run_events`` carry no policy of their
    own (the partitioned table's applies to reads through it); the app role has
    no privilege on them either."""
    with postgres_db.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity AS forced,"
                " has_table_privilege(:app, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')"
                " AS reachable, c.relispartition AS partition"
                " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
                " WHERE a.attname = 'project_id' AND c.relkind IN ('r', 'p')"
                " AND c.relnamespace = current_schema()::regnamespace"
            ),
            {"app": postgres_db.app_role},
        ).all()
    assert {row.relname for row in rows if not row.forced and not row.partition} == {
        "workflow_search"
    }
    assert [row.relname for row in rows if not row.forced and row.reachable] == []
    assert "run_events" in {row.relname for row in rows if row.forced}


def _bodies(db: Database) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
    with db.engine.connect() as connection:  # the migrating superuser: no RLS
        rows = connection.execute(
            sa.text("SELECT workflow_id, project_id, body FROM workflow_search")
        ).all()
    return {row.workflow_id: (row.project_id, row.body) for row in rows}


def test_the_search_table_follows_inserts_edits_moves_and_purges(
    postgres_db: Database, alice: Member
) -> None:
    projects = _project_ids(postgres_db)
    alpha, beta = projects["alpha"], projects["beta"]
    with project_transaction(postgres_db, alice.actor, "alpha", Role.OWNER) as scope:
        first = _add(scope.session, alpha, "first-key", "First NAME", "Some Text")
        second = _add(scope.session, alpha, "second", "Second", "")
    assert _bodies(postgres_db) == {
        first: (alpha, "first name\nsome text\nfirst-key"),
        second: (alpha, "second\n\nsecond"),
    }
    with project_transaction(postgres_db, alice.actor, "alpha", Role.OWNER) as scope:
        scope.workflows.update_fields(first, name="Renamed", description="New")
        scope.workflows.update_fields(second, tags=["only-tags"])
        scope.workflows.update_fields(second, key="second-key")
    assert _bodies(postgres_db) == {
        first: (alpha, "renamed\nnew\nfirst-key"),
        second: (alpha, "second\n\nsecond-key"),
    }
    with postgres_db.engine.begin() as connection:  # no request moves workflows; a superuser may
        connection.execute(
            sa.text("UPDATE workflows SET project_id = :beta WHERE id = :id"),
            {"beta": beta, "id": second},
        )
    assert _bodies(postgres_db)[second] == (beta, "second\n\nsecond-key")
    with project_transaction(postgres_db, alice.actor, "alpha", Role.OWNER) as scope:
        scope.workflows.purge(first)
    assert set(_bodies(postgres_db)) == {second}


def test_a_request_scoped_search_uses_the_trigram_index(
    postgres_url: str, postgres_db: Database, alice: Member
) -> None:
    """The plans as a request runs them (app role, RLS, tenant setting), inside
    the function too: auto_explain sends them to the client as notices."""
    alpha = _project_ids(postgres_db)["alpha"]
    with postgres_db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO workflows (id, project_id, key, name, description, tags,"
                " is_template, head_version, created_at, created_by, updated_at, updated_by)"
                " SELECT gen_random_uuid(), :p, 'seed-' || i, 'Billing flow ' || i,"
                " 'Seeded workflow', '[]', false, 1, now(), 'x', now(), 'x'"
                " FROM generate_series(1, 10000) AS i"
            ),
            {"p": alpha},
        )
        # What autovacuum does in time: merge the index's pending list, gather stats.
        connection.execute(sa.text("SELECT gin_clean_pending_list('workflow_search_trgm')"))
        connection.execute(sa.text("ANALYZE workflow_search"))
        rare = _add(connection, alpha, "rare", "Quarterly ledger", "")
    engine = sa.create_engine(postgres_url, poolclass=NullPool)  # LOAD stays with a connection
    notices: list[str] = []
    try:
        with Session(engine) as session, session.begin():
            driver = session.connection().connection.driver_connection
            assert driver is not None
            driver.add_notice_handler(lambda notice: notices.append(notice.message_primary or ""))
            session.execute(sa.text("LOAD 'auto_explain'"))
            for setting, value in (
                ("auto_explain.log_min_duration", "0"),
                ("auto_explain.log_nested_statements", "on"),
                ("auto_explain.log_level", "notice"),
            ):
                session.execute(
                    sa.text("SELECT set_config(:name, :value, true)"),
                    {"name": setting, "value": value},
                )
            tenancy.enter_scope(
                session, app_role=postgres_db.app_role, project_id=alpha, user_id=None
            )
            assert session.execute(sa.text("SELECT current_user")).scalar() == postgres_db.app_role
            condition = dialect.substring_candidates(session, "ly ledg")
            assert condition is not None
            rows = session.execute(sa.select(workflows.c.id).where(condition)).scalars()
            assert list(rows) == [rare]
            session.execute(sa.text("SELECT 1"))  # the last plan's notice comes with the next
            rare_notices = len(notices)
            # A common term (10,000 matches): more than a few candidates, so the
            # page is looked for among the next rows in page order, found by
            # walking the updated_at index (not by sorting every match, nor the
            # project's rows); the candidate query itself arranged that.
            sent: list[str] = []
            sa.event.listen(engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
            page = WorkflowStore(session, alpha).list_page(
                WorkflowFilter(q="billing"),
                sort="updated_at",
                descending=True,
                after=None,
                limit=51,
            )
            assert len(sent) == 2, sent  # a few candidates, the page nearby
            assert len(page) == 51
            assert all("Billing" in workflow.name for workflow in page)
            session.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()
    plans = [notice for notice in notices[:rare_notices] if "FROM workflow_search" in notice]
    assert plans, notices
    assert "Index Scan on workflow_search_trgm" in plans[0], plans[0]
    # ... and the candidates are fetched by primary key despite the RLS policy.
    listing = [notice for notice in notices[:rare_notices] if "FROM workflows" in notice]
    assert listing, notices
    assert "Index Scan using pk_workflows" in listing[0], listing[0]
    common = [notice for notice in notices[rare_notices:] if "FROM workflows" in notice]
    assert len(common) == 1, notices[rare_notices:]
    assert "Index Scan Backward using ix_workflows_project_id_updated_at" in common[0], common[0]
    # The only sort is of the few hundred rows read: below it, a limit.
    assert "Bitmap" not in common[0], common[0]
    assert "Seq Scan" not in common[0], common[0]
    assert common[0].count("Sort") <= 2, common[0]  # "Sort" and its "Sort Key"


def _every_page(client: TestClient, member: Member, params: dict[str, Any]) -> list[str]:
    """The names on every page of a search, following the cursors."""
    names: list[str] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get(BASE, params=query, headers=member.headers)
        assert response.status_code == 200, response.text
        names += [workflow["name"] for workflow in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return names


def test_a_page_found_among_the_nearby_rows_is_the_page_found_every_other_way(
    client: TestClient, owner: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A term with more than a few candidates is first looked for among the next
    rows in page order; what it finds there, or not, the pages are the same as
    from the candidates or from a walk through every row."""
    for index in range(36):
        word = "Billing" if index % 3 else "Other"
        created = client.post(
            BASE,
            json={
                "name": f"{word} job {index:02d}",
                "key": f"job-{index:02d}",
                "tags": ["even"] if index % 2 == 0 else [],
                "definition": linear(),
            },
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        if index % 7 == 3:
            assert client.delete(f"{BASE}/job-{index:02d}", headers=owner.headers).status_code
    found_nearby: list[int] = []
    nearby = workflow_store._nearby

    def counted(*args: Any) -> Any:
        page = nearby(*args)
        found_nearby.append(page is not None)
        return page

    cases = [
        {"q": q, "sort": sort, "deleted": deleted, **({"tag": "even"} if tagged else {})}
        for q in ("billing", "other", "job 1", "ing job 3", "zzz", "jo")
        for sort in ("name", "-name", "-updated_at", "created_at")
        for deleted in (False, True)
        for tagged in (False, True)
    ]
    for params in cases:
        as_it_is = _every_page(client, owner, params)
        with monkeypatch.context() as patch:
            patch.setattr(workflow_store, "FEW_CANDIDATES", 0)  # always looked for nearby
            patch.setattr(workflow_store, "_nearby", counted)
            first_nearby = _every_page(client, owner, params)
        with monkeypatch.context() as patch:
            patch.setattr(workflow_store, "substring_candidates", lambda *_: None)
            patch.setattr(workflow_store, "_nearby", lambda *_: None)
            walked = _every_page(client, owner, params)
        assert as_it_is == first_nearby == walked, params
        assert len(as_it_is) == len(set(as_it_is)), params
    assert any(found_nearby)
    assert not all(found_nearby)
    assert _every_page(client, owner, {"q": "billing", "sort": "name"})[:3] == [
        "Billing job 01",
        "Billing job 02",
        "Billing job 04",
    ]


# Migration 0006 with data in place.


@pytest.fixture
def empty_postgres_url(postgres_url: str) -> Iterator[str]:
    url = create_postgres_database("meshhook_migration")
    yield url
    drop_postgres_database(url)


def test_migration_0006_backfills_every_project_and_downgrades(empty_postgres_url: str) -> None:
    url = empty_postgres_url
    migrate.upgrade(url, revision="0005")
    engine = sa.create_engine(url)
    try:
        expected: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
        with engine.begin() as connection:
            for key in ("one", "two"):
                project_id = uuid.uuid4()
                connection.execute(
                    sa.text(
                        "INSERT INTO projects (id, key, name, created_at)"
                        " VALUES (:id, :key, :key, now())"
                    ),
                    {"id": project_id, "key": key},
                )
                workflow_id = _add(
                    connection, project_id, f"{key}-key", f"Name {key.upper()}", "About"
                )
                expected[workflow_id] = (project_id, f"name {key}\nabout\n{key}-key")
        migrate.upgrade(url)
        assert _search_rows(engine) == expected
        assert _search_objects(engine) == (True, 2, 1)

        migrate.downgrade(url, revision="0005")
        assert _search_objects(engine) == (False, 0, 0)
        with engine.begin() as connection:  # writes work without the trigger
            project_id = next(iter(expected.values()))[0]
            late = _add(connection, project_id, "late", "Late Comer", "")
            expected[late] = (project_id, "late comer\n\nlate")

        migrate.upgrade(url)
        assert _search_rows(engine) == expected
        assert _search_objects(engine) == (True, 2, 1)
    finally:
        engine.dispose()


def _search_rows(engine: sa.Engine) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT workflow_id, project_id, body FROM workflow_search")
        ).all()
    return {row.workflow_id: (row.project_id, row.body) for row in rows}


def _search_objects(engine: sa.Engine) -> tuple[bool, int, int]:
    """Whether the table exists, how many of the functions and triggers."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT to_regclass('workflow_search') IS NOT NULL,"
                " (SELECT count(*) FROM pg_proc WHERE proname IN"
                " ('meshhook_search_candidates', 'meshhook_workflow_search_sync')),"
                " (SELECT count(*) FROM pg_trigger WHERE tgname = 'workflow_search_sync')"
            )
        ).one()
    return (bool(row[0]), int(row[1]), int(row[2]))
