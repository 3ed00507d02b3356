"""``secrets scrub``: literal credentials out of stored history (admin).

Versions saved before literal values in sensitive fields were refused at save
may still hold them, in every later export too. Scrubbing replaces each such
value by ``***`` in every version of every workflow of a project, the trash
included, in one transaction: the one exception to immutable history
(docs/security.md). Version numbers, states, tags, authors and dates stay; the
content hash of a changed version is recomputed (its problems are derived from
the content), the delta chain re-encoded, and every change audited (never the
values).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from meshhook.domain import canonical
from meshhook.domain.accounts import Actor, Role
from meshhook.domain.secret_fields import scrub_literals
from meshhook.domain.workflows import Version, Workflow
from meshhook.services import definitions
from meshhook.services.transactions import ProjectScope, project_transaction
from meshhook.store.db import Database
from meshhook.store.versions import Rewrite


@dataclass(frozen=True, slots=True)
class ScrubbedVersion:
    """One version that held literal credentials, and where (JSON Pointers)."""

    workflow_id: UUID
    workflow_key: str
    deleted: bool
    number: int
    pointers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScrubReport:
    dry_run: bool
    workflows_checked: int
    versions_checked: int
    scrubbed: tuple[ScrubbedVersion, ...]


def _scrubbed(version: Version) -> tuple[Rewrite, list[str]] | None:
    """The version's content with its literals replaced, or ``None`` if it has none."""
    content = definitions.load(version.definition)
    replaced = scrub_literals(content)
    if not replaced:
        return None
    data = canonical.canonical_bytes(content)
    # Problems are derived from the content: each scrubbed field now says what
    # publishing needs (``secret.scrubbed``).
    rewrite = Rewrite(data, canonical.content_hash(data))
    return rewrite, replaced


def _scrub_workflow(
    scope: ProjectScope, workflow: Workflow, *, dry_run: bool
) -> tuple[int, list[ScrubbedVersion]]:
    found: list[ScrubbedVersion] = []
    checked = 0

    def rewrite(version: Version) -> Rewrite | None:
        nonlocal checked
        checked += 1
        result = _scrubbed(version)
        if result is None:
            return None
        found.append(
            ScrubbedVersion(
                workflow_id=workflow.id,
                workflow_key=workflow.key,
                deleted=workflow.deleted_at is not None,
                number=version.info.number,
                pointers=tuple(result[1]),
            )
        )
        return result[0]

    if dry_run:
        for version in scope.versions.every_version(workflow.id):
            rewrite(version)
    else:
        scope.versions.rewrite_history(workflow.id, rewrite)
    return checked, found


def scrub(db: Database, actor: Actor, project_key: str, *, dry_run: bool = False) -> ScrubReport:
    """Replace literal credentials in every stored version of a project by ``***``.

    With ``dry_run`` nothing is written: the report says what would change.
    """
    with project_transaction(db, actor, project_key, Role.ADMIN, write=not dry_run) as scope:
        workflows = scope.workflows.all_with_trash(for_update=not dry_run)
        scrubbed: list[ScrubbedVersion] = []
        versions = 0
        for workflow in workflows:
            checked, found = _scrub_workflow(scope, workflow, dry_run=dry_run)
            versions += checked
            scrubbed.extend(found)
            if found and not dry_run:
                scope.record(
                    actor,
                    "secret.scrub",
                    object_type="workflow",
                    object_id=str(workflow.id),
                    summary={
                        "key": workflow.key,
                        "versions": [item.number for item in found],
                        "fields": sum(len(item.pointers) for item in found),
                    },
                )
        if not dry_run:
            scope.record(
                actor,
                "secret.scrub",
                object_type="project",
                object_id=scope.project.key,
                summary={
                    "workflows": len({item.workflow_id for item in scrubbed}),
                    "versions": len(scrubbed),
                    "fields": sum(len(item.pointers) for item in scrubbed),
                },
            )
        return ScrubReport(
            dry_run=dry_run,
            workflows_checked=len(workflows),
            versions_checked=versions,
            scrubbed=tuple(scrubbed),
        )
