"""Private data files: other local users must not read MeshHook's data.

``MESHHOOK_HOME`` and the folder of a SQLite database are created 0700, the
database file 0600 before SQLite first opens it (SQLite gives its ``-wal`` and
``-shm`` files the database file's mode). At start, :func:`tighten` removes
group and other permissions from an existing home and database files and says
so in a warning log line, rather than refusing to start.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("meshhook.files")

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
_GROUP_OR_OTHER = 0o077
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def make_private_directory(path: Path) -> None:
    """Create ``path`` (and missing parents) readable by its owner only."""
    if path.is_dir():
        return
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIRECTORY)  # mkdir's mode is filtered by the umask


def create_private_file(path: Path) -> None:
    """Create an empty file 0600 unless it exists (a new SQLite database)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    os.close(descriptor)


def tighten(home: Path, sqlite_database: Path | None) -> list[Path]:
    """Remove group/other permissions from the home and the SQLite files;
    returns what was changed (each logged as a warning)."""
    candidates = [home]
    if sqlite_database is not None:
        candidates.append(sqlite_database)
        candidates += [Path(f"{sqlite_database}{suffix}") for suffix in SQLITE_COMPANIONS]
    changed = []
    for path in candidates:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & _GROUP_OR_OTHER:
            os.chmod(path, mode & ~_GROUP_OR_OTHER)
            log.warning(
                "%s was readable by other users (mode %o); tightened to %o",
                path,
                mode,
                mode & ~_GROUP_OR_OTHER,
            )
            changed.append(path)
    return changed
