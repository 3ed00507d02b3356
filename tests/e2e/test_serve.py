"""A real server from the command line, as a user starts it."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx

from tests.conftest import create_postgres_database, drop_postgres_database, require_postgres
from tests.e2e.server import running_server


def _credentials(home: Path) -> dict[str, str]:
    path = home / "initial-credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pairs = (line.split(": ", 1) for line in path.read_text().splitlines() if ": " in line)
    return dict(pairs)


def test_first_start_prints_credentials_once_and_the_token_works(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with running_server(home) as server:
        credentials = _credentials(home)
        headers = {"Authorization": f"Bearer {credentials['token']}"}
        me = httpx.get(f"{server.url}/api/v1/me", headers=headers).json()
        assert me["email"] == credentials["email"]
        assert me["projects"][0]["key"] == "default"
        login = httpx.post(
            f"{server.url}/api/v1/auth/login",
            json={"email": credentials["email"], "password": credentials["password"]},
        )
        assert login.status_code == 200
    first_output = server.output()
    assert credentials["token"] in first_output
    assert credentials["password"] in first_output

    with running_server(home) as again:
        assert httpx.get(f"{again.url}/api/v1/me", headers=headers).status_code == 200
    assert credentials["token"] not in again.output()


def test_one_postgresql_superuser_url_migrates_an_empty_database_and_serves(
    tmp_path: Path,
) -> None:
    require_postgres()
    url = create_postgres_database("meshhook_serve")
    try:
        with running_server(tmp_path / "home", url) as server:
            token = _credentials(tmp_path / "home")["token"]
            headers = {"Authorization": f"Bearer {token}"}
            me = httpx.get(f"{server.url}/api/v1/me", headers=headers)
            assert me.status_code == 200
            ready = httpx.get(f"{server.url}/readyz").json()
            assert ready["database"] == "postgresql"
            audit = httpx.get(f"{server.url}/api/v1/projects/default/audit", headers=headers)
            assert [entry["object_id"] for entry in audit.json()["items"]] == ["default"]
    finally:
        drop_postgres_database(url)


def test_a_wrong_master_key_stops_the_server_at_start(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from meshhook.security.keys import generate_master_key

    home = tmp_path / "home"
    with running_server(home) as server:
        token = _credentials(home)["token"]
        response = httpx.put(
            f"{server.url}/api/v1/projects/default/secrets/API_KEY",
            json={"value": "v"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201
    env = {**os.environ, "MESHHOOK_HOME": str(home), "MESHHOOK_MASTER_KEY": generate_master_key()}
    result = subprocess.run(
        [sys.executable, "-m", "meshhook", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "which this server does not have" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
