"""Data files are private: a fresh home is 0700 and the SQLite files 0600; a
home or database readable by other users is tightened at start, with a warning."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from meshhook.cli.common import open_database
from meshhook.settings import Settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _settings(home: Path) -> Settings:
    return Settings(home=home, database_url=f"sqlite:///{home / 'meshhook.db'}")


@pytest.fixture(autouse=True)
def _usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # what most shells use: new files 0644, folders 0755
    yield
    os.umask(previous)


def test_a_fresh_home_and_its_database_are_private(tmp_path: Path) -> None:
    home = tmp_path / "fresh" / "home"
    database = open_database(_settings(home))
    try:
        with database.engine.begin() as connection:
            connection.execute(text("CREATE TABLE scratch (x INTEGER)"))
        files = [home / "meshhook.db", home / "meshhook.db-wal", home / "meshhook.db-shm"]
        assert _mode(home) == 0o700
        assert {path.name: _mode(path) for path in files if path.exists()} == {
            path.name: 0o600 for path in files if path.exists()
        }
        assert (home / "meshhook.db-wal").exists()
    finally:
        database.dispose()


def test_a_home_readable_by_others_is_tightened_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "loose"
    home.mkdir(mode=0o755)
    (home / "meshhook.db").touch(mode=0o644)
    os.chmod(home / "meshhook.db", 0o644)
    with caplog.at_level(logging.WARNING, logger="meshhook.files"):
        open_database(_settings(home)).dispose()
    assert _mode(home) == 0o700
    assert _mode(home / "meshhook.db") == 0o600
    warnings = [record.getMessage() for record in caplog.records if record.name == "meshhook.files"]
    assert len(warnings) == 2
    assert all("readable by other users" in message for message in warnings)
