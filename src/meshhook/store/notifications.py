"""PostgreSQL ``LISTEN``/``NOTIFY`` for waking workers when runs are queued.

A notification is only a hint: workers poll anyway, so one that is lost (a
connection dropped, a worker started late) costs at most a poll interval.
SQLite has no such channel; a worker in the same process is woken directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from meshhook.store.db import Database

CHANNEL = "meshhook_runs"
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', '')")

log = structlog.get_logger("meshhook.notifications")


def announce_work(session: Session) -> None:
    """Tell listening workers that a run is due (sent when the transaction commits)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_NOTIFY)


class Listener:
    """A thread that calls ``on_notify`` for every notification on the channel."""

    def __init__(self, db: Database, on_notify: Callable[[], None]) -> None:
        url = make_url(db.engine.url.render_as_string(hide_password=False))
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.on_notify = on_notify
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._listen, name="meshhook-listen", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def _listen(self) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    while not self.stopping.is_set():
                        for _ in connection.notifies(timeout=1.0):
                            self.on_notify()
            except psycopg.Error as error:
                log.warning("listen connection lost", error=type(error).__name__)
                self.stopping.wait(1.0)
