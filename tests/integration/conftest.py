from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog.testing
from fastapi.testclient import TestClient

from meshhook.app import create_app
from meshhook.cli import workflows as cli_workflows
from meshhook.cli.client import MeshHookClient
from meshhook.settings import Settings
from meshhook.store.db import Database
from tests.conftest import fresh_database
from tests.factories import Member, make_project, make_user


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=db_url, max_body_bytes=256 * 1024)


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db)) as test_client:
        yield test_client


@pytest.fixture
def owner(db: Database) -> Member:
    """alice owns project ``alpha``."""
    member = make_user(db, "alice@example.com")
    make_project(db, "alpha", member)
    return member


@pytest.fixture
def outsider(db: Database) -> Member:
    """mallory owns project ``beta`` and is not a member of ``alpha``."""
    member = make_user(db, "mallory@example.com")
    make_project(db, "beta", member)
    return member


@pytest.fixture
def api(client: TestClient, owner: Member, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """CLI commands talk to the in-process app as alice, in project ``alpha``.

    Rich wraps at 80 columns off a terminal, so COLUMNS is widened (pointers stay
    on one line), and the app's request logs are captured so they do not
    interleave with the command's output (a real server logs in its own process).
    """
    monkeypatch.setattr(
        cli_workflows,
        "connect",
        lambda: MeshHookClient("http://testserver", owner.token, session=client),
    )
    monkeypatch.setenv("MESHHOOK_PROJECT", "alpha")
    monkeypatch.setenv("COLUMNS", "200")
    with structlog.testing.capture_logs():
        yield client


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[Database]:
    """PostgreSQL only (RLS, its SQL functions), empty for each test."""
    with fresh_database(postgres_url) as database:
        yield database


@pytest.fixture
def alice(postgres_db: Database) -> Member:
    """On ``postgres_db``: alice owns ``alpha``; mallory owns ``beta``."""
    member = make_user(postgres_db, "alice@example.com")
    make_project(postgres_db, "alpha", member)
    mallory = make_user(postgres_db, "mallory@example.com")
    make_project(postgres_db, "beta", mallory)
    return member
