"""Run a real ``meshhook serve`` in a subprocess for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RunningServer:
    url: str
    home: Path
    log: Path
    pid: int

    def output(self) -> str:
        return self.log.read_text()

    def rss_bytes(self) -> int:
        """The server process's resident memory now (Linux ``/proc``)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("VmRSS not found")


@contextmanager
def running_server(
    home: Path, database_url: str | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[RunningServer]:
    port = free_port()
    env = {
        **os.environ,
        "MESHHOOK_HOME": str(home),
        "MESHHOOK_PORT": str(port),
        "MESHHOOK_LOG_FORMAT": "json",
        **(extra_env or {}),
    }
    if database_url:
        env["MESHHOOK_DATABASE_URL"] = database_url
    else:
        env.pop("MESHHOOK_DATABASE_URL", None)
    home.mkdir(parents=True, exist_ok=True)
    log = home / f"serve-{port}.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "meshhook", "serve"], env=env, stdout=sink, stderr=sink
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"meshhook serve exited early:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("meshhook serve did not become ready in 60 s")
            time.sleep(0.1)
        yield RunningServer(url=url, home=home, log=log, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
