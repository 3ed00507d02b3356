"""Engines and sessions; the SQLite and PostgreSQL specifics of connecting.

SQLite allows one writer at a time. A write transaction takes the write lock at
its start (``BEGIN IMMEDIATE``) and waits up to ``busy_timeout`` for it, so
concurrent writers queue instead of failing with "database is locked" half-way
through; the writers of one process first wait their turn in the file's
:class:`~meshhook.store.write_queue.WriteQueue`, which wakes each the moment
the previous one commits (SQLite's busy handler polls). Read-only
transactions use a plain deferred ``BEGIN`` and never block writers (WAL
mode).
"""

from __future__ import annotations

import select
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

from meshhook.security import files
from meshhook.security.data_keys import KeySlot
from meshhook.store import checkpoints, write_queue

SQLITE_BUSY_TIMEOUT_MS = 30_000
HAND_OVER_SECONDS = 0.0002
_WRITE_OPTION = "meshhook_write"
_STATEMENTS_OPTION = "meshhook_statements"
BACKGROUND = "meshhook_background"
"""Execution option of a ``statements`` session's writing statement that may
give way to other writers (SQLite): it then fails, having written nothing,
and :func:`~meshhook.store.write_queue.yielded` says so."""


_READS_ACCOUNTS = text(
    "SELECT has_table_privilege('api_tokens', 'SELECT') AND has_table_privilege('users', 'SELECT')"
)


@dataclass(frozen=True)
class Database:
    """An engine plus the two kinds of session MeshHook opens on it."""

    engine: Engine
    app_role: str
    # SQLite files only: WAL checkpoints off the request path (store/checkpoints.py).
    checkpointer: checkpoints.BackgroundCheckpointer | None = None
    # Run payloads are sealed with the keys the app or a worker attaches here
    # (services/payload_keys.py); the unwrapped data keys are cached per process.
    keys: KeySlot = field(default_factory=KeySlot, compare=False, repr=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @cached_property
    def login_reads_accounts(self) -> bool:
        """PostgreSQL: whether the login itself may read tokens and users (a
        superuser, or a member that inherits the app role's grants), so that a
        request's token lookup can also be the statement that drops to the app
        role (``tenancy.entering_columns``). A ``NOINHERIT`` login cannot: its
        requests switch first and look the token up after. Asked once."""
        if not self.is_postgres:
            return False
        with self.engine.connect() as connection:
            allowed = connection.execute(_READS_ACCOUNTS).scalar_one()
        return bool(allowed)

    def session(self, *, write: bool = True, statements: bool = False) -> Session:
        """A new session; ``write=False`` lets SQLite skip the write lock.

        ``statements=True``: on SQLite every statement is its own transaction
        (no ``BEGIN``), so a writing statement holds the write lock only while
        SQLite runs it, never while Python works between statements. Only for
        a block whose one writing statement is the whole change (a retention
        batch); on PostgreSQL it is an ordinary transaction.
        """
        bind = self.engine.execution_options(
            **{_WRITE_OPTION: write, _STATEMENTS_OPTION: statements}
        )
        return Session(bind=bind, expire_on_commit=False, autoflush=False)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def settle(self) -> None:
        """On a SQLite file, checkpoint the WAL now, in the calling thread (see
        :meth:`BackgroundCheckpointer.checkpoint`); nothing on PostgreSQL."""
        if self.checkpointer is not None:
            self.checkpointer.checkpoint()

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()


def create_database(
    url: str,
    *,
    app_role: str = "meshhook_app",
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 20,
) -> Database:
    """Build the engine for ``url`` with the settings MeshHook relies on
    (``pool_size`` and ``max_overflow`` size a PostgreSQL connection pool)."""
    if ensure_sqlite_directory(url):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                "factory": write_queue.QueuedConnection,
            },
        )
        path = engine.url.database
        checkpointer = (
            checkpoints.BackgroundCheckpointer(path) if path and path != ":memory:" else None
        )
        _configure_sqlite(engine, checkpointer, path)
        return Database(engine=engine, app_role=app_role, checkpointer=checkpointer)
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow)
    event.listen(engine, "checkout", _replace_if_dropped)
    return Database(engine=engine, app_role=app_role)


def _replace_if_dropped(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out a pooled PostgreSQL connection only if it is still open.

    What ``pool_pre_ping`` does, without its round trip on every checkout: an
    idle pooled connection has nothing to read, unless the server sent something
    (the notice of a restart, ``pg_terminate_backend``, an idle timeout) or
    closed it. Only then is it pinged; if that fails, the pool opens a new one
    (``DisconnectionError``). A connection dropped without a word from the
    server (a cut cable) hangs a ping as it hangs the first query.
    """
    if not (dbapi_connection.closed or dbapi_connection.broken or _readable(dbapi_connection)):
        return
    try:
        dbapi_connection.execute("SELECT 1")
    except Exception as error:
        raise DisconnectionError("the pooled connection was closed by the server") from error
    dbapi_connection.rollback()  # the ping opened a transaction of its own


def _readable(dbapi_connection: Any) -> bool:
    """Whether the server sent anything to an idle connection (without waiting)."""
    if not hasattr(select, "poll"):
        return True  # no poll(2) (Windows): always ping
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def ensure_sqlite_directory(url: str) -> bool:
    """Create the folder of a SQLite file; True when ``url`` is SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        # Private from the start: 0700 folder, 0600 file (and so -wal/-shm).
        path = Path(database).expanduser()
        files.make_private_directory(path.parent)
        files.create_private_file(path)
    return True


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database).expanduser()


def _configure_sqlite(
    engine: Engine, checkpointer: checkpoints.BackgroundCheckpointer | None, path: str | None
) -> None:
    timeout = SQLITE_BUSY_TIMEOUT_MS / 1000

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        write_queue.attach(dbapi_connection, path)
        # Hand transaction control to us: pysqlite's implicit BEGIN cannot be
        # made IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if checkpointer is not None:
            cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoints.LAST_RESORT_PAGES}")
            cursor.execute(f"PRAGMA journal_size_limit={checkpoints.JOURNAL_SIZE_LIMIT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(_STATEMENTS_OPTION, False):
            return  # autocommit: each statement takes the lock for itself
        if not options.get(_WRITE_OPTION, True):
            connection.exec_driver_sql("BEGIN")
            return
        # Our turn first (given back when the transaction ends), then the lock.
        raw = connection.connection.dbapi_connection
        raw.take_turn(timeout)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            raw.give_turn()
            raise

    # A ``statements`` session's writing statement waits its turn too, and
    # gives it back as soon as SQLite has run (and so committed) it; if it
    # fails, the rollback that follows gives it back.
    # A statement run with ``BACKGROUND`` waits behind every other writer and
    # yields to one that arrives while it runs (store/write_queue.py).
    @event.listens_for(engine, "before_cursor_execute")
    def _before_statement(
        connection: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if connection.get_execution_options().get(
            _STATEMENTS_OPTION, False
        ) and not statement.lstrip()[:6].upper().startswith("SELECT"):
            background = bool(context.execution_options.get(BACKGROUND, False))
            cursor.connection.take_turn(timeout, background=background)

    @event.listens_for(engine, "after_cursor_execute")
    def _after_statement(connection: Any, cursor: Any, *_args: Any) -> None:
        if connection.get_execution_options().get(_STATEMENTS_OPTION, False):
            cursor.connection.give_turn()

    # A statement that failed on its own has been rolled back by SQLite: the
    # turn goes back at once (a yielded one's waiter is waiting for it).
    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        connection = context.connection
        if connection is not None and connection.get_execution_options().get(
            _STATEMENTS_OPTION, False
        ):
            raw = connection.connection.dbapi_connection
            if isinstance(raw, write_queue.QueuedConnection):
                raw.give_turn()
                if write_queue.yielded(context.original_exception):
                    # Let the writer it made way for have the GIL now, not
                    # after the exception has gone up through SQLAlchemy.
                    time.sleep(HAND_OVER_SECONDS)

    if checkpointer is not None:

        @event.listens_for(engine, "commit")
        def _on_commit(connection: Any) -> None:
            if connection.get_execution_options().get(_WRITE_OPTION, True):
                checkpointer.committed()
