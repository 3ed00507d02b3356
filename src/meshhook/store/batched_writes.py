"""Writes that go to PostgreSQL together: one statement, one round trip.

A save writes four rows in four tables (the version, its workflow's head row,
the workflow, the audit entry). On PostgreSQL each statement is a round trip
to the server and back, which costs more than the statement itself; inside
:func:`together` the writes a repository makes through :func:`write` wait
and then go as one statement, each of them a data-modifying ``WITH`` clause
(PostgreSQL runs them all, against the same snapshot, whatever the main
statement reads). They are sent when the block ends, or earlier, before any
other statement the session runs, so a read in between still sees them.

Only writes that cannot fail as a domain outcome may wait (a unique key taken
meanwhile must raise where its repository maps it to a conflict): the rows
of a save made under the workflow's lock. On SQLite, where a statement is a
function call and not a round trip, every write runs at once.

Each write's statement is built once per shape (table, the columns it finds
the row by, the columns it sets) with bind parameters named by its place in
the batch (``w0_number``), so no two writes' parameters can collide.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Table, and_, bindparam, event, insert, update
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.dml import Insert, Update

from meshhook.store import tables

_PENDING = "meshhook.batched_writes"
_LISTENING = "meshhook.batched_writes.listening"

Shape = tuple[str, tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Write:
    """One INSERT into ``table`` (no ``where``) or an UPDATE of the row(s)
    whose columns equal ``where``: the columns ``values`` names, set."""

    table: Table
    values: Mapping[str, Any]
    where: Mapping[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> Shape:
        return (self.table.name, tuple(self.where), tuple(self.values))

    def parameters(self, slot: int) -> dict[str, Any]:
        prefix = f"w{slot}_"
        found = {prefix + "where_" + name: value for name, value in self.where.items()}
        return found | {prefix + name: value for name, value in self.values.items()}


def write(session: Session, change: Write, *, now: bool = False) -> None:
    """Run ``change``, with the others of a :func:`together` block unless
    ``now`` (the writes waiting are sent first, then this one alone)."""
    pending: list[Write] | None = session.info.get(_PENDING)
    if pending is None or now:
        session.execute(_statement((change.shape,)), change.parameters(0))
    else:
        pending.append(change)


@contextmanager
def together(session: Session) -> Iterator[None]:
    """On PostgreSQL, send the block's :func:`write` calls as one statement when
    it ends (or before any other statement the session runs meanwhile). Nothing
    is sent if the block raises: the transaction is rolled back anyway."""
    if session.get_bind().dialect.name != "postgresql" or _PENDING in session.info:
        yield
        return
    session.info[_PENDING] = []
    if _LISTENING not in session.info:
        # Kept for the session's life (a transaction's): removing it costs more
        # than it does when nothing waits.
        event.listen(session, "do_orm_execute", _send_first)
        session.info[_LISTENING] = True
    try:
        yield
        send(session)
    finally:
        session.info.pop(_PENDING, None)


def send(session: Session) -> None:
    """Run the writes waiting in ``session``, all in one statement."""
    pending: list[Write] | None = session.info.get(_PENDING)
    if not pending:
        return
    batch = list(pending)
    pending.clear()
    parameters: dict[str, Any] = {}
    for slot, change in enumerate(batch):
        parameters |= change.parameters(slot)
    session.execute(_statement(tuple(change.shape for change in batch)), parameters)


def _send_first(state: ORMExecuteState) -> None:
    if state.session.info.get(_PENDING):
        send(state.session)


@cache
def _statement(shapes: tuple[Shape, ...]) -> Insert | Update:
    """The statement for writes of these shapes: the last one's, with the ones
    before it as data-modifying ``WITH`` clauses."""
    built = [_one(slot, shape) for slot, shape in enumerate(shapes)]
    *first, last = built
    if not first:
        return last
    return last.add_cte(*(statement.cte(f"write_{slot}") for slot, statement in enumerate(first)))


def _one(slot: int, shape: Shape) -> Insert | Update:
    name, where, values = shape
    table = tables.metadata.tables[name]
    prefix = f"w{slot}_"
    columns = {column: bindparam(prefix + column, type_=table.c[column].type) for column in values}
    if not where:
        # inline(): nothing is read back (no RETURNING in a WITH clause's INSERT).
        return insert(table).values(columns).inline()
    found = and_(
        *(
            table.c[column] == bindparam(prefix + "where_" + column, type_=table.c[column].type)
            for column in where
        )
    )
    return update(table).where(found).values(columns)
