from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from meshhook.settings import Settings


def test_defaults_put_a_sqlite_file_in_the_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MESHHOOK_HOME", str(tmp_path))
    monkeypatch.delenv("MESHHOOK_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.db_url == f"sqlite:///{tmp_path / 'meshhook.db'}"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.credentials_file == tmp_path / "initial-credentials"
    assert not settings.is_postgres


def test_home_expands_the_user_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHHOOK_HOME", raising=False)
    assert Settings().home == Path.home() / ".meshhook"


def test_plain_postgresql_urls_get_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHHOOK_DATABASE_URL", "postgresql://u@db:5432/mesh")
    settings = Settings()
    assert settings.db_url == "postgresql+psycopg://u@db:5432/mesh"
    assert settings.is_postgres


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MESHHOOK_DATABASE_URL", "mysql://x"),
        ("MESHHOOK_PORT", "70000"),
        ("MESHHOOK_LOG_FORMAT", "xml"),
        ("MESHHOOK_DB_APP_ROLE", "Robert'); DROP TABLE users;--"),
    ],
)
def test_unsafe_or_unknown_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError):
        Settings()
