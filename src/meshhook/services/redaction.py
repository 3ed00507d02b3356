"""A project's own redaction rules (admin, audited): named patterns for the
whole project and JSON Pointers per workflow, checked by
``domain/redaction_rules.py``; and the :class:`Redactor` a run is shown
through (built-in detectors, the project's patterns, the workflow's pointers
and the version's ``settings.redact``), in the console or, with the values
those pointers name and the run's secret values, in an alert."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from meshhook import logs
from meshhook.domain.accounts import Actor, Role
from meshhook.domain.errors import NotFound
from meshhook.domain.redaction import Redactor
from meshhook.domain.redaction_rules import (
    MAX_PATTERNS,
    check_pattern,
    check_pattern_name,
    check_pointers,
    too_many_patterns,
)
from meshhook.domain.runs.run import RunView
from meshhook.services.transactions import ProjectScope, project_transaction
from meshhook.store.db import Database
from meshhook.store.redaction import PatternRecord


@dataclass(frozen=True, slots=True)
class RedactionRules:
    patterns: list[PatternRecord]
    pointers: dict[str, list[str]]
    """Workflow key → its pointers."""


def rules(db: Database, actor: Actor, project_key: str) -> RedactionRules:
    """The project's patterns and every workflow's pointers (admin)."""
    with project_transaction(db, actor, project_key, Role.ADMIN, write=False) as scope:
        pointers = {}
        for workflow_id, found in scope.redaction.pointers_by_workflow().items():
            workflow = scope.workflows.find(workflow_id=workflow_id)
            if workflow is not None:  # a trashed workflow's pointers wait for it
                pointers[workflow.key] = found
        return RedactionRules(patterns=scope.redaction.patterns(), pointers=pointers)


def set_pattern(
    db: Database, actor: Actor, project_key: str, name: str, pattern: str
) -> tuple[PatternRecord, bool]:
    """Create or replace a pattern (admin; audited as ``redaction.pattern_set``
    with the pattern, which is configuration, not data); returns it and
    whether it is new."""
    check_pattern_name(name, path="/name")
    check_pattern(pattern)
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        existing = {record.name for record in scope.redaction.patterns()}
        if name not in existing and len(existing) >= MAX_PATTERNS:
            raise too_many_patterns()
        record = PatternRecord(
            name=name, pattern=pattern, created_at=datetime.now(UTC), created_by=actor.label
        )
        created = scope.redaction.put_pattern(record)
        scope.record(
            actor,
            "redaction.pattern_set",
            object_type="redaction_pattern",
            object_id=name,
            summary={"pattern": pattern, "created": created},
        )
        _remember(scope)
        return record, created


def delete_pattern(db: Database, actor: Actor, project_key: str, name: str) -> None:
    """Remove a pattern (admin; audited as ``redaction.pattern_delete``)."""
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        if not scope.redaction.delete_pattern(name):
            raise NotFound(f"no redaction pattern {name!r}")
        scope.record(
            actor, "redaction.pattern_delete", object_type="redaction_pattern", object_id=name
        )
        _remember(scope)


def workflow_pointers(db: Database, actor: Actor, project_key: str, workflow_ref: str) -> list[str]:
    """The pointers always hidden in one workflow's runs (admin)."""
    with project_transaction(db, actor, project_key, Role.ADMIN, write=False) as scope:
        return scope.redaction.pointers(scope.find_workflow(workflow_ref).id)


def set_workflow_pointers(
    db: Database, actor: Actor, project_key: str, workflow_ref: str, pointers: Iterable[str]
) -> list[str]:
    """Replace one workflow's pointers (admin; audited as
    ``redaction.pointers_set``); they apply at once to every run of the
    workflow, whatever its version."""
    kept = check_pointers(pointers)
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        workflow = scope.find_workflow(workflow_ref)
        before = scope.redaction.pointers(workflow.id)
        scope.redaction.replace_pointers(workflow.id, kept, at=datetime.now(UTC), by=actor.label)
        scope.record_event(
            actor,
            "redaction.pointers_set",
            workflow,
            {"before": before, "after": kept},
        )
        return kept


def redactor(
    scope: ProjectScope,
    workflow_id: UUID,
    version_pointers: Iterable[str] = (),
    *,
    patterns: Mapping[str, str] | None = None,
) -> Redactor:
    """How a run of ``workflow_id`` is shown: the built-in detectors, the
    project's patterns (read here unless the caller already has them: a page
    of runs reads them once), the workflow's pointers and its version's
    ``settings.redact``."""
    return Redactor.build(
        patterns=project_patterns(scope) if patterns is None else patterns,
        pointers=[*version_pointers, *scope.redaction.pointers(workflow_id)],
    )


def about_run(
    scope: ProjectScope,
    workflow_id: UUID,
    view: RunView,
    version_pointers: Iterable[str] = (),
    *,
    secrets: Iterable[str] = (),
) -> Redactor:
    """How text about a run is shown outside the run console (an alert): what
    :func:`redactor` hides, plus ``secrets`` (values the run used) and the
    values the pointers name in the run's payloads, hidden wherever they
    appear (a message may quote one)."""
    return Redactor.build(
        patterns=project_patterns(scope),
        pointers=[*version_pointers, *scope.redaction.pointers(workflow_id)],
        secrets=secrets,
    ).quoting(view.payloads())


def project_patterns(scope: ProjectScope) -> dict[str, str]:
    """The project's ``{name: pattern}`` (also handed to the log redaction of
    this process, so log lines naming the project use them)."""
    return _remember(scope)


def project_redactor(scope: ProjectScope) -> Redactor:
    """The built-in detectors and the project's patterns (no pointers: for text
    that is not a run's payload, such as webhook delivery logs)."""
    return Redactor.build(patterns=project_patterns(scope))


def _remember(scope: ProjectScope) -> dict[str, str]:
    patterns = {record.name: record.pattern for record in scope.redaction.patterns()}
    logs.use_project_patterns(scope.project.key, patterns)
    return patterns
