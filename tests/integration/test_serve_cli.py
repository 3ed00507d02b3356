"""``meshhook serve`` start-up failures are one clear line, not a log and exit 3."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def test_serve_on_a_busy_port_fails_in_one_line_before_announcing(tmp_path: Path) -> None:
    with socket.socket() as occupied:
        occupied.bind(("127.0.0.1", 0))
        occupied.listen()
        port = occupied.getsockname()[1]
        env = {**os.environ, "MESHHOOK_HOME": str(tmp_path / "home")}
        env.pop("MESHHOOK_DATABASE_URL", None)
        result = subprocess.run(
            [sys.executable, "-m", "meshhook", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert "serving on" not in result.stdout + result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert f"port {port} on 127.0.0.1 is already in use" in line
    assert "--port N or MESHHOOK_PORT=N" in line
    # Nothing was created: the check comes before migrating or the first admin.
    assert not (tmp_path / "home" / "initial-credentials").exists()
