"""The heap kept small: freed memory handed back after large request bodies, and
glibc arenas capped."""

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


def test_arenas_are_capped_unless_the_operator_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(heap, "_MALLOPT", lambda option, value: calls.append((option, value)) or 1)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert heap.limit_arenas() is True
    assert calls == [(-8, heap.MAX_ARENAS)]  # M_ARENA_MAX
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert heap.limit_arenas() is False
    assert len(calls) == 1


def test_capping_arenas_works_where_glibc_has_it() -> None:
    assert heap.limit_arenas() in (True, False)
