"""The secrets vault over the API and services, on both backends."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.engine import make_url

from meshhook.domain.accounts import Role
from meshhook.security.envelope import DecryptionFailed
from meshhook.services import keys, secrets
from meshhook.services.transactions import transaction
from meshhook.settings import Settings
from meshhook.store import tenancy
from meshhook.store.db import Database
from meshhook.store.tables import secrets as secrets_table
from tests.definitions import linear
from tests.factories import Member, add_member, assert_problem, make_user

SECRETS = "/api/v1/projects/alpha/secrets"


@pytest.fixture
def unique_value() -> str:
    return f"sk-live-{uuid.uuid4().hex}"


def _put(client: TestClient, member: Member, name: str, value: str) -> object:
    return client.put(f"{SECRETS}/{name}", json={"value": value}, headers=member.headers)


def test_values_are_write_only_everywhere(
    client: TestClient, owner: Member, db: Database, db_url: str, unique_value: str, tmp_path: Path
) -> None:
    created = client.put(
        f"{SECRETS}/CRM_TOKEN",
        json={"value": unique_value, "description": "CRM"},
        headers=owner.headers,
    )
    assert created.status_code == 201
    replaced = client.put(
        f"{SECRETS}/CRM_TOKEN", json={"value": unique_value}, headers=owner.headers
    )
    assert replaced.status_code == 200
    seen = [
        created.text,
        replaced.text,
        client.get(SECRETS, headers=owner.headers).text,
        client.get(f"{SECRETS}/CRM_TOKEN", headers=owner.headers).text,
        client.get("/api/v1/projects/alpha/audit", headers=owner.headers).text,
    ]
    assert all(unique_value not in answer for answer in seen)
    assert [s["name"] for s in client.get(SECRETS, headers=owner.headers).json()] == ["CRM_TOKEN"]
    assert _raw_database_text(db, db_url, tmp_path).count(unique_value) == 0
    assert _raw_database_text(db, db_url, tmp_path).count("CRM_TOKEN") > 0


def _raw_database_text(db: Database, db_url: str, tmp_path: Path) -> str:
    if not db.is_postgres:
        path = make_url(db_url).database
        assert path is not None
        # The main file and the write-ahead log together hold every byte written.
        files = [Path(path), Path(path + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists()).decode("latin-1")
    url = make_url(db_url)
    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            url.host or "127.0.0.1",
            "-U",
            url.username or "postgres",
            url.database or "",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return dump.stdout


def test_the_value_decrypts_for_use_and_each_use_is_audited(
    client: TestClient, owner: Member, db: Database, unique_value: str
) -> None:
    _put(client, owner, "CRM_TOKEN", unique_value)
    provider = client.app.state.keys  # type: ignore[attr-defined]
    used = secrets.use_secret(db, provider, owner.actor, "alpha", "CRM_TOKEN", purpose="test run")
    assert used == unique_value
    entries = client.get("/api/v1/projects/alpha/audit?action=secret.use", headers=owner.headers)
    assert [e["object_id"] for e in entries.json()["items"]] == ["CRM_TOKEN"]
    assert unique_value not in entries.text
    assert client.get(f"{SECRETS}/CRM_TOKEN", headers=owner.headers).json()["last_used_at"]


def test_a_ciphertext_copied_to_another_name_fails_to_decrypt(
    client: TestClient, owner: Member, db: Database
) -> None:
    _put(client, owner, "FIRST", "one-value")
    _put(client, owner, "SECOND", "two-value")
    with transaction(db) as session:
        project_id = session.execute(
            text("SELECT id FROM projects WHERE key = 'alpha'")
        ).scalar_one()
        tenancy.switch_project(session, project_id)
        first = session.execute(secrets_table.select().where(secrets_table.c.name == "FIRST")).one()
        session.execute(
            update(secrets_table)
            .where(secrets_table.c.name == "SECOND")
            .values(ciphertext=first.ciphertext)
        )
    provider = client.app.state.keys  # type: ignore[attr-defined]
    with pytest.raises(DecryptionFailed):
        secrets.use_secret(db, provider, owner.actor, "alpha", "SECOND", purpose="test")


def test_only_admins_see_or_write_secrets_and_other_projects_never(
    client: TestClient, owner: Member, outsider: Member, db: Database
) -> None:
    _put(client, owner, "CRM_TOKEN", "value-1")
    editor = make_user(db, "ed@example.com")
    add_member(db, "alpha", editor, Role.EDITOR)
    assert_problem(client.get(SECRETS, headers=editor.headers), 403)
    assert_problem(_put(client, editor, "X", "v"), 403)
    assert_problem(client.get(SECRETS, headers=outsider.headers), 404)
    assert_problem(client.get(f"{SECRETS}/CRM_TOKEN", headers=outsider.headers), 404)
    assert client.get("/api/v1/projects/beta/secrets", headers=outsider.headers).json() == []
    assert_problem(client.delete(f"{SECRETS}/CRM_TOKEN", headers=outsider.headers), 404)
    assert [s["name"] for s in client.get(SECRETS, headers=owner.headers).json()] == ["CRM_TOKEN"]


def test_bad_names_and_values_are_422(client: TestClient, owner: Member) -> None:
    assert_problem(_put(client, owner, "1BAD", "v"), 422)
    assert_problem(client.put(f"{SECRETS}/OK", json={"value": ""}, headers=owner.headers), 422)
    assert_problem(
        client.put(f"{SECRETS}/OK", json={"value": "v", "x": 1}, headers=owner.headers), 422
    )
    assert_problem(client.delete(f"{SECRETS}/MISSING", headers=owner.headers), 404)


def test_publish_needs_the_referenced_secret_to_exist(client: TestClient, owner: Member) -> None:
    definition = linear()
    definition["nodes"][2]["config"]["auth"] = {
        "type": "bearer",
        "token": "{{ secrets.CRM_TOKEN }}",
    }
    client.post(
        "/api/v1/projects/alpha/workflows",
        json={"name": "Sync", "definition": definition},
        headers=owner.headers,
    )
    url = "/api/v1/projects/alpha/workflows/sync/versions/publish"
    refused = assert_problem(client.post(url, json={}, headers=owner.headers), 422)
    assert [e["code"] for e in refused["errors"]] == ["secret.unknown"]
    _put(client, owner, "CRM_TOKEN", "value")
    assert client.post(url, json={}, headers=owner.headers).status_code == 200


def test_rotation_rewraps_every_data_key_and_keeps_values_readable(
    client: TestClient, owner: Member, outsider: Member, db: Database, settings: Settings
) -> None:
    _put(client, owner, "A_TOKEN", "alpha-value")
    client.put(
        "/api/v1/projects/beta/secrets/B_TOKEN",
        json={"value": "beta-value"},
        headers=outsider.headers,
    )
    provider = client.app.state.keys  # type: ignore[attr-defined]
    old_key = provider.keyring.active.key_id
    result = keys.rotate(db, settings)
    assert result.active_key_id != old_key
    assert result.rewrapped == 2
    assert result.retired == (old_key,)
    assert secrets.key_ids_in_use(db) == {result.active_key_id}
    # The running app still holds the old keyring and picks up the new key by itself.
    assert (
        secrets.use_secret(db, provider, owner.actor, "alpha", "A_TOKEN", purpose="t")
        == "alpha-value"
    )
    assert (
        secrets.use_secret(db, provider, outsider.actor, "beta", "B_TOKEN", purpose="t")
        == "beta-value"
    )
    assert keys.rotate(db, settings).rewrapped == 2


def test_the_value_never_reaches_a_log_line(
    client: TestClient, owner: Member, unique_value: str
) -> None:
    from structlog.testing import capture_logs

    with capture_logs() as logged:
        _put(client, owner, "CRM_TOKEN", unique_value)
        _put(client, owner, "1BAD", unique_value)
    assert logged
    assert unique_value not in repr(logged)
