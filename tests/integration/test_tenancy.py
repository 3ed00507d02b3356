"""Tenant isolation. On PostgreSQL row-level security holds even for raw SQL
with no WHERE clause; on both backends the API never shows another project."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.errors import Unauthorized
from meshhook.services import runs, versions, workflows
from meshhook.services.credentials import PendingActor
from meshhook.services.runs import StartRequest
from meshhook.services.transactions import project_transaction, transaction
from meshhook.services.workflows import NewWorkflow
from meshhook.store import tenancy
from meshhook.store.db import Database, create_database
from meshhook.store.tables import metadata
from tests.definitions import linear
from tests.factories import Member, assert_problem


def _tables_with_project_id() -> list[str]:
    return sorted(t.name for t in metadata.sorted_tables if "project_id" in t.columns)


def test_every_table_with_project_id_has_forced_row_level_security(
    postgres_db: Database,
) -> None:
    with postgres_db.engine.connect() as connection:
        flags = dict(
            connection.execute(
                text(
                    "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class"
                    " WHERE relname = ANY(:names)"
                ),
                {"names": _tables_with_project_id()},
            ).all()
        )
    assert flags == dict.fromkeys(_tables_with_project_id(), True)


def test_raw_sql_without_where_sees_only_the_scoped_project(
    postgres_db: Database, alice: Member
) -> None:
    with project_transaction(postgres_db, alice.actor, "alpha", Role.VIEWER) as scope:
        memberships = scope.session.execute(text("SELECT project_id FROM memberships")).all()
        audit = scope.session.execute(text("SELECT project_id FROM audit_log")).all()
        alpha = scope.project.id
    assert memberships
    assert audit
    assert {row.project_id for row in memberships} == {alpha}
    assert {row.project_id for row in audit} == {alpha}


def test_a_transaction_that_never_set_a_project_sees_no_tenant_rows(
    postgres_db: Database, alice: Member
) -> None:
    with transaction(postgres_db) as session:
        for table in _tables_with_project_id():
            count = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert count == 0, table


def test_rows_cannot_be_written_into_another_project(postgres_db: Database, alice: Member) -> None:
    with transaction(postgres_db) as session:
        beta = session.execute(text("SELECT id FROM projects WHERE key = 'beta'")).scalar_one()
    with (
        pytest.raises(Exception, match="row-level security"),
        project_transaction(postgres_db, alice.actor, "alpha", Role.OWNER) as scope,
    ):
        scope.session.execute(
            text(
                "INSERT INTO audit_log (project_id, actor, action, object_type, object_id,"
                " summary, created_at) VALUES (:p, 'x', 'x', 'x', 'x', '{}', now())"
            ),
            {"p": beta},
        )


def test_requests_run_as_a_role_that_cannot_bypass_rls(postgres_db: Database) -> None:
    with transaction(postgres_db) as session:
        row = session.execute(
            text(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles"
                " WHERE rolname = current_user"
            )
        ).one()
    assert row.current_user == postgres_db.app_role
    assert not row.rolsuper
    assert not row.rolbypassrls


def test_a_request_whose_token_starts_its_transaction_runs_as_the_app_role(
    postgres_db: Database, alice: Member
) -> None:
    """The token lookup is a request's first statement and also drops to the
    app role, names the user and no project (one round trip, not two)."""

    def fallback(_value: str) -> Actor:
        raise AssertionError("the token is checked inside the transaction")

    pending = PendingActor(alice.token, fallback)
    with transaction(postgres_db, pending) as session:
        row = session.execute(
            text(
                "SELECT current_user AS role,"
                " current_setting('meshhook.user_id', true) AS user_id,"
                " current_setting('meshhook.project_id', true) AS project_id"
            )
        ).one()
        tenant_rows = session.execute(text("SELECT count(*) FROM workflows")).scalar_one()
    assert row.role == postgres_db.app_role
    assert row.user_id == str(alice.actor.user_id)
    assert row.project_id == ""
    assert tenant_rows == 0
    assert pending.user_id == alice.actor.user_id

    refused = PendingActor("mh_" + "0" * 43, fallback)
    with pytest.raises(Unauthorized), transaction(postgres_db, refused):
        pass


@pytest.mark.parametrize("inherit", ["INHERIT", "NOINHERIT"])
def test_a_login_apart_from_the_owner_serves_token_checked_requests(
    postgres_db: Database, alice: Member, inherit: str
) -> None:
    """docs/operations.md's least-privilege setup: a login that owns nothing and
    is a member of ``meshhook_app``. Inheriting its grants, the login reads the
    token in the statement that drops to the app role; a ``NOINHERIT`` login,
    which may not read tokens itself, drops to it first."""
    login = f"meshhook_web_{uuid.uuid4().hex[:8]}"
    owner = postgres_db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.execute(
            text(f"CREATE ROLE {login} LOGIN {inherit} IN ROLE {postgres_db.app_role}")
        )
    web = create_database(
        postgres_db.engine.url.set(username=login).render_as_string(hide_password=False)
    )
    try:

        def fallback(_value: str) -> Actor:
            raise AssertionError("the token is checked inside the transaction")

        pending = PendingActor(alice.token, fallback)
        with project_transaction(web, pending, "alpha", Role.VIEWER) as scope:
            role = scope.session.execute(text("SELECT current_user")).scalar_one()
            visible = scope.session.execute(text("SELECT count(*) FROM projects")).scalar_one()
        assert role == postgres_db.app_role
        assert visible >= 1
        assert web.login_reads_accounts == (inherit == "INHERIT")
    finally:
        web.dispose()
        with owner.connect() as connection:
            connection.execute(text(f"DROP ROLE {login}"))


def test_the_app_role_cannot_rewrite_or_delete_audit_entries(
    postgres_db: Database, alice: Member
) -> None:
    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        with (
            pytest.raises(Exception, match="permission denied"),
            project_transaction(postgres_db, alice.actor, "alpha", Role.OWNER) as scope,
        ):
            scope.session.execute(text(statement))


def test_scope_settings_do_not_leak_to_the_next_transaction(
    postgres_db: Database, alice: Member
) -> None:
    with transaction(postgres_db) as session:
        tenancy.switch_project(session, uuid.uuid4())
    with transaction(postgres_db) as session:
        value = session.execute(
            text("SELECT current_setting('meshhook.project_id', true)")
        ).scalar_one()
    assert value in ("", None)


def test_the_api_never_shows_another_projects_audit_or_members(
    client: TestClient, owner: Member, outsider: Member
) -> None:
    entries = client.get("/api/v1/projects/beta/audit", headers=outsider.headers).json()["items"]
    assert {entry["object_id"] for entry in entries} == {"beta"}
    members = client.get("/api/v1/projects/beta/members", headers=outsider.headers).json()
    assert [m["email"] for m in members] == ["mallory@example.com"]
    assert_problem(client.get("/api/v1/projects/beta/members", headers=owner.headers), 404)


def test_cli_actor_is_owner_everywhere_but_still_scoped(
    db: Database, owner: Member, outsider: Member
) -> None:
    with project_transaction(db, Actor.cli(), "beta", Role.OWNER, write=False) as scope:
        assert scope.role == Role.OWNER
        assert scope.project.key == "beta"


RUN_TABLES = ("runs", "run_events", "run_queue", "run_idempotency")


def _start_a_run(db: Database, actor: Actor, project: str) -> None:
    created = workflows.create(db, actor, project, NewWorkflow(name="W"), definition=linear())
    versions.publish(db, actor, project, created.workflow.key)
    runs.start(db, actor, project, created.workflow.key, StartRequest(idempotency_key="k"))


def test_raw_sql_on_the_run_tables_sees_only_the_scoped_project(
    postgres_db: Database, alice: Member
) -> None:
    _start_a_run(postgres_db, alice.actor, "alpha")
    _start_a_run(postgres_db, Actor.cli(), "beta")
    with project_transaction(postgres_db, alice.actor, "alpha", Role.VIEWER) as scope:
        seen = {
            table: {
                row.project_id
                for row in scope.session.execute(text(f"SELECT project_id FROM {table}"))
            }
            for table in RUN_TABLES
        }
        alpha = scope.project.id
    assert seen == {table: {alpha} for table in RUN_TABLES}


def test_the_app_role_cannot_rewrite_or_delete_run_events(
    postgres_db: Database, alice: Member
) -> None:
    _start_a_run(postgres_db, alice.actor, "alpha")
    for statement in ("UPDATE run_events SET type = 'run.succeeded'", "DELETE FROM run_events"):
        with (
            pytest.raises(Exception, match="permission denied"),
            project_transaction(postgres_db, alice.actor, "alpha", Role.OWNER) as scope,
        ):
            scope.session.execute(text(statement))


def test_the_workers_claim_functions_are_narrow_and_pinned(postgres_db: Database) -> None:
    with postgres_db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT proname, prosecdef, proconfig,"
                " has_function_privilege(:app, p.oid, 'EXECUTE') AS app_may_call,"
                " coalesce(array_to_string(proacl, ','), '') AS acl"
                " FROM pg_proc p WHERE proname IN ('meshhook_claim_runs', 'meshhook_queue_stats')"
                " ORDER BY proname"
            ),
            {"app": postgres_db.app_role},
        ).all()
    assert [row.proname for row in rows] == ["meshhook_claim_runs", "meshhook_queue_stats"]
    for row in rows:
        assert row.prosecdef
        assert any(setting.startswith("search_path=pg_catalog, ") for setting in row.proconfig)
        assert not any(entry.startswith("=") for entry in row.acl.split(",")), row.acl
        assert row.app_may_call
