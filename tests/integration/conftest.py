from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from meshhook.app import create_app
from meshhook.settings import Settings
from meshhook.store.db import Database
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
