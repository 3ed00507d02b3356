"""20 concurrent saves from the same base version: each one creates a version,
merges, or is refused with 409; numbers stay gapless; no accepted change is lost."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from sqlalchemy import text

from meshhook.domain.accounts import Role
from meshhook.domain.errors import Conflict
from meshhook.services import definitions, versions, workflows
from meshhook.services.definitions import load
from meshhook.services.transactions import project_transaction
from meshhook.services.workflows import NewWorkflow
from meshhook.store.db import Database
from tests.definitions import linear
from tests.factories import Member

WRITERS = 20
NODES = 15  # writers i and i + 15 edit the same node: one of each pair must conflict


def _wide_definition() -> dict[str, Any]:
    definition = linear()
    for index in range(NODES):
        definition["nodes"].append(
            {
                "id": f"n{index}",
                "type": "transform",
                "config": {"expression": "base"},
                "position": {"x": 600, "y": 100 * index},
            }
        )
        definition["edges"].append({"from": "send", "to": f"n{index}"})
    return definition


def test_twenty_concurrent_saves_from_one_base_lose_nothing(db: Database, owner: Member) -> None:
    base = _wide_definition()
    workflows.create(db, owner.actor, "alpha", NewWorkflow(name="Hot"), definition=base)
    barrier = threading.Barrier(WRITERS)
    outcomes: dict[int, str] = {}

    def writer(index: int) -> None:
        mine = copy.deepcopy(base)
        mine["nodes"][3 + index % NODES]["config"]["expression"] = f"writer{index}"
        barrier.wait()
        try:
            saved = versions.save(db, owner.actor, "alpha", "hot", mine, base_version=1)
            outcomes[index] = "merged" if saved.merged else "created"
        except Conflict:
            outcomes[index] = "conflict"

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == WRITERS
    assert set(outcomes.values()) <= {"created", "merged", "conflict"}
    accepted = [index for index, outcome in outcomes.items() if outcome != "conflict"]
    final = workflows.get(db, owner.actor, "alpha", "hot")
    history, _ = versions.history(db, owner.actor, "alpha", "hot", limit=100, cursor=None)
    assert [info.number for info in history] == list(range(len(accepted) + 1, 0, -1))
    assert final.workflow.head_version == len(accepted) + 1

    expressions = {
        node["id"]: node["config"]["expression"] for node in load(final.definition)["nodes"][3:]
    }
    for index in accepted:
        assert expressions[f"n{index % NODES}"] == f"writer{index}"
    for node in range(NODES):
        pair = [i for i in (node, node + NODES) if i < WRITERS]
        winners = [i for i in pair if outcomes[i] != "conflict"]
        assert len(winners) == 1, (node, [outcomes[i] for i in pair])


def test_a_save_that_waited_for_the_lock_reads_the_head_committed_meanwhile(
    postgres_db: Database, alice: Member
) -> None:
    """The lock and the head are read in one statement. A save that waited for
    the lock must not take the head of the snapshot it started with: PostgreSQL
    rechecks the locked row's newest version against that snapshot's version
    rows, and the head found must then be read again."""
    db = postgres_db
    workflows.create(db, alice.actor, "alpha", NewWorkflow(name="Hot"), definition=linear())
    changed = linear()
    changed["nodes"][1]["config"]["expression"] = "changed"
    prepared = definitions.prepare(changed)
    seen: dict[str, Any] = {}

    def second() -> None:
        with project_transaction(db, alice.actor, "alpha", Role.EDITOR) as scope:
            seen["found"] = scope.find_with_head("hot", for_update=True)

    with project_transaction(db, alice.actor, "alpha", Role.EDITOR) as scope:
        workflow, _ = scope.find_with_head("hot", for_update=True)
        waiting = threading.Thread(target=second)
        waiting.start()
        _wait_for_a_lock_wait(db)
        versions._append(
            scope,
            alice.actor,
            workflow,
            prepared.canonical,
            content_hash=prepared.content_hash,
            message="meanwhile",
        )
    waiting.join(timeout=30)

    workflow, head = seen["found"]
    assert workflow.head_version == 2
    assert head.info.number == 2
    assert head.info.message == "meanwhile"
    assert head.definition == prepared.canonical


def _wait_for_a_lock_wait(db: Database) -> None:
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    deadline = time.monotonic() + 20
    with db.engine.connect() as connection:
        while connection.execute(query).scalar_one() == 0:
            assert time.monotonic() < deadline, "the second transaction never waited for the lock"
            time.sleep(0.01)
            connection.rollback()
