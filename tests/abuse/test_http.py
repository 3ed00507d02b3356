"""HTTP layer abuse, against a real server: bodies sent by callers who may not
use the route are never read, whatever their size."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from tests.abuse.conftest import AbuseServer, budget, home_of

MB = 1024 * 1024
# 47 MB: under the bundle limit, over the normal one (the reported payload).
BIG = b'{"value": "' + b"x" * (47 * MB) + b'"}'


def _meshhook(server: AbuseServer, *args: str) -> str:
    env = {**os.environ, "MESHHOOK_HOME": str(home_of(server))}
    env.pop("MESHHOOK_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "meshhook", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def _stranger_token(server: AbuseServer) -> str:
    email = f"stranger-{uuid.uuid4().hex[:8]}@example.com"
    _meshhook(server, "users", "create", email)
    return _meshhook(server, "tokens", "create", email).strip().splitlines()[-1]


@contextmanager
def _peak_rss(server: AbuseServer) -> Iterator[list[int]]:
    """Samples the server's resident memory while the block runs: [before, peak]."""
    readings = [server.rss_bytes()]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            readings.append(server.rss_bytes())
            stop.wait(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield readings
    finally:
        stop.set()
        sampler.join()
        readings[1:] = [max(readings[1:] or readings)]


def test_a_non_member_big_body_is_404_without_being_read(server: AbuseServer, project: str) -> None:
    stranger = _stranger_token(server)
    headers = {"Content-Type": "application/json"}
    for method, path in (
        ("PUT", f"/projects/{project}/secrets/import"),
        ("POST", f"/projects/{project}/import"),
        ("POST", f"/projects/{project}/workflows"),
    ):
        with budget(30), _peak_rss(server) as rss:
            response = server.api(method, path, token=stranger, content=BIG, headers=headers)
        assert response.status_code == 404, (path, response.text)
        grown = rss[1] - rss[0]
        assert grown < 20 * MB, f"{path}: the server grew by {grown // MB} MB"


def test_an_admin_big_body_on_a_normal_route_is_413_unread(
    server: AbuseServer, project: str
) -> None:
    headers = {"Content-Type": "application/json"}
    with budget(30), _peak_rss(server) as rss:
        response = server.api(
            "PUT", f"/projects/{project}/secrets/import", content=BIG, headers=headers
        )
    assert response.status_code == 413, response.text
    assert rss[1] - rss[0] < 20 * MB
