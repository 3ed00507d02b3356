from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog.testing
from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from meshhook.app import create_app
from meshhook.cli.client import MeshHookClient
from meshhook.cli.main import app as cli_app
from meshhook.cli.remote import Remote
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


class Cli:
    """Runs ``meshhook ...`` in-process. Remote commands get their HTTP client
    from the Typer context (``obj``, a :class:`Remote`), as the real CLI does."""

    def __init__(self, remote: Remote | None = None) -> None:
        self.remote = remote
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int | None = 0, stdin: str | None = None) -> Result:
        """The command's result; with ``code`` (default 0) its exit code is checked."""
        result = self.runner.invoke(cli_app, list(args), input=stdin, obj=self.remote)
        if code is not None:
            assert result.exit_code == code, result.output
            assert "Traceback" not in result.output
        return result

    def as_token(self, client: TestClient, token: str) -> Cli:
        """The same CLI calling the in-process app with another token."""
        return Cli(Remote(lambda: MeshHookClient("http://testserver", token, session=client)))


@pytest.fixture
def cli(client: TestClient, owner: Member, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """``meshhook`` talking to the in-process app as alice, in project ``alpha``.

    Rich wraps at 80 columns off a terminal, so COLUMNS is widened (pointers stay
    on one line), and the app's request logs are captured so they do not
    interleave with the command's output (a real server logs in its own process).
    """
    monkeypatch.setenv("MESHHOOK_PROJECT", "alpha")
    monkeypatch.setenv("COLUMNS", "200")
    with structlog.testing.capture_logs():
        yield Cli().as_token(client, owner.token)


@pytest.fixture
def offline_cli() -> Cli:
    """``meshhook`` with no server: offline commands, and the errors of remote ones."""
    return Cli()


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
