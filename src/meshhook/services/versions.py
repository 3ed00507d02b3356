"""Versions: save (with three-way merge of stale saves), history, publish,
revert, compare, aliases. Every version is immutable once written, except the
draft → published state change."""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.bounded_cache import BoundedCache
from meshhook.domain.diff import diff_definitions
from meshhook.domain.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    Problem,
    UniqueConflict,
    ValidationFailed,
)
from meshhook.domain.indexes import AllExcept
from meshhook.domain.limits import MAX_NOTE_LENGTH, cap_problems
from meshhook.domain.merge import three_way_merge
from meshhook.domain.pagination import decode_cursor, encode_cursor
from meshhook.domain.patch import keeps_graph, patch_definition, touched_nodes
from meshhook.domain.preparation import SOUND
from meshhook.domain.workflows import (
    Alias,
    Version,
    VersionInfo,
    VersionState,
    Workflow,
    WorkflowDetail,
    check_alias_name,
    check_text,
    check_version_tag,
)
from meshhook.services import definitions, schedules
from meshhook.services.transactions import ProjectScope, project_transaction
from meshhook.store import version_content
from meshhook.store.db import Database


def _version(scope: ProjectScope, workflow: Workflow, number: int) -> Version:
    version = scope.versions.get(workflow.id, number)
    if version is None:
        raise NotFound(
            f"workflow {workflow.key!r} has no version {number} (head is {workflow.head_version})"
        )
    return version


def _append(
    scope: ProjectScope,
    actor: Actor,
    workflow: Workflow,
    content: bytes,
    *,
    content_hash: str,
    message: str,
) -> VersionInfo:
    """Write version head+1 and move the head to it (the workflow row is locked)."""
    now = datetime.now(UTC)
    info = VersionInfo(
        workflow_id=workflow.id,
        number=workflow.head_version + 1,
        content_hash=content_hash,
        parent_number=workflow.head_version,
        message=message,
        state=VersionState.DRAFT,
        created_at=now,
        created_by=actor.label,
        published_at=None,
        published_by=None,
        tag=None,
        note=None,
    )
    scope.versions.insert(info, content)
    scope.workflows.touch(workflow.id, when=now, by=actor.label, head_version=info.number)
    return info


def save(
    db: Database,
    actor: Actor,
    project_key: str,
    ref: str,
    definition: Any,
    *,
    base_version: int,
    message: str = "",
    fresh: bool = False,
) -> WorkflowDetail:
    """Save a new head version based on ``base_version``.

    Identical content creates nothing. A stale base is merged three-way with
    the changes made since; overlapping changes are refused (409) with the
    conflicting JSON Pointers, so nobody silently overwrites anybody.

    ``fresh``: ``definition`` was parsed for this call and nobody changes it
    afterwards (a request body), so it may be kept and shared read-only. It is
    then compared with what this workflow's last fresh save in this process
    left, and only the nodes it changed are checked (``prepare_like``).
    """
    message = check_text(message, path="/message", maximum=MAX_NOTE_LENGTH)
    # The definition this workflow's last fresh save here left (a hint: any
    # definition held in SOUND gives prepare_like the same answer, only slower
    # when far off). Only a fresh one: a caller's own objects, changed in place
    # after the save, would no longer be what was checked.
    like_hash = _LAST_SAVED.lookup((project_key, ref))[1] if fresh else None
    like = SOUND.get(like_hash) if like_hash is not None else None
    unchanged: Container[int] | None = None
    if like_hash is not None and like is not None:
        prepared, unchanged = definitions.prepare_like(
            definition, like, version_content.TEXTS.lookup(like_hash)[1]
        )
    else:
        prepared = definitions.prepare(definition)
    with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
        workflow, head = scope.find_with_head(ref, for_update=True)
        _check_base(workflow, base_version)
        saved = _save_locked(
            scope,
            actor,
            workflow,
            head,
            prepared,
            base_version,
            message,
            # The nodes as in the head, when the hint was the head.
            unchanged=unchanged if like_hash == head.info.content_hash else None,
        )
    if fresh:
        _LAST_SAVED.put((project_key, ref), saved.head.content_hash, len(project_key) + len(ref))
    return saved


# The content hash of the head each workflow's last fresh save in this process left,
# by (project key, workflow reference): what the next save of it is compared to.
_LAST_SAVED: BoundedCache[tuple[str, str], str] = BoundedCache(
    max_entries=1_024, max_bytes=1024 * 1024, max_entry_bytes=64 * 1024
)


@dataclass(frozen=True, slots=True)
class PatchRequest:
    """A definition PATCH: RFC 6902 operations on version ``base_version``."""

    patch: Any
    base_version: int
    message: str = ""


def save_patch(
    db: Database,
    actor: Actor,
    project_key: str,
    ref: str,
    request: PatchRequest | Callable[[], PatchRequest],
) -> WorkflowDetail:
    """Apply an RFC 6902 JSON Patch to version ``base_version``'s definition, then
    save the result exactly as :func:`save` would (merge and 409 rules included).

    A patch that does not apply is a 422 whose problem paths point into the
    patch (``/3`` is its fourth operation); a result that is not a sound
    definition is a 422 with paths into that definition.

    ``request`` may be a function returning it, called in the transaction once
    the caller's role is checked: the API parses a small body that way, after
    the role check and in the same transaction as the save.
    """
    with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
        edit = request() if callable(request) else request
        patch, base_version = edit.patch, edit.base_version
        message = check_text(edit.message, path="/message", maximum=2_000)
        workflow, head = scope.find_with_head(ref, for_update=True)
        _check_base(workflow, base_version)
        base = head if base_version == head.info.number else _version(scope, workflow, base_version)
        touched = touched_nodes(patch)
        # A base this process prepared is held parsed (and passed every check):
        # patched copy-on-write, and its untouched nodes' secret rules are not
        # checked again. Otherwise it is parsed for this patch alone.
        shared = SOUND.get(base.info.content_hash)
        if shared is not None:
            document = patch_definition(shared, patch, shared=True)
        else:
            document = patch_definition(definitions.load(base.definition), patch)
        # Incremental validation: nodes the patch does not touch are as stored.
        unchanged = AllExcept(touched) if touched is not None else ()
        # A patch of a held base that changes no node id, type or edge keeps its graph.
        graph = (
            SOUND.graph(base.info.content_hash)
            if shared is not None and keeps_graph(patch)
            else None
        )
        prepared = definitions.prepare(
            document,
            pointer_prefix="",
            unchanged=unchanged,
            sound_base=shared is not None,
            graph=graph,
            edit_of=(base.definition, shared) if shared is not None else None,
        )
        return _save_locked(
            scope,
            actor,
            workflow,
            head,
            prepared,
            base_version,
            message,
            unchanged=unchanged if touched is not None else None,
        )


def _check_base(workflow: Workflow, base_version: int) -> None:
    if not 1 <= base_version <= workflow.head_version:
        raise PreconditionFailed(
            f"If-Match names version {base_version}, which this workflow does not have"
            f" (head is {workflow.head_version})",
            extra={"head_version": workflow.head_version},
        )


def _save_locked(
    scope: ProjectScope,
    actor: Actor,
    workflow: Workflow,
    head: Version,
    prepared: definitions.PreparedDefinition,
    base_version: int,
    message: str,
    *,
    unchanged: Container[int] | None = None,
) -> WorkflowDetail:
    """The save itself, the workflow row locked and ``base_version`` checked.
    ``unchanged``: the nodes as in the base version, when known (a patch's)."""
    merged = False
    if base_version != workflow.head_version:
        prepared = _merge(scope, workflow, base_version, head, prepared)
        merged = True
        unchanged = None  # the merge result is compared with the head instead
    if prepared.content_hash == head.info.content_hash:
        return WorkflowDetail(
            workflow=workflow,
            head=head.info,
            definition=head.definition,
            problems=scope.problems(head.info.content_hash, head.definition),
            merged=merged,
        )
    with scope.writes_together():  # the version, the head row, the workflow, the audit entry
        info = _append(
            scope,
            actor,
            workflow,
            prepared.canonical,
            content_hash=prepared.content_hash,
            message=message,
        )
        scope.record_event(
            actor,
            "workflow.save",
            workflow,
            {
                "version": info.number,
                "base_version": base_version,
                "merged": merged,
            },
        )
    SOUND.remember(prepared)
    # What touch() wrote, without reading the row back.
    saved = replace(
        workflow,
        head_version=info.number,
        updated_at=info.created_at,
        updated_by=info.created_by,
    )
    problems = scope.problems(
        prepared.content_hash,
        prepared.definition,
        graph=prepared.graph,
        sound=True,
        base=head,
        unchanged=unchanged,
    )
    return WorkflowDetail(
        workflow=saved,
        head=info,
        definition=prepared.canonical,
        problems=problems,
        merged=merged,
    )


def _merge(
    scope: ProjectScope,
    workflow: Workflow,
    base_version: int,
    head: Version,
    yours: definitions.PreparedDefinition,
) -> definitions.PreparedDefinition:
    base = definitions.load(_version(scope, workflow, base_version).definition)
    theirs = definitions.load(head.definition)
    result = three_way_merge(base, theirs, yours.definition)
    if result.definition is None:
        raise Conflict(
            f"your changes overlap with changes saved since version {base_version};"
            f" reload version {workflow.head_version} and reapply them",
            extra={
                "head_version": workflow.head_version,
                "base_version": base_version,
                "conflicts": [conflict.as_dict() for conflict in result.conflicts],
            },
        )
    return definitions.prepare(result.definition)


def _reloaded(scope: ProjectScope, workflow: Workflow) -> Workflow:
    return scope.find_workflow(str(workflow.id))


def history(
    db: Database,
    actor: Actor,
    project_key: str,
    ref: str,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[VersionInfo], str | None]:
    """Versions newest first (metadata only), keyset-paginated."""
    before = decode_cursor(cursor, types=(int,))[0] if cursor else None
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        workflow = scope.find_workflow(ref)
        infos = scope.versions.list_infos(workflow.id, before=before, limit=limit + 1)
    next_cursor = encode_cursor([infos[limit - 1].number]) if len(infos) > limit else None
    return infos[:limit], next_cursor


def get_version(db: Database, actor: Actor, project_key: str, ref: str, number: int) -> Version:
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        return scope.with_problems(_version(scope, scope.find_workflow(ref), number))


def _publish_locked(
    scope: ProjectScope,
    actor: Actor,
    workflow: Workflow,
    number: int,
    *,
    tag: str | None,
    note: str | None,
) -> None:
    version = _version(scope, workflow, number)
    # Derived in the project's context now: secrets may have been added or deleted
    # since the draft was saved.
    problems = definitions.blocking(scope.problems(version.info.content_hash, version.definition))
    if problems:
        raise ValidationFailed(
            f"version {number} cannot be published: it has {len(problems)} problem(s) to fix",
            errors=cap_problems(problems),
        )
    info = version.info
    if info.state == VersionState.PUBLISHED:
        if tag is not None and tag != info.tag:
            raise Conflict(
                f"version {number} is already published"
                + (f" with tag {info.tag!r}" if info.tag else " without a tag")
                + "; published versions cannot change"
            )
    else:
        if tag is not None:
            taken = scope.versions.find_by_tag(workflow.id, tag)
            if taken is not None:
                raise Conflict(
                    f"tag {tag!r} is already on version {taken.number}",
                    errors=[Problem("/tag", "version_tag.taken", "tags are unique per workflow")],
                )
        now = datetime.now(UTC)
        scope.versions.mark_published(
            workflow.id, number, when=now, by=actor.label, tag=tag, note=note
        )
    previous = workflow.published_version
    scope.workflows.touch(
        workflow.id, when=datetime.now(UTC), by=actor.label, published_version=number
    )
    scope.record_event(
        actor,
        "workflow.publish",
        workflow,
        {"version": number, "previous": previous, "tag": tag},
    )
    schedules.sync(scope, workflow.id)


def publish(
    db: Database,
    actor: Actor,
    project_key: str,
    ref: str,
    *,
    version: int | None = None,
    tag: str | None = None,
    note: str | None = None,
) -> VersionInfo:
    """Publish a version (default: the head); it becomes the published version."""
    if tag is not None:
        check_version_tag(tag)
    if note is not None:
        check_text(note, path="/note", maximum=MAX_NOTE_LENGTH)
    try:
        with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
            workflow = scope.find_workflow(ref, for_update=True)
            number = workflow.head_version if version is None else version
            _publish_locked(scope, actor, workflow, number, tag=tag, note=note)
            info = scope.versions.get_info(workflow.id, number)
            assert info is not None
            return info
    except UniqueConflict as error:  # a concurrent publish took the tag
        raise Conflict(f"tag {tag!r} was taken at the same time") from error


def revert(
    db: Database, actor: Actor, project_key: str, ref: str, number: int, *, publish: bool = False
) -> WorkflowDetail:
    """A new head version equal to version ``number`` (history is kept)."""
    with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
        workflow = scope.find_workflow(ref, for_update=True)
        target = _version(scope, workflow, number)
        head = _version(scope, workflow, workflow.head_version)
        if target.info.content_hash != head.info.content_hash:
            definitions.ensure_no_stored_secrets(target.definition, what=f"version {number}")
            info = _append(
                scope,
                actor,
                workflow,
                target.definition,
                content_hash=target.info.content_hash,
                message=f"Revert to version {number}",
            )
            scope.record_event(
                actor,
                "workflow.revert",
                workflow,
                {"version": info.number, "reverted_to": number},
            )
            workflow = _reloaded(scope, workflow)
        if publish:
            _publish_locked(scope, actor, workflow, workflow.head_version, tag=None, note=None)
            workflow = _reloaded(scope, workflow)
        return scope.detail(workflow)


def compare(
    db: Database, actor: Actor, project_key: str, ref: str, old: int, new: int
) -> dict[str, Any]:
    """The structural diff from version ``old`` to version ``new``, sensitive values masked."""
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        workflow = scope.find_workflow(ref)
        before = _version(scope, workflow, old).definition
        after = _version(scope, workflow, new).definition
    result = diff_definitions(definitions.load(before), definitions.load(after))
    return {"from": old, "to": new, **result}


def list_aliases(db: Database, actor: Actor, project_key: str, ref: str) -> list[Alias]:
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        return scope.aliases.for_workflow(scope.find_workflow(ref).id)


def delete_alias(db: Database, actor: Actor, project_key: str, ref: str, name: str) -> None:
    """Remove an alias (admin); audited as ``alias.delete``. 404 when it does not exist."""
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        workflow = scope.find_workflow(ref, for_update=True)
        existing = scope.aliases.get(workflow.id, name)
        if existing is None:
            raise NotFound(f"workflow {workflow.key!r} has no alias {name!r}")
        scope.aliases.delete(workflow.id, name)
        schedules.sync(scope, workflow.id)
        scope.record_event(
            actor, "alias.delete", workflow, {"alias": name, "version": existing.version}
        )


@dataclass(frozen=True, slots=True)
class Canary:
    """A weighted canary on an alias: ``weight`` percent of its runs take ``version``."""

    version: int
    weight: int


def set_alias(
    db: Database,
    actor: Actor,
    project_key: str,
    ref: str,
    name: str,
    number: int,
    canary: Canary | None = None,
) -> Alias:
    """Point an alias (e.g. ``production``) at a published version, optionally
    with a weighted canary on another published version; admin role.

    The body replaces the alias: without ``canary`` any canary is dropped, and
    pointing the alias at its canary's version promotes it. Audited as
    ``alias.move``, ``alias.canary``, ``alias.canary_promote`` or
    ``alias.canary_drop``."""
    check_alias_name(name)
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        workflow = scope.find_workflow(ref, for_update=True)
        target = _version(scope, workflow, number)
        if target.info.state != VersionState.PUBLISHED:
            raise Conflict(
                f"version {number} is a draft; publish it before pointing {name!r} at it",
                errors=[Problem("/version", "alias.draft", "aliases point at published versions")],
            )
        if canary is not None:
            _check_canary(scope, workflow, number, canary)
        existing = scope.aliases.get(workflow.id, name)
        alias = Alias(
            workflow_id=workflow.id,
            name=name,
            version=number,
            updated_at=datetime.now(UTC),
            updated_by=actor.label,
            canary_version=canary.version if canary else None,
            canary_weight=canary.weight if canary else None,
        )
        if existing is not None and _same_target(existing, alias):
            return existing
        scope.aliases.put(alias, exists=existing is not None)
        schedules.sync(scope, workflow.id)
        scope.record_event(
            actor,
            _alias_action(existing, alias),
            workflow,
            {
                "alias": name,
                "from": existing.version if existing else None,
                "to": number,
                "canary_before": _canary_json(existing) if existing else None,
                "canary": _canary_json(alias),
            },
        )
        return alias


def _check_canary(scope: ProjectScope, workflow: Workflow, number: int, canary: Canary) -> None:
    if canary.version == number:
        raise ValidationFailed(
            "the canary must be another version than the alias's",
            errors=[
                Problem("/canary/version", "alias.canary_same", "the alias already points here")
            ],
        )
    info = scope.versions.get_info(workflow.id, canary.version)
    if info is None:
        raise ValidationFailed(
            f"workflow {workflow.key!r} has no version {canary.version}",
            errors=[Problem("/canary/version", "alias.unknown_version", "no such version")],
        )
    if info.state != VersionState.PUBLISHED:
        raise Conflict(
            f"version {canary.version} is a draft; publish it before routing runs to it",
            errors=[
                Problem("/canary/version", "alias.draft", "aliases point at published versions")
            ],
        )


def _same_target(a: Alias, b: Alias) -> bool:
    return (a.version, a.canary_version, a.canary_weight) == (
        b.version,
        b.canary_version,
        b.canary_weight,
    )


def _canary_json(alias: Alias) -> dict[str, int] | None:
    if alias.canary_version is None:
        return None
    return {"version": alias.canary_version, "weight": alias.canary_weight or 0}


def _alias_action(existing: Alias | None, alias: Alias) -> str:
    if existing is None or existing.canary_version is None:
        return "alias.move" if alias.canary_version is None else "alias.canary"
    if alias.canary_version is None:
        if alias.version == existing.canary_version:
            return "alias.canary_promote"
        if alias.version == existing.version:
            return "alias.canary_drop"
        return "alias.move"
    return "alias.canary" if alias.version == existing.version else "alias.move"
