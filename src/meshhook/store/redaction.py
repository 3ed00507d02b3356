"""A project's own redaction rules, reached as ``scope.redaction``
(:class:`RedactionStore`): named patterns, and JSON Pointers per workflow.
Checked in ``domain/redaction_rules.py`` before they get here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, insert, select

from meshhook.store.repository import ProjectRepository
from meshhook.store.tables import redaction_patterns, redaction_pointers


@dataclass(frozen=True, slots=True)
class PatternRecord:
    name: str
    pattern: str
    created_at: datetime
    created_by: str


class RedactionStore(ProjectRepository):
    """The redaction patterns and pointers of one project."""

    __slots__ = ()

    def patterns(self) -> list[PatternRecord]:
        """Every pattern, by name."""
        rows = self.session.execute(
            select(
                redaction_patterns.c.name,
                redaction_patterns.c.pattern,
                redaction_patterns.c.created_at,
                redaction_patterns.c.created_by,
            )
            .where(redaction_patterns.c.project_id == self.project_id)
            .order_by(redaction_patterns.c.name)
        ).all()
        return [PatternRecord(*row) for row in rows]

    def put_pattern(self, record: PatternRecord) -> bool:
        """Store ``record`` in place of any pattern of its name; True if it is new."""
        existed = self.delete_pattern(record.name)
        self.session.execute(
            insert(redaction_patterns).values(
                project_id=self.project_id,
                name=record.name,
                pattern=record.pattern,
                created_at=record.created_at,
                created_by=record.created_by,
            )
        )
        return not existed

    def delete_pattern(self, name: str) -> bool:
        """Remove a pattern; False if there was none of that name."""
        result = self.session.execute(
            delete(redaction_patterns).where(
                redaction_patterns.c.project_id == self.project_id,
                redaction_patterns.c.name == name,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def pointers(self, workflow_id: UUID) -> list[str]:
        """One workflow's pointers, in the order they were set."""
        rows = self.session.execute(
            select(redaction_pointers.c.pointer)
            .where(
                redaction_pointers.c.project_id == self.project_id,
                redaction_pointers.c.workflow_id == workflow_id,
            )
            .order_by(redaction_pointers.c.position)
        ).scalars()
        return list(rows)

    def pointers_by_workflow(self) -> dict[UUID, list[str]]:
        """Every workflow's pointers (workflows without any are left out)."""
        found: dict[UUID, list[str]] = {}
        rows = self.session.execute(
            select(redaction_pointers.c.workflow_id, redaction_pointers.c.pointer)
            .where(redaction_pointers.c.project_id == self.project_id)
            .order_by(redaction_pointers.c.position)
        )
        for workflow_id, pointer in rows:
            found.setdefault(workflow_id, []).append(pointer)
        return found

    def replace_pointers(
        self, workflow_id: UUID, pointers: Sequence[str], *, at: datetime, by: str
    ) -> None:
        """Make ``pointers`` the workflow's whole list."""
        self.session.execute(
            delete(redaction_pointers).where(
                redaction_pointers.c.project_id == self.project_id,
                redaction_pointers.c.workflow_id == workflow_id,
            )
        )
        if pointers:
            self.session.execute(
                insert(redaction_pointers),
                [
                    {
                        "project_id": self.project_id,
                        "workflow_id": workflow_id,
                        "pointer": pointer,
                        "position": position,
                        "created_at": at,
                        "created_by": by,
                    }
                    for position, pointer in enumerate(pointers)
                ],
            )
