"""Workflow management: create (blank, from a template, clone), read, list,
edit metadata, delete to the trash and restore."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from meshhook.domain.accounts import Actor, Role, check_key, check_name, slugify
from meshhook.domain.errors import (
    BadRequest,
    Conflict,
    NotFound,
    Problem,
    UniqueConflict,
    ValidationFailed,
)
from meshhook.domain.limits import MAX_DESCRIPTION_LENGTH, MAX_KEY_LENGTH
from meshhook.domain.pagination import bad_cursor, decode_cursor, encode_cursor
from meshhook.domain.workflows import (
    VersionInfo,
    VersionState,
    Workflow,
    WorkflowFilter,
    check_tags,
    check_text,
)
from meshhook.domain.workflows import (
    WorkflowDetail as WorkflowDetail,  # re-exported: the api answers with it
)
from meshhook.services import definitions, schedules
from meshhook.services.templates import builtin_templates
from meshhook.services.transactions import (
    ProjectScope,
    as_uuid,
    enter_project,
    project_transaction,
    transaction,
)
from meshhook.store import projects as project_store
from meshhook.store.db import Database
from meshhook.store.workflows import SORTS

DEFAULT_SORT = "-updated_at"


@dataclass(frozen=True, slots=True)
class NewWorkflow:
    name: str
    key: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    is_template: bool = False


def _key_taken(key: str) -> Conflict:
    return Conflict(
        f"a workflow with key {key!r} already exists in this project",
        errors=[Problem("/key", "key.taken", "choose another key")],
    )


def _free_key(scope: ProjectScope, wanted: str | None, name: str) -> str:
    if wanted is not None:
        key = check_key(wanted)
        if scope.workflows.key_in_use(key):
            raise _key_taken(key)
        return key
    base = slugify(name)
    key, counter = base, 1
    while scope.workflows.key_in_use(key):
        counter += 1
        suffix = f"-{counter}"
        key = base[: MAX_KEY_LENGTH - len(suffix)] + suffix
    return key


def insert_new(
    scope: ProjectScope,
    actor: Actor,
    new: NewWorkflow,
    prepared: definitions.PreparedDefinition,
    *,
    message: str,
    action: str = "workflow.create",
    summary: dict[str, Any] | None = None,
) -> WorkflowDetail:
    """Insert a workflow with version 1 inside the scoped transaction."""
    name = check_name(new.name)
    now = datetime.now(UTC)
    workflow = Workflow(
        id=uuid.uuid4(),
        project_id=scope.project.id,
        key=_free_key(scope, new.key, name),
        name=name,
        description=check_text(
            new.description, path="/description", maximum=MAX_DESCRIPTION_LENGTH
        ),
        tags=check_tags(list(new.tags)),
        is_template=new.is_template,
        head_version=1,
        published_version=None,
        created_at=now,
        created_by=actor.label,
        updated_at=now,
        updated_by=actor.label,
        deleted_at=None,
    )
    info = VersionInfo(
        workflow_id=workflow.id,
        number=1,
        content_hash=prepared.content_hash,
        parent_number=None,
        message=message,
        state=VersionState.DRAFT,
        created_at=now,
        created_by=actor.label,
        published_at=None,
        published_by=None,
        tag=None,
        note=None,
    )
    scope.workflows.insert(workflow)  # a key taken meanwhile is a conflict raised here
    with scope.writes_together():  # version 1, the head row, the audit entry
        scope.versions.insert(info, prepared.canonical)
        scope.record_event(actor, action, workflow, {"version": 1, **(summary or {})})
    problems = scope.problems(prepared.content_hash, prepared.definition, graph=prepared.graph)
    return WorkflowDetail(
        workflow=workflow, head=info, definition=prepared.canonical, problems=problems
    )


def create(
    db: Database,
    actor: Actor,
    project_key: str,
    new: NewWorkflow,
    *,
    definition: Any = None,
    template: str | None = None,
) -> WorkflowDetail:
    """Create a workflow from a definition or a template (exactly one)."""
    if (definition is None) == (template is None):
        raise ValidationFailed(
            "send either a definition or a template",
            errors=[
                Problem("/definition", "create.source", "give exactly one of definition, template")
            ],
        )
    try:
        with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
            if template is not None:
                source, origin = _template_definition(scope, actor, template)
                prepared = definitions.prepare(source, pointer_prefix="/template")
                return insert_new(
                    scope,
                    actor,
                    new,
                    prepared,
                    message=f"Created from template {origin}",
                    summary={"template": origin},
                )
            prepared = definitions.prepare(definition)
            return insert_new(scope, actor, new, prepared, message="Created")
    except UniqueConflict as error:  # a concurrent create took the key
        raise Conflict("a workflow with that key was created at the same time") from error


BUILTIN_PREFIX = "builtin:"


def _template_definition(scope: ProjectScope, actor: Actor, ref: str) -> tuple[Any, str]:
    """The definition a ``template`` reference names, and how to name it in the message.

    Resolution, first match wins: ``builtin:KEY`` is always the built-in; then a
    template workflow of the caller's project by id or key; then a built-in by
    key; then a template workflow by id in another project of the caller. The
    project's own template comes before a built-in of the same key because
    built-ins are added by upgrades: a key the project chose must keep meaning
    what it meant.
    """
    if ref.startswith(BUILTIN_PREFIX):
        builtin = builtin_templates().get(ref.removeprefix(BUILTIN_PREFIX))
        if builtin is None:
            raise _unknown_template(ref)
        return builtin.definition, ref
    try:
        local: Workflow | None = scope.find_workflow(ref)
    except NotFound:
        local = None
    if local is not None and local.is_template:
        return _head_definition(scope, local), local.key
    builtin = builtin_templates().get(ref)
    if builtin is not None:
        return builtin.definition, ref
    if local is not None:
        raise ValidationFailed(
            f"workflow {ref!r} is not marked as a template",
            errors=[Problem("/template", "template.not_template", "mark it is_template first")],
        )
    return _template_elsewhere(scope, actor, ref)


def _head_definition(scope: ProjectScope, workflow: Workflow) -> Any:
    version = scope.versions.get(workflow.id, workflow.head_version)
    assert version is not None
    return definitions.load(version.definition)


def _unknown_template(ref: str) -> NotFound:
    return NotFound(
        f"no template {ref!r}: not a built-in template, nor a template workflow you can read",
        errors=[Problem("/template", "template.unknown", "see GET /api/v1/templates")],
    )


def _template_elsewhere(scope: ProjectScope, actor: Actor, ref: str) -> tuple[Any, str]:
    """The head definition of a template workflow, by id, in another project
    the actor belongs to.

    Its version is read while the session is scoped to that project: on
    PostgreSQL row-level security hides another project's versions.
    """
    as_id = as_uuid(ref)
    if as_id is not None and actor.user_id is not None:
        for project, role in project_store.list_for_user(scope.session, actor.user_id):
            with scope.other_project(project, role) as there:
                found = there.workflows.find(workflow_id=as_id)
                if found is not None and found.is_template:
                    return _head_definition(there, found), found.key
    raise _unknown_template(ref)


def get(db: Database, actor: Actor, project_key: str, ref: str) -> WorkflowDetail:
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        return scope.find_detail(ref)


def list_workflows(
    db: Database,
    actor: Actor,
    project_key: str,
    filters: WorkflowFilter,
    *,
    sort: str = DEFAULT_SORT,
    limit: int,
    cursor: str | None,
) -> tuple[list[Workflow], str | None]:
    """A page of workflow metadata (no definitions), keyset-paginated."""
    field = sort.removeprefix("-")
    if field not in SORTS:
        raise ValidationFailed(
            f"cannot sort by {sort!r}",
            errors=[
                Problem(
                    "query:/sort",
                    "sort.unknown",
                    "use name, updated_at or created_at, with - for descending",
                )
            ],
        )
    after = _decode_list_cursor(cursor, sort) if cursor else None
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        rows = scope.workflows.list_page(
            filters,
            sort=field,
            descending=sort.startswith("-"),
            after=after,
            limit=limit + 1,
        )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        value = getattr(last, field)
        shown = value.isoformat() if isinstance(value, datetime) else value
        next_cursor = encode_cursor([sort, shown, str(last.id)])
    return rows[:limit], next_cursor


def _decode_list_cursor(cursor: str, sort: str) -> tuple[Any, uuid.UUID]:
    cursor_sort, value, last_id = decode_cursor(cursor, types=(str, str, str))
    as_id = as_uuid(last_id)
    if cursor_sort != sort or as_id is None:
        raise bad_cursor()
    if sort.removeprefix("-") == "name":
        return value, as_id
    try:
        return datetime.fromisoformat(value), as_id
    except ValueError:
        raise bad_cursor() from None


def update_metadata(
    db: Database, actor: Actor, project_key: str, ref: str, changes: dict[str, Any]
) -> WorkflowDetail:
    """Change name, description, tags, the template flag or the key (not the definition).

    A new key must be free among live workflows; the old one is free afterwards.
    A key change is audited on its own as ``workflow.rekey`` (from, to).
    """
    values: dict[str, Any] = {}
    new_key = check_key(changes["key"]) if "key" in changes else None
    if "name" in changes:
        values["name"] = check_name(changes["name"])
    if "description" in changes:
        values["description"] = check_text(
            changes["description"], path="/description", maximum=MAX_DESCRIPTION_LENGTH
        )
    if "tags" in changes:
        values["tags"] = check_tags(list(changes["tags"]))
    if "is_template" in changes:
        values["is_template"] = bool(changes["is_template"])
    try:
        return _update_metadata(db, actor, project_key, ref, values, new_key)
    except UniqueConflict as error:  # the key was taken by a concurrent create or rename
        raise _key_taken(new_key or "") from error


def _update_metadata(
    db: Database,
    actor: Actor,
    project_key: str,
    ref: str,
    values: dict[str, Any],
    new_key: str | None,
) -> WorkflowDetail:
    with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
        workflow = scope.find_workflow(ref, for_update=True)
        before = {name: getattr(workflow, name) for name in values}
        changed = {name: value for name, value in values.items() if before[name] != value}
        if new_key is not None and new_key != workflow.key:
            _rekey(scope, actor, workflow, new_key)
        if changed:
            scope.workflows.touch(workflow.id, when=datetime.now(UTC), by=actor.label, **changed)
            scope.record_event(
                actor,
                "workflow.update",
                workflow,
                {
                    "changed": sorted(changed),
                },
            )
        return scope.detail(scope.find_workflow(str(workflow.id)))


def _rekey(scope: ProjectScope, actor: Actor, workflow: Workflow, new_key: str) -> None:
    if scope.workflows.key_in_use(new_key):
        raise _key_taken(new_key)
    scope.workflows.touch(workflow.id, when=datetime.now(UTC), by=actor.label, key=new_key)
    scope.record_event(actor, "workflow.rekey", workflow, {"from": workflow.key, "to": new_key})


def delete(db: Database, actor: Actor, project_key: str, ref: str) -> None:
    """Move a workflow to the trash; its key becomes free, its id restorable."""
    with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
        workflow = scope.find_workflow(ref, for_update=True)
        now = datetime.now(UTC)
        scope.workflows.touch(workflow.id, when=now, by=actor.label, deleted_at=now)
        schedules.sync(scope, workflow.id, now)  # a trashed workflow fires nothing
        scope.record_event(actor, "workflow.delete", workflow, {})


def restore(
    db: Database, actor: Actor, project_key: str, workflow_id: str, key: str | None = None
) -> WorkflowDetail:
    """Bring a workflow back from the trash, under its old key or under ``key``.

    Its old key may have been reused meanwhile: then restoring needs a new key
    (409 ``key.taken`` at ``/key`` otherwise).
    """
    new_key = check_key(key) if key is not None else None
    try:
        return _restore(db, actor, project_key, workflow_id, new_key)
    except UniqueConflict as error:  # the key was taken by a concurrent create or rename
        raise _key_taken(new_key or "") from error


def _restore(
    db: Database, actor: Actor, project_key: str, workflow_id: str, new_key: str | None
) -> WorkflowDetail:
    with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
        if as_uuid(workflow_id) is None:
            raise BadRequest(
                f"restore needs the workflow's id, not a key like {workflow_id!r}: the key of a"
                " deleted workflow is free for reuse, so it may name another workflow; find the"
                f" id with GET /api/v1/projects/{scope.project.key}/workflows?deleted=true"
            )
        workflow = scope.find_workflow(workflow_id, for_update=True, deleted=True)
        wanted = new_key or workflow.key
        if scope.workflows.key_in_use(wanted):
            raise Conflict(
                f"another workflow now uses the key {wanted!r}; restore it under a new key "
                '(body {"key": "..."})',
                errors=[Problem("/key", "key.taken", "choose another key")],
            )
        values: dict[str, Any] = {"deleted_at": None}
        if wanted != workflow.key:
            values["key"] = wanted
        scope.workflows.touch(workflow.id, when=datetime.now(UTC), by=actor.label, **values)
        summary = {"from": workflow.key, "to": wanted} if wanted != workflow.key else {}
        scope.record_event(actor, "workflow.restore", workflow, summary)
        schedules.sync(scope, workflow.id)
        return scope.detail(scope.find_workflow(str(workflow.id)))


def clone(
    db: Database, actor: Actor, project_key: str, ref: str, new: NewWorkflow
) -> WorkflowDetail:
    """A new workflow whose version 1 is this workflow's head."""
    with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
        source = scope.find_workflow(ref)
        head = scope.versions.get(source.id, source.head_version)
        assert head is not None
        definitions.ensure_no_stored_secrets(
            head.definition, what=f"version {source.head_version} of {source.key!r}"
        )
        prepared = definitions.PreparedDefinition(
            definition=definitions.load(head.definition),
            canonical=head.definition,
            content_hash=head.info.content_hash,
        )
        return insert_new(
            scope,
            actor,
            new,
            prepared,
            message=f"Cloned from {source.key} version {source.head_version}",
            action="workflow.clone",
            summary={"source": source.key, "source_version": source.head_version},
        )


def list_templates(db: Database, actor: Actor) -> list[tuple[str, Workflow]]:
    """Template workflows in every project the actor belongs to, with its key."""
    found: list[tuple[str, Workflow]] = []
    with transaction(db, actor, write=False) as session:
        if actor.user_id is None:
            return []
        for project, role in project_store.list_for_user(session, actor.user_id):
            scope = enter_project(session, project, role)
            found.extend((project.key, w) for w in scope.workflows.list_templates())
    return found
