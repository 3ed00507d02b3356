"""Old-style versions that today's save refuses (literal credentials), written
straight through the store as releases before the rule did: for tests of how
stored history is handled (``secrets scrub``, revert, clone, publish)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from meshhook.domain import canonical
from meshhook.domain.accounts import Actor, Role
from meshhook.domain.validation import normalize_definition
from meshhook.domain.workflows import VersionInfo, VersionState
from meshhook.services.transactions import project_transaction
from meshhook.store.db import Database


def insert_legacy_version(
    db: Database,
    project_key: str,
    workflow_ref: str,
    definition: Any,
    *,
    deleted: bool = False,
) -> bytes:
    """Store ``definition`` as the workflow's next version, unchecked; its bytes.

    ``workflow_ref`` is a key (or, with ``deleted``, the id of a trashed workflow).
    """
    data = canonical.canonical_bytes(normalize_definition(definition))
    with project_transaction(db, Actor.cli(), project_key, Role.OWNER) as scope:
        workflow = (
            scope.workflows.find(workflow_id=uuid.UUID(workflow_ref), deleted=True)
            if deleted
            else scope.workflows.find(key=workflow_ref)
        )
        assert workflow is not None
        number = workflow.head_version + 1
        now = datetime.now(UTC)
        info = VersionInfo(
            workflow_id=workflow.id,
            number=number,
            content_hash=canonical.content_hash(data),
            parent_number=workflow.head_version,
            message="saved by an older release",
            state=VersionState.DRAFT,
            created_at=now,
            created_by="legacy@example.com",
            published_at=None,
            published_by=None,
            tag=None,
            note=None,
        )
        scope.versions.insert(info, data)
        scope.workflows.touch(workflow.id, when=now, by="legacy@example.com", head_version=number)
    return data
