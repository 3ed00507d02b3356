"""Sign-in abuse against a real server: password guessing backs off, and a flood
of sign-ins neither exhausts memory (argon2 takes 64 MiB a hash) nor starves
other requests.

Each test signs in as its own fresh user and sends ``X-Forwarded-For`` (the
server trusts it from 127.0.0.1, as behind a local proxy) with its own
addresses, so the shared server's 127.0.0.1 is never throttled for other tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.abuse.conftest import AbuseServer, budget, home_of

PASSWORD = "a long enough password"
MIB = 1024 * 1024


def _fresh_user(server: AbuseServer) -> str:
    """A new user created with the admin CLI on the server's database."""
    email = f"u{uuid.uuid4().hex[:10]}@example.com"
    env = {**os.environ, "MESHHOOK_HOME": str(home_of(server))}
    env.pop("MESHHOOK_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "meshhook", "users", "create", email, "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return email


def _login(server: AbuseServer, email: str, password: str, address: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": address},
        timeout=120,
    )


def test_thirty_guesses_then_the_right_password_is_refused_with_retry_after(
    server: AbuseServer,
) -> None:
    email = _fresh_user(server)
    address = f"10.1.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(
            pool.map(
                lambda _: _login(server, email, "wrong guess!", address).status_code, range(30)
            )
        )
    assert set(statuses) <= {401, 429, 503}
    assert statuses.count(401) <= 10  # the back-off, not the 30 guesses, decided
    with budget(5):  # refused before any password check
        right = _login(server, email, PASSWORD, address)
    assert right.status_code == 429, right.text
    assert int(right.headers["retry-after"]) >= 1
    assert "meshhook_session" not in right.headers.get("set-cookie", "")


def test_fifty_concurrent_sign_ins_keep_memory_bounded_and_the_api_answering(
    server: AbuseServer,
) -> None:
    before = server.rss_bytes()
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, server.rss_bytes())

    def guess(index: int) -> int:
        # Distinct unknown emails and addresses: nothing is throttled, every
        # attempt wants an argon2 check.
        return _login(
            server,
            f"nobody{index}-{uuid.uuid4().hex[:6]}@example.com",
            "wrong guess!",
            f"10.2.{index // 250}.{index % 250}",
        ).status_code

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            flood = [pool.submit(guess, index) for index in range(50)]
            with budget(5):
                me = server.api("GET", "/me")
            statuses = [future.result() for future in flood]
    finally:
        done.set()
        sampler.join()
    assert me.status_code == 200
    assert set(statuses) <= {401, 503}
    assert 401 in statuses
    grown = (peak - before) / MIB
    assert grown < 300, f"resident memory grew {grown:.0f} MiB during the flood"
