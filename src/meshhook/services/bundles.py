"""Bundles: export workflows with their published history, import them into
another project or installation, matched by key only, in one transaction.

Import is create-only unless ``force`` (which replaces the named workflows and
deletes their old history); ``dry_run`` checks everything, writes nothing and
says what would happen. Any error writes nothing.
"""

from __future__ import annotations

import functools
import io
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any, BinaryIO, Literal

import orjson

from meshhook.domain import bundle_format
from meshhook.domain.accounts import Actor, Role, check_key
from meshhook.domain.bundle_format import BundleVersion, BundleWorkflow
from meshhook.domain.diff import diff_definitions
from meshhook.domain.errors import Conflict, NotFound, Problem, ValidationFailed
from meshhook.domain.limits import cap_problems
from meshhook.domain.preparation import derived_problems
from meshhook.domain.secret_fields import host_problems
from meshhook.domain.workflows import Alias, VersionInfo, VersionState, Workflow, check_tags
from meshhook.services import definitions, schedules
from meshhook.services.transactions import ProjectScope, project_transaction
from meshhook.store.db import Database

SCHEMA_NAME = "workflow-bundle.v1.json"


@functools.cache
def schema_bytes() -> bytes:
    """The bundle's JSON Schema exactly as shipped in the package."""
    return files("meshhook").joinpath("schemas", SCHEMA_NAME).read_bytes()


@functools.cache
def bundle_schema() -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(schema_bytes())
    return value


# -- export -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportedBundle:
    data: bytes
    keys: tuple[str, ...]
    filename: str


def _bundled_versions(scope: ProjectScope, workflow: Workflow) -> tuple[BundleVersion, ...]:
    infos = scope.versions.published_infos(workflow.id)
    if not infos or infos[-1].number != workflow.head_version:
        head = scope.versions.get_info(workflow.id, workflow.head_version)
        assert head is not None, "every workflow has its head version"
        infos.append(head)
    versions = []
    for info in infos:
        stored = scope.versions.get(workflow.id, info.number)
        assert stored is not None
        versions.append(
            BundleVersion(
                number=info.number,
                state=info.state,
                message=info.message,
                tag=info.tag,
                note=info.note,
                definition=definitions.load(stored.definition),
            )
        )
    return tuple(versions)


def _bundled(scope: ProjectScope, workflow: Workflow) -> BundleWorkflow:
    return BundleWorkflow(
        key=workflow.key,
        name=workflow.name,
        description=workflow.description,
        tags=workflow.tags,
        is_template=workflow.is_template,
        published_version=workflow.published_version,
        aliases={alias.name: alias.version for alias in scope.aliases.for_workflow(workflow.id)},
        versions=_bundled_versions(scope, workflow),
    )


def _chosen(scope: ProjectScope, keys: Sequence[str] | None) -> list[Workflow]:
    if keys is None:
        return scope.workflows.all_live()
    wanted = [check_key(key, path=f"/keys/{index}") for index, key in enumerate(keys)]
    found = scope.workflows.live_by_keys(wanted)
    missing = sorted(set(wanted) - {workflow.key for workflow in found})
    if missing:
        raise NotFound(
            f"no workflow with key {', '.join(map(repr, missing))} in project "
            f"{scope.project.key!r}",
            extra={"missing_keys": missing},
        )
    return found


def _export(
    db: Database,
    actor: Actor,
    project_key: str,
    choose: Callable[[ProjectScope], list[Workflow]],
    *,
    single: bool,
) -> ExportedBundle:
    with project_transaction(db, actor, project_key, Role.ADMIN, write=False) as scope:
        bundled = [_bundled(scope, workflow) for workflow in choose(scope)]
    data = bundle_format.write_bundle(bundled, exported_at=datetime.now(UTC))
    exported = tuple(workflow.key for workflow in bundled)
    # Recorded apart so a long read never holds the write lock.
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        scope.record(
            actor,
            "bundle.export",
            object_type="project",
            object_id=str(scope.project.id),
            summary={"keys": list(exported[:100]), "workflows": len(exported)},
        )
    name = f"{project_key}-{exported[0]}" if single else project_key
    return ExportedBundle(data=data, keys=exported, filename=f"{name}.bundle.json")


def export_bundle(
    db: Database, actor: Actor, project_key: str, keys: Sequence[str] | None = None
) -> ExportedBundle:
    """A bundle of the project's live workflows named in ``keys``, or all (admin)."""
    return _export(db, actor, project_key, lambda scope: _chosen(scope, keys), single=False)


def export_workflow(db: Database, actor: Actor, project_key: str, ref: str) -> ExportedBundle:
    """A bundle holding one workflow, by id or key (admin)."""
    return _export(db, actor, project_key, lambda scope: [scope.find_workflow(ref)], single=True)


# -- import -----------------------------------------------------------------------

Action = Literal["create", "replace"]


@dataclass(frozen=True, slots=True)
class ImportedWorkflow:
    key: str
    action: Action
    workflow_id: uuid.UUID | None
    """The new id; ``None`` in a dry run."""
    replaced_id: uuid.UUID | None
    versions: int
    head_version: int
    published_version: int | None
    diff: dict[str, Any] | None = None
    """Replacements in a dry run: the structural diff from the current head to the
    bundle's head."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    dry_run: bool
    workflows: list[ImportedWorkflow]
    warnings: list[Problem] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for item in self.workflows if item.action == action)


@dataclass(frozen=True, slots=True)
class _Stored:
    """Where a version's canonical bytes wait in the import's spool file."""

    offset: int
    length: int
    content_hash: str


@dataclass(frozen=True, slots=True)
class _Staged:
    """A checked workflow of the bundle: its metadata (the versions' definitions
    dropped) and where each version's canonical bytes are spooled."""

    workflow: BundleWorkflow
    stored: tuple[_Stored, ...]


@dataclass(slots=True)
class _Staging:
    """Everything an import keeps of a bundle once it is read: no definitions."""

    workflows: list[_Staged] = field(default_factory=list)
    node_types: set[str] = field(default_factory=set)
    secrets: set[str] = field(default_factory=set)
    host_warnings: list[Problem] = field(default_factory=list)

    def dependencies(self) -> dict[str, list[str]]:
        return {"nodeTypes": sorted(self.node_types), "secrets": sorted(self.secrets)}


class _Spool:
    """Canonical bytes written one version at a time to a temporary file, read
    back one at a time by the import's transaction."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file

    def put(self, data: bytes, content_hash: str) -> _Stored:
        self.file.seek(0, io.SEEK_END)
        offset = self.file.tell()
        self.file.write(data)
        return _Stored(offset, len(data), content_hash)

    def get(self, stored: _Stored) -> bytes:
        self.file.seek(stored.offset)
        return self.file.read(stored.length)


def _stage(
    source: BinaryIO,
    spool: _Spool,
    restricted: Mapping[str, Sequence[str]],
) -> tuple[_Staging, bundle_format.BundleReader]:
    """Read the bundle one workflow at a time: check and canonicalise each
    definition and spool its bytes, keep only metadata. All problems at once,
    with paths into the bundle. Published versions must be complete
    (``secret.unknown`` aside: the target's secrets are reported as warnings
    instead); those that would send one of ``restricted``'s secrets to a host it
    does not allow are imported with a warning."""
    reader = bundle_format.BundleReader(source, bundle_schema())
    staging = _Staging()
    problems = bundle_format.ProblemCollector()
    for w, workflow in reader.workflows():
        if problems.full:
            continue  # enough to report; the reader still checks the rest
        at = bundle_format.workflow_pointer(w)
        try:
            check_tags(list(workflow.tags), path=f"{at}/tags")
        except ValidationFailed as error:
            problems.extend(error.errors)
        stored: list[_Stored] = []
        for v, version in enumerate(workflow.versions):
            where = bundle_format.definition_pointer(w, v)
            try:
                ready = definitions.prepare(version.definition, pointer_prefix=where)
            except ValidationFailed as error:
                problems.extend(error.errors)
                continue
            if problems:
                continue  # nothing will be written: spool nothing more
            stored.append(spool.put(ready.canonical, ready.content_hash))
            if version.state is VersionState.PUBLISHED:
                # Drafts' problems are derived when read; only published ones block.
                found = derived_problems(
                    ready.definition, secret_names=None, allowed_hosts=None, graph=ready.graph
                )
                problems.extend(
                    Problem(where + problem.path, problem.code, problem.message)
                    for problem in definitions.blocking(found)
                )
                if restricted:
                    staging.host_warnings.extend(
                        Problem(where + problem.path, problem.code, problem.message, "warning")
                        for problem in host_problems(version.definition, restricted)
                    )
        if problems:
            continue
        used = bundle_format.dependencies_of([workflow])
        staging.node_types.update(used["nodeTypes"])
        staging.secrets.update(used["secrets"])
        bare = tuple(replace(version, definition={}) for version in workflow.versions)
        staging.workflows.append(_Staged(replace(workflow, versions=bare), tuple(stored)))
    reader.finish()
    if problems:
        raise problems.refusal("the bundle holds definitions that cannot be imported")
    return staging, reader


def _secret_warnings(scope: ProjectScope, staging: _Staging) -> list[Problem]:
    present = scope.secrets.names()
    return staging.host_warnings + [
        Problem(
            f"/dependencies/secrets/{index}",
            "secret.unknown",
            f"secret {name!r} does not exist in project {scope.project.key!r}; create it "
            "before runs need it",
            "warning",
        )
        for index, name in enumerate(staging.dependencies()["secrets"])
        if name not in present
    ]


def _refuse_existing(staged: Sequence[_Staged], existing: dict[str, Workflow]) -> Conflict:
    keys = sorted(existing)
    return Conflict(
        f"{len(keys)} workflow(s) of this bundle already exist: {', '.join(keys)}. Nothing "
        "was imported; pass force=true to replace them (their history is deleted)",
        errors=[
            Problem(
                f"{bundle_format.workflow_pointer(index)}/key",
                "bundle.key_exists",
                f"a workflow with key {workflow.key!r} already exists",
            )
            for index, workflow in enumerate(item.workflow for item in staged)
            if workflow.key in existing
        ],
        extra={"existing_keys": keys},
    )


def _insert(
    scope: ProjectScope, actor: Actor, staged: _Staged, spool: _Spool, now: datetime
) -> uuid.UUID:
    workflow = staged.workflow
    row = Workflow(
        id=uuid.uuid4(),
        project_id=scope.project.id,
        key=workflow.key,
        name=workflow.name,
        description=workflow.description,
        tags=workflow.tags,
        is_template=workflow.is_template,
        head_version=workflow.head.number,
        published_version=workflow.published_version,
        created_at=now,
        created_by=actor.label,
        updated_at=now,
        updated_by=actor.label,
        deleted_at=None,
    )
    scope.workflows.insert(row)
    parent: int | None = None
    for version, stored in zip(workflow.versions, staged.stored, strict=True):
        published = version.state is VersionState.PUBLISHED
        info = VersionInfo(
            workflow_id=row.id,
            number=version.number,
            content_hash=stored.content_hash,
            parent_number=parent,
            message=version.message,
            state=version.state,
            created_at=now,
            created_by=actor.label,
            published_at=now if published else None,
            published_by=actor.label if published else None,
            tag=version.tag,
            note=version.note,
        )
        scope.versions.insert(info, spool.get(stored))
        parent = version.number
    for name, number in sorted(workflow.aliases.items()):
        alias = Alias(
            workflow_id=row.id, name=name, version=number, updated_at=now, updated_by=actor.label
        )
        scope.aliases.put(alias, exists=False)
    schedules.sync(scope, row.id)  # an imported live schedule starts firing
    return row.id


def _current_head(scope: ProjectScope, workflow: Workflow) -> dict[str, Any]:
    head = scope.versions.get(workflow.id, workflow.head_version)
    assert head is not None, "every workflow has its head version"
    return definitions.load(head.definition)


def import_bundle(
    db: Database,
    actor: Actor,
    project_key: str,
    data: bytes | BinaryIO,
    *,
    force: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Import a bundle (its bytes, or a file positioned at its start) into a
    project (admin), all or nothing.

    Keys decide identity: a key no live workflow has is created; one that exists
    is refused (409, nothing written) unless ``force``, which deletes that
    workflow with its history and creates the bundled one with a new id. Version
    numbers, tags, messages and aliases are kept.

    The bundle is read one workflow at a time and each version's canonical bytes
    wait in a temporary file, so memory holds one workflow, not the bundle; the
    writes then happen in one transaction.
    """
    # Who may import is settled first: a caller without the role learns nothing
    # about the bundle. Checking it happens outside the write transaction, so
    # the write lock is never held while the bundle is parsed.
    with project_transaction(db, actor, project_key, Role.ADMIN, write=False) as scope:
        restricted = scope.secrets.restricted_hosts()
    source = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    with tempfile.TemporaryFile(prefix="meshhook-import-") as file:
        spool = _Spool(file)
        staging, reader = _stage(source, spool, restricted)
        warnings = bundle_format.dependency_warnings(
            reader.declared_dependencies, staging.dependencies()
        )
        return _write(db, actor, project_key, staging, spool, warnings, force, dry_run)


def _write(
    db: Database,
    actor: Actor,
    project_key: str,
    staging: _Staging,
    spool: _Spool,
    warnings: list[Problem],
    force: bool,
    dry_run: bool,
) -> ImportReport:
    now = datetime.now(UTC)
    staged = staging.workflows
    with project_transaction(db, actor, project_key, Role.ADMIN, write=not dry_run) as scope:
        existing = {
            workflow.key: workflow
            for workflow in scope.workflows.live_by_keys([item.workflow.key for item in staged])
        }
        if existing and not force:
            raise _refuse_existing(staged, existing)
        warnings.extend(_secret_warnings(scope, staging))
        report: list[ImportedWorkflow] = []
        for item in staged:
            workflow = item.workflow
            old = existing.get(workflow.key)
            new_id = None
            diff = None
            if dry_run:
                if old is not None:
                    head = definitions.load(spool.get(item.stored[-1]))
                    diff = diff_definitions(_current_head(scope, old), head)
            else:
                if old is not None:
                    scope.workflows.purge(old.id)
                new_id = _insert(scope, actor, item, spool, now)
                scope.record(
                    actor,
                    "workflow.import",
                    object_type="workflow",
                    object_id=str(new_id),
                    summary={
                        "key": workflow.key,
                        "action": "replace" if old else "create",
                        "version": workflow.head.number,
                        **({"replaced_id": str(old.id)} if old else {}),
                    },
                )
            report.append(
                ImportedWorkflow(
                    key=workflow.key,
                    action="replace" if old is not None else "create",
                    workflow_id=new_id,
                    replaced_id=old.id if old is not None else None,
                    versions=len(workflow.versions),
                    head_version=workflow.head.number,
                    published_version=workflow.published_version,
                    diff=diff,
                )
            )
    return ImportReport(dry_run=dry_run, workflows=report, warnings=cap_problems(warnings))
