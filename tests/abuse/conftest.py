"""Abuse tests: each payload from the hardening review, sent to a real
``meshhook serve`` (SQLite), with a bounded answer asserted: status, a time
*budget* with wide margins (these machines are shared), response size, and
the server's resident memory after repeating the attack.

One server for the package; each test gets a fresh project owned by the
bootstrap admin. Tests that need PostgreSQL use the usual ``db`` fixtures.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import RunningServer, running_server


@dataclass
class AbuseServer:
    running: RunningServer
    email: str
    password: str
    token: str

    @property
    def url(self) -> str:
        return self.running.url

    def rss_bytes(self) -> int:
        return self.running.rss_bytes()

    def api(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}", **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", 120)
        return httpx.request(method, f"{self.url}/api/v1{path}", headers=headers, **kwargs)


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AbuseServer]:
    home = tmp_path_factory.mktemp("abuse-home")
    with running_server(home) as running:
        lines = (home / "initial-credentials").read_text().splitlines()
        credentials = dict(line.split(": ", 1) for line in lines if ": " in line)
        yield AbuseServer(
            running=running,
            email=credentials["email"],
            password=credentials["password"],
            token=credentials["token"],
        )


@pytest.fixture
def project(server: AbuseServer) -> str:
    """A fresh project owned by the bootstrap admin."""
    key = f"p-{uuid.uuid4().hex[:10]}"
    response = server.api("POST", "/projects", json={"key": key, "name": f"Project {key[2:6]}"})
    assert response.status_code == 201, response.text
    return key


class Budget:
    """Wall-clock budget for one answer: generous, but far below the minutes
    the unbounded behaviour took."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = 0.0
        self.elapsed = 0.0

    def __enter__(self) -> Budget:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.started
        if exc[0] is None:
            assert self.elapsed < self.seconds, (
                f"took {self.elapsed:.1f} s, budget {self.seconds} s"
            )


def budget(seconds: float) -> Budget:
    return Budget(seconds)


def home_of(server: AbuseServer) -> Path:
    return server.running.home
