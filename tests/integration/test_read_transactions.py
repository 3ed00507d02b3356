"""A read is one transaction, its token check included.

Every GET of the role matrix, as the project's owner whose token's
``last_used_at`` is not due: the transactions begun on the database while it
answers. A service that reads a field of the caller before its transaction
opens checks the token in a transaction of its own (``PendingActor``); this
catches it on every route.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from meshhook.store.db import Database
from tests.factories import Member
from tests.integration.test_auth_in_transaction import set_last_used, transactions
from tests.integration.test_role_matrix import (  # noqa: F401 (the fixture)
    RULES,
    _request,
    callers,
)

# Exceptions to "one": public documents read nothing; an export writes its
# audit entry in a transaction of its own after the read (services/bundles.py).
EXPECTED = {
    "/api/v1/openapi.json": 0,
    "/api/v1/schemas/workflow-bundle.v1.json": 0,
    "/api/v1/projects/{project}/export": 2,
    "/api/v1/projects/{project}/workflows/{workflow}/export": 2,
}


def test_every_read_is_one_transaction(
    client: TestClient,
    db: Database,
    callers: dict[str, Member | None],  # noqa: F811
) -> None:
    owner = callers["owner"]
    assert owner is not None
    counts: dict[str, int] = {}
    for method, path in sorted(RULES):
        if method != "GET" or path.endswith("/stream") or not path.startswith("/api/v1/"):
            continue
        url, _, headers = _request(method, path)
        set_last_used(db, owner, datetime.now(UTC))
        with transactions(db) as begun:
            answer = client.get(url, headers={**headers, **owner.headers})
        assert answer.status_code in {200, 404}, (path, answer.text)  # 404: no webhook trigger
        counts[path] = len(begun)
    assert len(counts) >= 30
    expected = {path: EXPECTED.get(path, 1) for path in counts}
    assert counts == expected
