"""The online copy is one consistent moment of the live database, however
much is written while it runs, and it includes what sits only in the WAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from meshhook.store import backup
from meshhook.store.backup import BackupError


def live_database(path: Path, rows: int) -> sqlite3.Connection:
    """A WAL database whose rows sit only in the WAL (no checkpoint ran)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE alembic_version (version_num TEXT)")
    db.execute("INSERT INTO alembic_version VALUES ('0010')")
    for table in ("projects", "workflows", "workflow_versions", "runs"):
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, filler TEXT)")
    db.execute("BEGIN")
    for index in range(rows):
        db.execute("INSERT INTO runs (filler) VALUES (?)", ("x" * 500 + str(index),))
    db.execute("COMMIT")
    return db


def test_the_copy_holds_what_is_only_in_the_wal(tmp_path: Path) -> None:
    source = live_database(tmp_path / "live.db", rows=300)
    target = tmp_path / "copy.db"
    backup.copy_online(tmp_path / "live.db", target)
    assert backup.check(target).runs == 300
    # One self-contained file: no WAL mode, nothing beside it.
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not Path(f"{target}-wal").exists()
    source.close()


def test_writes_during_the_copy_neither_tear_it_nor_restart_it(tmp_path: Path) -> None:
    source = live_database(tmp_path / "live.db", rows=3000)  # ~400 pages: many steps
    writer = sqlite3.connect(tmp_path / "live.db", isolation_level=None)
    steps: list[int] = []

    def write_between_steps(done: int, total: int) -> None:
        steps.append(done)
        writer.execute("INSERT INTO runs (filler) VALUES ('during')")
        writer.execute("UPDATE runs SET filler = 'changed' WHERE id = 1")

    target = tmp_path / "copy.db"
    original = backup.PAGES_PER_STEP
    backup.PAGES_PER_STEP = 16
    try:
        backup.copy_online(tmp_path / "live.db", target, write_between_steps)
    finally:
        backup.PAGES_PER_STEP = original
    assert len(steps) > 5, "the copy ran in steps, with writes in between"
    assert steps == sorted(steps), "the copy never restarted"
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM runs").fetchone()[0] == 3000
        assert copy.execute("SELECT filler FROM runs WHERE id = 1").fetchone()[0] != "changed"
    assert writer.execute("SELECT count(*) FROM runs").fetchone()[0] == 3000 + len(steps)
    writer.close()
    source.close()


def test_a_failed_copy_leaves_no_file_behind(tmp_path: Path) -> None:
    (tmp_path / "live.db").write_bytes(b"this is not sqlite" * 1000)
    target = tmp_path / "copy.db"
    with pytest.raises(BackupError, match=r"cannot read .* as a SQLite database"):
        backup.copy_online(tmp_path / "live.db", target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.db"]


def test_an_existing_target_is_never_overwritten(tmp_path: Path) -> None:
    live_database(tmp_path / "live.db", rows=1).close()
    (tmp_path / "copy.db").write_text("keep me")
    with pytest.raises(BackupError, match="exists"):
        backup.copy_online(tmp_path / "live.db", tmp_path / "copy.db")
    assert (tmp_path / "copy.db").read_text() == "keep me"


def test_restore_replaces_the_database_and_drops_its_wal(tmp_path: Path) -> None:
    live_database(tmp_path / "good.db", rows=7).close()
    target = tmp_path / "home" / "meshhook.db"
    target.parent.mkdir()
    live_database(target, rows=2).close()
    Path(f"{target}-wal").write_bytes(b"stale wal of the replaced database")
    backup.restore_file(tmp_path / "good.db", target)
    assert not Path(f"{target}-wal").exists()
    assert backup.check(target).runs == 7
    assert target.stat().st_mode & 0o777 == 0o600
