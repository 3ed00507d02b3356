"""The storage contract of the per-project repositories (``store/repository.py``).

One suite, run on SQLite and PostgreSQL, states what each repository reached
through ``ProjectScope`` does; then, on SQLite (no row-level security to catch
a mistake), every public method of every repository is called from one project
with another project's ids and must find nothing and change nothing there. The
methods are enumerated by introspection: a new method without a case here
fails :func:`test_every_repository_method_has_a_cross_project_case`.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from meshhook.domain.accounts import Actor, Membership, Role
from meshhook.domain.alerts import (
    AttemptRecord,
    DeliveryStatus,
    Destination,
    DestinationKind,
    Event,
    Rule,
    RuleKind,
    RuleState,
)
from meshhook.domain.alerts import Delivery as AlertDelivery
from meshhook.domain.alerts import Outcome as AlertOutcome
from meshhook.domain.audit import NewAuditEntry
from meshhook.domain.errors import MeshHookError, NotFound, UniqueConflict
from meshhook.domain.retention import RetentionPolicy
from meshhook.domain.runs.events import EventType, RunEvent, RunStatus
from meshhook.domain.runs.run import Run, RunView, Trigger
from meshhook.domain.secrets import KEEP, SecretRecord
from meshhook.domain.stats import RunOutcome, StepOutcome, Window
from meshhook.domain.workflows import (
    Alias,
    VersionInfo,
    VersionState,
    Workflow,
    WorkflowFilter,
)
from meshhook.services.transactions import ProjectScope, project_transaction
from meshhook.store import repository
from meshhook.store.db import Database
from meshhook.store.redaction import PatternRecord
from meshhook.store.repository import ProjectRepository
from meshhook.store.retention import RunKey
from meshhook.store.runs import EventConflict, RunFilter
from meshhook.store.schedules import ScheduleRow
from meshhook.store.tables import metadata
from meshhook.store.version_content import MAX_CHAIN_LENGTH
from meshhook.store.versions import Rewrite
from meshhook.store.webhooks import Delivery
from tests.factories import make_project, make_user

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CLI = Actor.cli()


@contextmanager
def scope_of(db: Database, project: str, *, write: bool = True) -> Iterator[ProjectScope]:
    with project_transaction(db, CLI, project, Role.OWNER, write=write) as scope:
        yield scope


def new_workflow(
    project_id: uuid.UUID,
    key: str,
    *,
    name: str | None = None,
    head: int = 1,
    published: int | None = None,
    tags: tuple[str, ...] = (),
    is_template: bool = False,
    deleted: bool = False,
    at: datetime = NOW,
) -> Workflow:
    return Workflow(
        id=uuid.uuid4(),
        project_id=project_id,
        key=key,
        name=name or key.title(),
        description=f"about {key}",
        tags=tags,
        is_template=is_template,
        head_version=head,
        published_version=published,
        created_at=at,
        created_by="contract@example.com",
        updated_at=at,
        updated_by="contract@example.com",
        deleted_at=at if deleted else None,
    )


def new_info(
    workflow_id: uuid.UUID,
    number: int,
    *,
    state: VersionState = VersionState.DRAFT,
    tag: str | None = None,
) -> VersionInfo:
    published = state is VersionState.PUBLISHED
    return VersionInfo(
        workflow_id=workflow_id,
        number=number,
        content_hash=f"sha256:{number:064x}",
        parent_number=number - 1 if number > 1 else None,
        message=f"version {number}",
        state=state,
        created_at=NOW,
        created_by="contract@example.com",
        published_at=NOW if published else None,
        published_by="contract@example.com" if published else None,
        tag=tag,
        note=None,
    )


def text(number: int, lines: int = 200) -> bytes:
    """A canonical-looking text; ``number`` changes one line of it."""
    middle = lines // 2
    body = [f'  "line {i}": {number if i == middle else i},' for i in range(lines)]
    return ("{\n" + "\n".join(body) + "\n}\n").encode()


def new_run(project_id: uuid.UUID, workflow: Workflow, *, at: datetime = NOW) -> Run:
    return Run(
        id=uuid.uuid4(),
        project_id=project_id,
        workflow_id=workflow.id,
        workflow_key=workflow.key,
        version=1,
        alias=None,
        test=False,
        trigger=Trigger.MANUAL,
        created_at=at,
        created_by="contract@example.com",
        view=RunView(
            status=RunStatus.QUEUED,
            input={"n": 1},
            output=None,
            error=None,
            steps=[],
            started_at=None,
            finished_at=None,
            dead_letter=False,
            last_seq=1,
        ),
    )


@pytest.fixture
def alpha(db: Database) -> Database:
    owner = make_user(db, "owner@example.com")
    make_project(db, "alpha", owner)
    return db


# -- the contract, on both databases --------------------------------------------


def test_workflows(alpha: Database) -> None:
    db = alpha
    with scope_of(db, "alpha") as scope:
        pid = scope.project.id
        live = new_workflow(pid, "billing", name="billing", tags=("money",), published=1)
        template = new_workflow(pid, "starter", name="Starter", is_template=True)
        trashed = new_workflow(pid, "old", name="Old", deleted=True)
        for workflow in (live, template, trashed):
            scope.workflows.insert(workflow)
        with pytest.raises(ValueError, match="another project"):
            scope.workflows.insert(replace(live, id=uuid.uuid4(), project_id=uuid.uuid4()))
    with scope_of(db, "alpha") as scope:
        store = scope.workflows
        assert store.find(workflow_id=live.id) == live
        assert store.find(key="billing", for_update=True) == live
        assert store.find(workflow_id=trashed.id) is None
        assert store.find(workflow_id=trashed.id, deleted=True) == trashed
        assert store.find(key="old") is None
        assert store.key_in_use("starter")
        assert not store.key_in_use("old")
        assert store.live_by_keys(["starter", "billing", "nope"]) == [live, template]
        assert store.all_live() == [live, template]
        assert store.all_with_trash(for_update=True) == [live, trashed, template]
        assert store.list_templates() == [template]
        page = store.list_page(WorkflowFilter(), sort="name", descending=False, after=None, limit=1)
        assert page == [live]  # names sort case-insensitively: billing < Starter
        rest = store.list_page(
            WorkflowFilter(), sort="name", descending=False, after=("billing", live.id), limit=5
        )
        assert rest == [template]
        assert store.list_page(
            WorkflowFilter(tag="money"), sort="created_at", descending=True, after=None, limit=5
        ) == [live]
        assert store.list_page(
            WorkflowFilter(published=False, q="start"),
            sort="updated_at",
            descending=True,
            after=None,
            limit=5,
        ) == [template]
        assert store.list_page(
            WorkflowFilter(deleted=True), sort="name", descending=False, after=None, limit=5
        ) == [trashed]
        later = NOW + timedelta(minutes=1)
        store.touch(live.id, when=later, by="editor@example.com", name="Billing", tags=("a",))
        store.update_fields(template.id, is_template=False)
    with scope_of(db, "alpha") as scope:
        changed = scope.workflows.find(workflow_id=live.id)
        assert changed == replace(
            live, name="Billing", tags=("a",), updated_at=later, updated_by="editor@example.com"
        )
        assert scope.workflows.list_templates() == []
    with pytest.raises(UniqueConflict), scope_of(db, "alpha") as scope:
        scope.workflows.insert(new_workflow(scope.project.id, "billing"))
    with pytest.raises(UniqueConflict), scope_of(db, "alpha") as scope:
        scope.workflows.update_fields(template.id, key="billing")
    with scope_of(db, "alpha") as scope:  # a trashed key is free again
        scope.workflows.insert(new_workflow(scope.project.id, "old"))


def test_versions_and_their_chains(alpha: Database) -> None:
    db = alpha
    count = MAX_CHAIN_LENGTH + 6  # the chain rolls over to a second keyframe
    with scope_of(db, "alpha") as scope:
        workflow = new_workflow(scope.project.id, "flow", head=count)
        scope.workflows.insert(workflow)
        for number in range(1, count + 1):
            scope.versions.insert(new_info(workflow.id, number), text(number))
        with pytest.raises(NotFound):
            scope.versions.insert(new_info(uuid.uuid4(), 1), text(1))
    with scope_of(db, "alpha") as scope:
        versions = scope.versions
        for number in (1, 2, MAX_CHAIN_LENGTH, MAX_CHAIN_LENGTH + 1, count):
            version = versions.get(workflow.id, number)
            assert version is not None
            assert version.definition == text(number)
            assert version.info == new_info(workflow.id, number)
        assert versions.get(workflow.id, count + 1) is None
        assert versions.get_info(workflow.id, 3) == new_info(workflow.id, 3)
        newest = versions.list_infos(workflow.id, before=None, limit=2)
        assert [info.number for info in newest] == [count, count - 1]
        older = versions.list_infos(workflow.id, before=3, limit=5)
        assert [info.number for info in older] == [2, 1]
        versions.mark_published(workflow.id, 2, when=NOW, by="p@example.com", tag="v2", note="n")
        versions.mark_published(workflow.id, 5, when=NOW, by="p@example.com", tag=None, note=None)
        # Published is final: marking it again changes nothing.
        versions.mark_published(workflow.id, 2, when=NOW, by="x@example.com", tag="v9", note=None)
    with scope_of(db, "alpha") as scope:
        versions = scope.versions
        tagged = versions.find_by_tag(workflow.id, "v2")
        assert tagged is not None
        assert tagged.number == 2
        assert tagged.state is VersionState.PUBLISHED
        assert tagged.published_by == "p@example.com"
        assert versions.find_by_tag(workflow.id, "v9") is None
        assert [info.number for info in versions.published_infos(workflow.id)] == [2, 5]
        every = list(versions.every_version(workflow.id))
        assert [version.definition for version in every] == [
            text(number) for number in range(1, count + 1)
        ]

        def rewrite(version: Any) -> Rewrite | None:
            if version.info.number % 10:
                return None
            new = version.definition.replace(b'"line 0": 0', b'"line 0": "***"')
            return Rewrite(new, "sha256:" + "f" * 64)

        changed = versions.rewrite_history(workflow.id, rewrite)
        assert changed == list(range(10, count + 1, 10))
    with scope_of(db, "alpha") as scope:
        for number in (9, 10, 11, count):
            version = scope.versions.get(workflow.id, number)
            assert version is not None
            expected = text(number)
            if number % 10 == 0:  # the head (count) too: workflow_heads follows
                expected = expected.replace(b'"line 0": 0', b'"line 0": "***"')
            assert version.definition == expected
    with pytest.raises(UniqueConflict), scope_of(db, "alpha") as scope:
        scope.versions.mark_published(workflow.id, 3, when=NOW, by="p", tag="v2", note=None)


def test_aliases(alpha: Database) -> None:
    db = alpha
    with scope_of(db, "alpha") as scope:
        workflow = new_workflow(scope.project.id, "flow", head=2)
        scope.workflows.insert(workflow)
        for number in (1, 2):
            scope.versions.insert(new_info(workflow.id, number), text(number))
        production = Alias(workflow.id, "production", 1, NOW, "a@example.com")
        scope.aliases.put(production, exists=False)
        scope.aliases.put(Alias(workflow.id, "canary", 2, NOW, "a@example.com"), exists=False)
        with pytest.raises(NotFound):
            scope.aliases.put(replace(production, workflow_id=uuid.uuid4()), exists=False)
    with scope_of(db, "alpha") as scope:
        assert [a.name for a in scope.aliases.for_workflow(workflow.id)] == [
            "canary",
            "production",
        ]
        assert scope.aliases.get(workflow.id, "production") == production
        moved = replace(production, version=2, updated_by="b@example.com")
        scope.aliases.put(moved, exists=True)
        scope.aliases.delete(workflow.id, "canary")
    with scope_of(db, "alpha") as scope:
        assert scope.aliases.for_workflow(workflow.id) == [moved]
        assert scope.aliases.get(workflow.id, "canary") is None
    with pytest.raises(UniqueConflict), scope_of(db, "alpha") as scope:
        scope.aliases.put(production, exists=False)
    with scope_of(db, "alpha") as scope:  # a purge takes versions, heads and aliases along
        scope.workflows.purge(workflow.id)
    with scope_of(db, "alpha") as scope:
        assert scope.workflows.find(workflow_id=workflow.id, deleted=False) is None
        assert scope.versions.get(workflow.id, 2) is None
        assert scope.aliases.for_workflow(workflow.id) == []


def test_secrets_and_the_data_key(alpha: Database) -> None:
    db = alpha
    with scope_of(db, "alpha") as scope:
        record = SecretRecord(
            project_id=scope.project.id,
            name="TOKEN",
            description="the token",
            created_at=NOW,
            created_by="a@example.com",
            updated_at=NOW,
            updated_by="a@example.com",
            last_used_at=None,
            allowed_hosts=("api.example.com",),
        )
        scope.secrets.insert(record, b"cipher-1")
        scope.secrets.insert(replace(record, name="OPEN", allowed_hosts=None), b"cipher-2")
        with pytest.raises(ValueError, match="another project"):
            scope.secrets.insert(replace(record, project_id=uuid.uuid4()), b"x")
        assert scope.secrets.data_key() is None
        scope.secrets.insert_data_key("k1", b"wrapped-1", NOW)
    with scope_of(db, "alpha") as scope:
        secrets = scope.secrets
        assert secrets.get("TOKEN") == record
        assert secrets.get("NOPE") is None
        assert [r.name for r in secrets.records()] == ["OPEN", "TOKEN"]
        assert secrets.names() == {"OPEN", "TOKEN"}
        assert secrets.ciphertext("TOKEN") == b"cipher-1"
        assert secrets.ciphertext("NOPE") is None
        assert secrets.restricted_hosts() == {"TOKEN": ("api.example.com",)}
        later = NOW + timedelta(hours=1)
        secrets.update("TOKEN", when=later, by="b@example.com", ciphertext=b"cipher-3")
        secrets.update("OPEN", when=later, by="b@example.com", allowed_hosts=("x.example.com",))
        secrets.update("OPEN", when=later, by="b@example.com", description="d", allowed_hosts=KEEP)
        secrets.mark_used("TOKEN", later)
        key = secrets.data_key(for_update=True)
        assert key is not None
        assert (key.key_id, key.wrapped_key) == ("k1", b"wrapped-1")
        secrets.replace_data_key("k2", b"wrapped-2", later)
    with scope_of(db, "alpha") as scope:
        secrets = scope.secrets
        token = secrets.get("TOKEN")
        assert token is not None
        assert (token.updated_by, token.last_used_at) == ("b@example.com", later)
        assert token.allowed_hosts == ("api.example.com",)
        assert secrets.ciphertext("TOKEN") == b"cipher-3"
        opened = secrets.get("OPEN")
        assert opened is not None
        assert (opened.description, opened.allowed_hosts) == ("d", ("x.example.com",))
        key = secrets.data_key()
        assert key is not None
        assert (key.key_id, key.wrapped_key) == ("k2", b"wrapped-2")
        secrets.delete("OPEN")
    with scope_of(db, "alpha") as scope:
        assert scope.secrets.names() == {"TOKEN"}
    with pytest.raises(UniqueConflict), scope_of(db, "alpha") as scope:
        scope.secrets.insert(record, b"again")
    with pytest.raises(UniqueConflict), scope_of(db, "alpha") as scope:
        scope.secrets.insert_data_key("k3", b"wrapped-3", NOW)


def test_audit_entries(alpha: Database) -> None:
    db = alpha
    with scope_of(db, "alpha") as scope:
        for index in range(5):
            scope.audit.insert(
                NewAuditEntry(
                    actor_id=None,
                    actor="robot" if index % 2 else "a@example.com",
                    action="thing.do" if index < 3 else "thing.undo",
                    object_type="thing",
                    object_id=f"thing-{index}",
                    summary={"index": index},
                    request_id=f"req-{index}",
                    created_at=NOW + timedelta(minutes=index),
                )
            )
    with scope_of(db, "alpha", write=False) as scope:
        audit = scope.audit
        # Creating the project wrote the first entry.
        everything = audit.entries(limit=10)
        assert [entry.action for entry in everything][:5] == ["thing.undo"] * 2 + ["thing.do"] * 3
        assert everything[-1].action == "project.create"
        first_two = audit.entries(limit=2)
        assert [e.object_id for e in first_two] == ["thing-4", "thing-3"]
        next_page = audit.entries(limit=2, before_id=first_two[-1].id)
        assert [e.object_id for e in next_page] == ["thing-2", "thing-1"]
        assert [e.object_id for e in audit.entries(limit=10, action="thing.undo")] == [
            "thing-4",
            "thing-3",
        ]
        assert [e.object_id for e in audit.entries(limit=10, actor="robot")] == [
            "thing-3",
            "thing-1",
        ]
        assert [e.summary for e in audit.entries(limit=10, object_id="thing-2")] == [{"index": 2}]
        window = audit.entries(
            limit=10, since=NOW + timedelta(minutes=1), until=NOW + timedelta(minutes=3)
        )
        assert [e.object_id for e in window] == ["thing-2", "thing-1"]


def test_memberships(alpha: Database) -> None:
    db = alpha
    bob = make_user(db, "bob@example.com")
    assert bob.actor.user_id is not None
    with scope_of(db, "alpha") as scope:
        members = scope.members
        (owner,) = members.members()
        assert owner.role is Role.OWNER
        assert members.get(bob.actor.user_id) is None
        membership = Membership(scope.project.id, bob.actor.user_id, bob.email, Role.VIEWER, NOW)
        members.insert(membership)
        with pytest.raises(ValueError, match="another project"):
            members.insert(replace(membership, project_id=uuid.uuid4()))
    with scope_of(db, "alpha") as scope:
        members = scope.members
        assert members.get(bob.actor.user_id) == membership
        assert members.lock_owners() == [owner.user_id]
        members.update_role(bob.actor.user_id, Role.OWNER)
        assert sorted(map(str, members.lock_owners())) == sorted(
            [str(owner.user_id), str(bob.actor.user_id)]
        )
        assert [m.email for m in members.members()] == ["bob@example.com", "owner@example.com"]
    with pytest.raises(UniqueConflict), scope_of(db, "alpha") as scope:
        scope.members.insert(membership)
    with scope_of(db, "alpha") as scope:
        scope.members.delete(bob.actor.user_id)
    with scope_of(db, "alpha") as scope:
        assert scope.members.get(bob.actor.user_id) is None


def test_runs(alpha: Database) -> None:
    db = alpha
    with scope_of(db, "alpha") as scope:
        workflow = new_workflow(scope.project.id, "flow")
        scope.workflows.insert(workflow)
        scope.versions.insert(new_info(workflow.id, 1), text(1))
        first = new_run(scope.project.id, workflow)
        second = new_run(scope.project.id, workflow, at=NOW + timedelta(seconds=1))
        for run in (first, second):
            scope.runs.insert(run)
            scope.runs.append(run, [RunEvent(1, EventType.RUN_QUEUED, run.created_at)])
        scope.runs.enqueue(first.id, NOW)
        scope.runs.remember_key(workflow.id, "once", first.id, NOW)
    with scope_of(db, "alpha") as scope:
        runs = scope.runs
        assert runs.get(first.id, for_update=True) == first
        assert runs.page(RunFilter(), 1, None) == [second]
        assert runs.page(RunFilter(workflow_id=workflow.id), 5, (second.created_at, second.id)) == [
            first
        ]
        assert runs.page(RunFilter(status="running"), 5, None) == []
        view = replace(first.view, status=RunStatus.RUNNING, last_seq=2, started_at=NOW)
        runs.save_view(first.id, view)
        runs.append(first, [RunEvent(2, EventType.RUN_STARTED, NOW, None, {"worker": "w"})])
        assert [event.seq for event in runs.events(first.id)] == [1, 2]
        assert [event.seq for event in runs.events(first.id, after=1, limit=1)] == [2]
        assert runs.run_for_key(workflow.id, "once", NOW - timedelta(days=1)) == first.id
        assert runs.run_for_key(workflow.id, "once", NOW + timedelta(days=1)) is None
        assert not runs.holds_lease(first.id, "w", NOW)  # nobody leased it
        assert not runs.reschedule(first.id, "w", None)
        runs.dequeue(first.id)
    with scope_of(db, "alpha") as scope:
        stored = scope.runs.get(first.id)
        assert stored is not None
        assert stored.view == view
    with pytest.raises(EventConflict), scope_of(db, "alpha") as scope:
        scope.runs.append(first, [RunEvent(2, EventType.RUN_STARTED, NOW)])


def test_every_repository_is_a_door_on_the_scope() -> None:
    on_scope = {
        type(value) for value in vars_of_scope().values() if isinstance(value, ProjectRepository)
    }
    assert on_scope == set(repository_classes())


def vars_of_scope() -> dict[str, Any]:
    from meshhook.domain.accounts import Project

    project = Project(id=uuid.uuid4(), key="p", name="P", created_at=NOW)
    scope = ProjectScope(None, project, Role.OWNER)  # type: ignore[arg-type]
    return {name: getattr(scope, name) for name in ProjectScope.__slots__}


# -- another project's ids, on SQLite -------------------------------------------


def repository_classes() -> list[type[ProjectRepository]]:
    found: list[type[ProjectRepository]] = []
    pending = list(ProjectRepository.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: cls.__name__)


def repository_methods() -> set[tuple[str, str]]:
    """(class, method) for every public method a repository adds to the base."""
    base = set(dir(ProjectRepository))
    return {
        (cls.__name__, name)
        for cls in repository_classes()
        for name, _ in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and name not in base
    }


@dataclass(frozen=True)
class Tenant:
    """What one project holds, and the ids by which another could try to reach it."""

    project_id: uuid.UUID
    workflow: Workflow
    trashed: Workflow
    secret: str
    member_id: uuid.UUID
    run: Run
    idempotency_key: str
    destination_id: uuid.UUID
    rule_id: uuid.UUID
    delivery_id: uuid.UUID
    finished: Run
    """A run older than any retention policy keeps."""

    def markers(self) -> set[str]:
        """Strings that appear in anything read from this project and nowhere else."""
        return {
            str(self.project_id),
            str(self.workflow.id),
            str(self.trashed.id),
            str(self.member_id),
            str(self.run.id),
            str(self.finished.id),
            self.workflow.key,
            self.trashed.key,
            self.secret,
            self.idempotency_key,
            str(self.destination_id),
            str(self.rule_id),
            str(self.delivery_id),
        }

    def ids(self) -> set[uuid.UUID]:
        return {
            self.project_id,
            self.workflow.id,
            self.trashed.id,
            self.run.id,
            self.finished.id,
            self.destination_id,
            self.rule_id,
            self.delivery_id,
        }


def populate(db: Database, project: str, member_email: str) -> Tenant:
    member = make_user(db, member_email)
    assert member.actor.user_id is not None
    upper = project.upper()
    with scope_of(db, project) as scope:
        pid = scope.project.id
        workflow = new_workflow(pid, f"{project}-flow", head=2, published=1, is_template=True)
        trashed = new_workflow(pid, f"{project}-old", deleted=True)
        for row in (workflow, trashed):
            scope.workflows.insert(row)
            scope.versions.insert(
                new_info(row.id, 1, state=VersionState.PUBLISHED, tag=f"{project}-v1"), text(1)
            )
        scope.versions.insert(new_info(workflow.id, 2), text(2))
        scope.aliases.put(Alias(workflow.id, "production", 1, NOW, "a@x.org"), exists=False)
        secret = f"{upper}_TOKEN"
        scope.secrets.insert(
            SecretRecord(pid, secret, "", NOW, "a@x.org", NOW, "a@x.org", None, ("x.org",)),
            f"{project}-cipher".encode(),
        )
        scope.secrets.insert_data_key(f"{project}-key", f"{project}-wrapped".encode(), NOW)
        scope.members.insert(Membership(pid, member.actor.user_id, member.email, Role.VIEWER, NOW))
        scope.record_event(CLI, "workflow.create", workflow, {"key": workflow.key})
        run = new_run(pid, workflow)
        scope.runs.insert(run)
        scope.runs.append(run, [RunEvent(1, EventType.RUN_QUEUED, NOW)])
        scope.runs.enqueue(run.id, NOW)
        key = f"{project}-once"
        scope.runs.remember_key(workflow.id, key, run.id, NOW)
        scope.stats.record(workflow.id, finished_outcome(f"{project}-step", f"{project}.broke"))
        scope.webhooks.issue(workflow.id, f"{project}-hook", f"{project}-hash", NOW)
        scope.webhooks.add_deliveries([_delivery(workflow.id, run.id)])
        scope.webhooks.take_token(workflow.id, 1.0, 5, NOW)
        scope.schedules.put(_schedule(workflow.id), exists=False)
        scope.redaction.put_pattern(PatternRecord(f"{project}_code", "X-\\d+", NOW, "a@x.org"))
        scope.redaction.replace_pointers(workflow.id, [f"/{project}"], at=NOW, by="a@x.org")
        destination = _alert_destination(uuid.uuid4())
        scope.alerts.put_destination(destination, exists=False)
        rule = _alert_rule(uuid.uuid4(), workflow.id, destination.id)
        scope.alerts.put_rule(rule, exists=False)
        delivery = _alert_delivery(destination.id, rule.id)
        scope.alerts.enqueue([delivery])
        old = new_run(pid, workflow, at=NOW - timedelta(days=400))
        finished = replace(old, view=replace(old.view, status=RunStatus.SUCCEEDED))
        scope.runs.insert(finished)
        scope.runs.append(finished, [RunEvent(1, EventType.RUN_QUEUED, finished.created_at)])
        scope.retention.save_policy(RetentionPolicy(None, 300), "a@x.org", NOW)
    return Tenant(
        pid,
        workflow,
        trashed,
        secret,
        member.actor.user_id,
        run,
        key,
        destination.id,
        rule.id,
        delivery.id,
        finished,
    )


def _alert_destination(destination_id: uuid.UUID) -> Destination:
    return Destination(
        destination_id, "ops", DestinationKind.SLACK, "https://x.org/in", None, NOW, "a", NOW, "a"
    )


def _alert_rule(rule_id: uuid.UUID, workflow_id: uuid.UUID, destination: uuid.UUID) -> Rule:
    return Rule(
        id=rule_id,
        name="fails",
        kind=RuleKind.RUN_FAILED,
        workflow_id=workflow_id,
        threshold=None,
        window=Window.HOUR,
        min_runs=1,
        cooldown_seconds=60,
        destinations=(destination,),
        enabled=True,
        state=RuleState(),
        created_at=NOW,
        created_by="a",
        updated_at=NOW,
        updated_by="a",
    )


def _alert_delivery(destination_id: uuid.UUID, rule_id: uuid.UUID | None) -> AlertDelivery:
    return AlertDelivery(
        id=uuid.uuid4(),
        destination_id=destination_id,
        rule_id=rule_id,
        event=Event.FIRED,
        payload={"text": "x"},
        status=DeliveryStatus.PENDING,
        attempts=(),
        next_attempt_at=NOW,
        created_at=NOW,
        delivered_at=None,
    )


Call = Callable[[Any, Tenant], Any]


def finished_outcome(node_id: str, error_code: str) -> RunOutcome:
    return RunOutcome(
        status=RunStatus.FAILED,
        finished_at=datetime.now(UTC),
        milliseconds=12.0,
        lag_milliseconds=1.0,
        dead_letter=True,
        error_code=error_code,
        steps=(StepOutcome(node_id, 11.0, failed=True),),
    )


def _delivery(workflow_id: uuid.UUID, run_id: uuid.UUID | None) -> Delivery:
    return Delivery(uuid.uuid4(), workflow_id, NOW, "POST", 202, run_id, 1.0, "10.0.0.1", None)


def _rewrite_all(version: Any) -> Rewrite:
    return Rewrite(b"{}\n", "sha256:" + "0" * 64)


def _schedule(workflow_id: uuid.UUID) -> ScheduleRow:
    return ScheduleRow(workflow_id, "tick", 1, {"every_seconds": 60}, NOW, None, NOW)


def _run_keys(b: Tenant) -> list[RunKey]:
    return [RunKey(run.id, run.created_at) for run in (b.run, b.finished)]


def _alias(b: Tenant) -> Alias:
    return Alias(b.workflow.id, "production", 2, NOW, "thief@example.com")


# Every repository method, called from project A with project B's ids (or, for
# methods without ids, as they are): each must find nothing of B and change
# nothing in B. A new method needs a case here.
CASES: dict[tuple[str, str], list[Call]] = {
    ("AlertStore", "destinations"): [lambda s, b: s.destinations()],
    ("AlertStore", "destination"): [lambda s, b: s.destination(b.destination_id)],
    ("AlertStore", "put_destination"): [
        lambda s, b: s.put_destination(_alert_destination(b.destination_id), exists=True),
        lambda s, b: s.put_destination(_alert_destination(b.destination_id), exists=False),
    ],
    ("AlertStore", "delete_destination"): [lambda s, b: s.delete_destination(b.destination_id)],
    ("AlertStore", "rules"): [lambda s, b: s.rules()],
    ("AlertStore", "rule"): [
        lambda s, b: s.rule(b.rule_id),
        lambda s, b: s.rule(b.rule_id, for_update=True),
    ],
    ("AlertStore", "put_rule"): [
        lambda s, b: s.put_rule(
            _alert_rule(b.rule_id, b.workflow.id, b.destination_id), exists=True
        ),
        lambda s, b: s.put_rule(
            _alert_rule(b.rule_id, b.workflow.id, b.destination_id), exists=False
        ),
    ],
    ("AlertStore", "delete_rule"): [lambda s, b: s.delete_rule(b.rule_id)],
    ("AlertStore", "watching"): [
        lambda s, b: s.watching(b.workflow.id, events=True),
        lambda s, b: s.watching(None, events=False),
    ],
    ("AlertStore", "save_state"): [
        lambda s, b: s.save_state(b.rule_id, RuleState(firing=True, last_fired_at=NOW))
    ],
    ("AlertStore", "enqueue"): [lambda s, b: s.enqueue([_alert_delivery(b.destination_id, None)])],
    ("AlertStore", "deliveries"): [
        lambda s, b: s.deliveries(100),
        lambda s, b: s.deliveries(100, destination_id=b.destination_id, rule_id=b.rule_id),
    ],
    ("AlertStore", "delivery"): [lambda s, b: s.delivery(b.delivery_id)],
    ("AlertStore", "claim"): [
        lambda s, b: s.claim(b.delivery_id, NOW + timedelta(days=1), NOW + timedelta(days=2))
    ],
    ("AlertStore", "record_attempt"): [
        lambda s, b: s.record_attempt(
            b.delivery_id,
            AttemptRecord(NOW, 200, 1.0, None),
            AlertOutcome(DeliveryStatus.DELIVERED, None),
        )
    ],
    ("AlertStore", "prune"): [lambda s, b: s.prune(NOW + timedelta(days=9999))],
    ("AlertStore", "queue_lag"): [lambda s, b: s.queue_lag(NOW + timedelta(days=1))],
    ("StatsStore", "counts"): [
        lambda s, b: s.counts(Window.MONTH, datetime.now(UTC)),
        lambda s, b: s.counts(Window.MONTH, datetime.now(UTC), b.workflow.id),
    ],
    ("AliasStore", "for_workflow"): [lambda s, b: s.for_workflow(b.workflow.id)],
    ("AliasStore", "get"): [lambda s, b: s.get(b.workflow.id, "production")],
    ("AliasStore", "put"): [
        lambda s, b: s.put(_alias(b), exists=True),
        lambda s, b: s.put(_alias(b), exists=False),
    ],
    ("AliasStore", "delete"): [lambda s, b: s.delete(b.workflow.id, "production")],
    ("AuditStore", "entries"): [
        lambda s, b: s.entries(limit=100),
        lambda s, b: s.entries(limit=100, object_id=str(b.workflow.id)),
    ],
    ("AuditStore", "insert"): [
        lambda s, b: s.insert(
            NewAuditEntry(
                actor_id=None,
                actor="thief",
                action="thing.do",
                object_type="workflow",
                object_id="x",
                summary={},
                request_id=None,
                created_at=NOW,
            )
        )
    ],
    ("MembershipStore", "get"): [lambda s, b: s.get(b.member_id)],
    ("MembershipStore", "members"): [lambda s, b: s.members()],
    ("MembershipStore", "lock_owners"): [lambda s, b: s.lock_owners()],
    ("MembershipStore", "insert"): [
        lambda s, b: s.insert(Membership(b.project_id, b.member_id, "m@x.org", Role.OWNER, NOW))
    ],
    ("MembershipStore", "update_role"): [lambda s, b: s.update_role(b.member_id, Role.OWNER)],
    ("MembershipStore", "delete"): [lambda s, b: s.delete(b.member_id)],
    ("RunStore", "insert"): [lambda s, b: s.insert(replace(b.run, id=uuid.uuid4()))],
    ("RunStore", "insert_queued"): [
        lambda s, b: s.insert_queued(
            [(replace(b.run, id=uuid.uuid4()), RunEvent(1, EventType.RUN_QUEUED, NOW))]
        )
    ],
    ("RunStore", "get"): [
        lambda s, b: s.get(b.run.id),
        lambda s, b: s.get(b.run.id, for_update=True),
    ],
    ("RunStore", "page"): [
        lambda s, b: s.page(RunFilter(), 100, None),
        lambda s, b: s.page(RunFilter(workflow_id=b.workflow.id), 100, None),
    ],
    ("RunStore", "save_view"): [
        lambda s, b: s.save_view(b.run.id, replace(b.run.view, status=RunStatus.CANCELLED))
    ],
    ("RunStore", "events"): [lambda s, b: s.events(b.run.id)],
    ("RunStore", "append"): [
        lambda s, b: s.append(b.run, [RunEvent(1, EventType.RUN_CANCELLED, NOW)]),
        lambda s, b: s.append(b.run, [RunEvent(2, EventType.RUN_CANCELLED, NOW)]),
    ],
    ("RunStore", "enqueue"): [lambda s, b: s.enqueue(b.run.id, NOW)],
    ("RunStore", "reschedule"): [
        lambda s, b: s.reschedule(b.run.id, "w", None),
        lambda s, b: s.reschedule(b.run.id, "w", NOW),
    ],
    ("RunStore", "holds_lease"): [lambda s, b: s.holds_lease(b.run.id, "w", NOW)],
    ("RunStore", "dequeue"): [lambda s, b: s.dequeue(b.run.id)],
    ("RunStore", "run_for_key"): [
        lambda s, b: s.run_for_key(b.workflow.id, b.idempotency_key, NOW - timedelta(days=1))
    ],
    ("RunStore", "remember_key"): [
        lambda s, b: s.remember_key(b.workflow.id, b.idempotency_key, b.run.id, NOW)
    ],
    ("ScheduleStore", "for_workflow"): [lambda s, b: s.for_workflow(b.workflow.id)],
    ("ScheduleStore", "put"): [
        lambda s, b: s.put(_schedule(b.workflow.id), exists=False),
        lambda s, b: s.put(_schedule(b.workflow.id), exists=True),
    ],
    ("ScheduleStore", "remove"): [
        lambda s, b: s.remove(b.workflow.id, "tick"),
        lambda s, b: s.remove(b.workflow.id),
    ],
    ("ScheduleStore", "claim"): [lambda s, b: s.claim(b.workflow.id, "tick", NOW)],
    ("ScheduleStore", "advance"): [
        lambda s, b: s.advance(b.workflow.id, "tick", NOW + timedelta(days=1), NOW)
    ],
    ("SecretStore", "records"): [lambda s, b: s.records()],
    ("SecretStore", "names"): [lambda s, b: s.names()],
    ("SecretStore", "get"): [lambda s, b: s.get(b.secret)],
    ("SecretStore", "ciphertext"): [lambda s, b: s.ciphertext(b.secret)],
    ("SecretStore", "restricted_hosts"): [lambda s, b: s.restricted_hosts()],
    ("SecretStore", "names_and_hosts"): [lambda s, b: s.names_and_hosts()],
    ("SecretStore", "insert"): [
        lambda s, b: s.insert(
            SecretRecord(b.project_id, "STOLEN", "", NOW, "t", NOW, "t", None), b"x"
        )
    ],
    ("SecretStore", "update"): [
        lambda s, b: s.update(b.secret, when=NOW, by="thief", ciphertext=b"x", allowed_hosts=None)
    ],
    ("SecretStore", "mark_used"): [lambda s, b: s.mark_used(b.secret, NOW + timedelta(days=1))],
    ("SecretStore", "delete"): [lambda s, b: s.delete(b.secret)],
    ("SecretStore", "data_key"): [
        lambda s, b: s.data_key(),
        lambda s, b: s.data_key(for_update=True),
    ],
    ("StatsStore", "record"): [
        lambda s, b: s.record(b.workflow.id, finished_outcome("thief-step", "thief.code"))
    ],
    ("StatsStore", "summary"): [
        lambda s, b: s.summary(Window.MONTH, datetime.now(UTC)),
        lambda s, b: s.summary(Window.MONTH, datetime.now(UTC), b.workflow.id),
    ],
    ("RedactionStore", "patterns"): [lambda s, b: s.patterns()],
    ("RedactionStore", "put_pattern"): [
        lambda s, b: s.put_pattern(PatternRecord("beta_code", "stolen", NOW, "thief"))
    ],
    ("RedactionStore", "delete_pattern"): [lambda s, b: s.delete_pattern("beta_code")],
    ("RedactionStore", "pointers"): [lambda s, b: s.pointers(b.workflow.id)],
    ("RedactionStore", "pointers_by_workflow"): [lambda s, b: s.pointers_by_workflow()],
    ("RedactionStore", "replace_pointers"): [
        lambda s, b: s.replace_pointers(b.workflow.id, [], at=NOW, by="thief"),
        lambda s, b: s.replace_pointers(b.workflow.id, ["/stolen"], at=NOW, by="thief"),
    ],
    ("StatsStore", "series"): [
        lambda s, b: s.series(Window.WEEK, datetime.now(UTC)),
        lambda s, b: s.series(Window.MONTH, datetime.now(UTC), b.workflow.id),
    ],
    ("RetentionStore", "policy"): [lambda s, b: s.policy()],
    ("RetentionStore", "save_policy"): [
        lambda s, b: s.save_policy(RetentionPolicy(1, None), "thief", NOW)
    ],
    ("RetentionStore", "mark_scrubbed_before"): [
        lambda s, b: s.mark_scrubbed_before(NOW + timedelta(days=1))
    ],
    ("RetentionStore", "expired"): [lambda s, b: s.expired(NOW + timedelta(days=1), 100)],
    ("RetentionStore", "unscrubbed"): [
        lambda s, b: s.unscrubbed(None, NOW + timedelta(days=1), 100)
    ],
    ("RetentionStore", "oldest_unfinished"): [
        lambda s, b: s.oldest_unfinished(None, NOW + timedelta(days=1))
    ],
    ("RetentionStore", "delete_runs"): [lambda s, b: s.delete_runs(_run_keys(b))],
    ("RetentionStore", "delete_expired"): [
        lambda s, b: s.delete_expired(NOW + timedelta(days=1), 100)
    ],
    ("RetentionStore", "scrub_runs"): [lambda s, b: s.scrub_runs(_run_keys(b), NOW)],
    ("RetentionStore", "backlog"): [
        lambda s, b: s.backlog(NOW + timedelta(days=1), NOW + timedelta(days=1))
    ],
    ("SecretStore", "insert_data_key"): [lambda s, b: s.insert_data_key("thief", b"w", NOW)],
    ("SecretStore", "replace_data_key"): [lambda s, b: s.replace_data_key("thief", b"w", NOW)],
    ("VersionStore", "insert"): [
        lambda s, b: s.insert(new_info(b.workflow.id, 3), text(3)),
        lambda s, b: s.insert(new_info(b.trashed.id, 2), text(2)),
    ],
    ("VersionStore", "get"): [
        lambda s, b: s.get(b.workflow.id, 1),
        lambda s, b: s.get(b.workflow.id, 2),
    ],
    ("VersionStore", "get_info"): [lambda s, b: s.get_info(b.workflow.id, 2)],
    ("VersionStore", "workflow_with_head"): [
        lambda s, b: s.workflow_with_head(workflow_id=b.workflow.id),
        lambda s, b: s.workflow_with_head(key=b.workflow.key),
    ],
    ("VersionStore", "list_infos"): [
        lambda s, b: s.list_infos(b.workflow.id, before=None, limit=9)
    ],
    ("VersionStore", "find_by_tag"): [lambda s, b: s.find_by_tag(b.workflow.id, "beta-v1")],
    ("VersionStore", "mark_published"): [
        lambda s, b: s.mark_published(b.workflow.id, 2, when=NOW, by="t", tag="t", note=None)
    ],
    ("VersionStore", "published_infos"): [lambda s, b: s.published_infos(b.workflow.id)],
    ("VersionStore", "every_version"): [lambda s, b: list(s.every_version(b.workflow.id))],
    ("VersionStore", "rewrite_history"): [
        lambda s, b: s.rewrite_history(b.workflow.id, _rewrite_all)
    ],
    ("WebhookStore", "current"): [lambda s, b: s.current(b.workflow.id)],
    ("WebhookStore", "issue"): [lambda s, b: s.issue(b.workflow.id, "thief", "thief-hash", NOW)],
    ("WebhookStore", "retire"): [
        lambda s, b: s.retire(b.workflow.id, NOW - timedelta(days=1), NOW + timedelta(days=1))
    ],
    ("WebhookStore", "add_deliveries"): [
        lambda s, b: s.add_deliveries([_delivery(b.workflow.id, None)])
    ],
    ("WebhookStore", "deliveries"): [lambda s, b: s.deliveries(b.workflow.id, 100)],
    ("WebhookStore", "prune_deliveries"): [
        lambda s, b: s.prune_deliveries(NOW + timedelta(days=9999))
    ],
    ("WebhookStore", "take_token"): [
        lambda s, b: s.take_token(b.workflow.id, 1.0, 5, NOW + timedelta(days=1))
    ],
    ("WorkflowStore", "insert"): [lambda s, b: s.insert(replace(b.workflow, id=uuid.uuid4()))],
    ("WorkflowStore", "find"): [
        lambda s, b: s.find(workflow_id=b.workflow.id),
        lambda s, b: s.find(workflow_id=b.workflow.id, for_update=True),
        lambda s, b: s.find(key=b.workflow.key),
        lambda s, b: s.find(workflow_id=b.trashed.id, deleted=True),
    ],
    ("WorkflowStore", "live_by_keys"): [lambda s, b: s.live_by_keys([b.workflow.key])],
    ("WorkflowStore", "all_live"): [lambda s, b: s.all_live()],
    ("WorkflowStore", "all_with_trash"): [lambda s, b: s.all_with_trash(for_update=True)],
    ("WorkflowStore", "purge"): [lambda s, b: s.purge(b.workflow.id)],
    ("WorkflowStore", "key_in_use"): [lambda s, b: s.key_in_use(b.workflow.key)],
    ("WorkflowStore", "update_fields"): [
        lambda s, b: s.update_fields(b.workflow.id, name="Stolen", key="stolen")
    ],
    ("WorkflowStore", "touch"): [
        lambda s, b: s.touch(b.trashed.id, when=NOW, by="thief", deleted_at=None)
    ],
    ("WorkflowStore", "list_page"): [
        lambda s, b: s.list_page(
            WorkflowFilter(q=b.workflow.key), sort="name", descending=False, after=None, limit=50
        ),
        lambda s, b: s.list_page(
            WorkflowFilter(deleted=True), sort="updated_at", descending=True, after=None, limit=50
        ),
    ],
    ("WorkflowStore", "list_templates"): [lambda s, b: s.list_templates()],
}

# RunStore was left as it was (it trusts the run and workflow ids it is handed
# for the rows it inserts): these calls write a row into project A that points
# at B's run or workflow. B's own rows stay as they were, which is checked.
REFERENCES_B_FROM_A = {
    ("RunStore", "insert"),
    ("RunStore", "insert_queued"),
    ("RunStore", "append"),
    # The engine records a finished run of the workflow it ran, like RunStore.
    ("StatsStore", "record"),
    # The service resolves the workflow in its own project before it sets pointers.
    ("RedactionStore", "replace_pointers"),
    ("WebhookStore", "issue"),
    ("WebhookStore", "add_deliveries"),
}

# What a refused call may raise (a raise rolls the transaction back: nothing changed).
REFUSALS = (MeshHookError, ValueError, IntegrityError)

STORE_OF = {
    "AlertStore": "alerts",
    "AliasStore": "aliases",
    "AuditStore": "audit",
    "MembershipStore": "members",
    "RedactionStore": "redaction",
    "RetentionStore": "retention",
    "RunStore": "runs",
    "ScheduleStore": "schedules",
    "SecretStore": "secrets",
    "StatsStore": "stats",
    "VersionStore": "versions",
    "WebhookStore": "webhooks",
    "WorkflowStore": "workflows",
}


def test_every_repository_method_has_a_cross_project_case() -> None:
    methods = repository_methods()
    assert methods, "no repository methods found"
    missing = sorted(methods - set(CASES))
    assert not missing, f"methods without a cross-project case: {missing}"
    assert not sorted(set(CASES) - methods), "cases for methods that no longer exist"
    assert {cls.__name__ for cls in repository_classes()} == set(STORE_OF)


def tenant_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that has a ``project_id``, by table (sorted)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if "project_id" in table.c:
                rows = connection.execute(select(table)).all()
                found[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return found


def of_project(rows: dict[str, list[tuple[Any, ...]]], project_id: uuid.UUID) -> Any:
    """The rows of ``rows`` that belong to ``project_id``."""
    kept: dict[str, list[tuple[Any, ...]]] = {}
    for table in metadata.sorted_tables:
        if table.name in rows:
            at = list(table.c.keys()).index("project_id")
            kept[table.name] = [row for row in rows[table.name] if row[at] == project_id]
    return kept


def pointing_at(
    rows: dict[str, list[tuple[Any, ...]]], project_id: uuid.UUID, ids: set[uuid.UUID]
) -> list[tuple[str, tuple[Any, ...]]]:
    """Rows of other projects that hold one of ``ids``."""
    found = []
    for table in metadata.sorted_tables:
        if table.name in rows:
            at = list(table.c.keys()).index("project_id")
            for row in rows[table.name]:
                if row[at] != project_id and any(
                    isinstance(value, uuid.UUID) and value in ids for value in row
                ):
                    found.append((table.name, row))
    return found


def remove(db: Database, rows: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Delete rows (by primary key) so later cases start from the same state."""
    with db.engine.begin() as connection:
        for name, row in rows:
            table = metadata.tables[name]
            values = dict(zip(table.c.keys(), row, strict=True))
            key = [column == values[column.name] for column in table.primary_key.columns]
            connection.execute(table.delete().where(*key))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_another_projects_ids_find_nothing_and_change_nothing(db: Database) -> None:
    owner = make_user(db, "owner@example.com")
    make_project(db, "alpha", owner)
    make_project(db, "beta", owner)
    populate(db, "alpha", "amy@example.com")
    b = populate(db, "beta", "bob@example.com")
    before = tenant_rows(db)
    b_rows = of_project(before, b.project_id)
    assert all(
        b_rows[name]
        for name in ("workflows", "aliases", "secrets", "runs", "run_queue", "schedules")
    )
    markers = b.markers()
    for (cls, method), calls in sorted(CASES.items()):
        for index, call in enumerate(calls):
            where = f"{cls}.{method} (case {index})"
            result: Any = None
            try:
                with scope_of(db, "alpha") as scope:
                    result = call(getattr(scope, STORE_OF[cls]), b)
            except REFUSALS:
                pass
            seen = [marker for marker in markers if marker in repr(result)]
            assert not seen, f"{where} found project B's {seen}: {result!r}"
            after = tenant_rows(db)
            assert of_project(after, b.project_id) == b_rows, f"{where} changed project B"
            stray = pointing_at(after, b.project_id, b.ids())
            if (cls, method) in REFERENCES_B_FROM_A:
                remove(db, stray)
            else:
                assert not stray, f"{where} wrote rows pointing at project B: {stray}"


def test_the_unique_conflict_helper_maps_only_integrity_errors() -> None:
    with pytest.raises(UniqueConflict, match="taken"), repository.unique_conflicts("taken"):
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
    with pytest.raises(KeyError), repository.unique_conflicts("taken"):
        raise KeyError("other")
