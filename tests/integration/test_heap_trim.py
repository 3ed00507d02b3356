"""Large request bodies are followed by handing freed heap memory back."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from meshhook import heap
from tests.factories import Member


def test_a_large_body_is_followed_by_a_heap_trim_and_a_small_one_is_not(
    client: TestClient, owner: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(heap, "trim", lambda: calls.append(True) or True)
    headers = {**owner.headers, "Content-Type": "application/json"}

    client.get("/api/v1/projects", headers=owner.headers)
    large = b'{"format": "' + b"x" * heap.TRIM_AFTER_BYTES + b'"}'
    response = client.post("/api/v1/projects/alpha/import", content=large, headers=headers)

    assert response.status_code == 422  # not a bundle; the body was read all the same
    assert calls == [True]


def test_trim_runs_where_glibc_has_it() -> None:
    assert heap.trim() in (True, False)
