"""Timing, statistics, temporary databases and a real ``meshhook serve``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ADMIN_URL = os.environ.get(
    "MESHHOOK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summary(samples: list[float]) -> dict[str, Any]:
    """p50/p99/mean/max in milliseconds of samples in seconds."""
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(percentile(ordered, 0.50) * 1e3, 3),
        "p99_ms": round(percentile(ordered, 0.99) * 1e3, 3),
        "mean_ms": round(sum(ordered) / len(ordered) * 1e3, 3) if ordered else None,
        "max_ms": round(ordered[-1] * 1e3, 3) if ordered else None,
    }


def measure(action: Callable[[int], object], iterations: int, warmup: int = 3) -> dict[str, Any]:
    for index in range(warmup):
        action(-1 - index)
    samples = []
    for index in range(iterations):
        started = time.perf_counter()
        action(index)
        samples.append(time.perf_counter() - started)
    return summary(samples)


# --- databases ----------------------------------------------------------------


def postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        return False
    return True


@contextmanager
def temporary_database(dialect: str, workdir: Path) -> Iterator[str]:
    """An empty database URL, removed afterwards."""
    if dialect == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    name = f"meshhook_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- the server ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    pid: int
    token: str
    home: Path

    def status(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak) in KiB, from /proc."""
        values: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
        return values

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=120,
        )


@contextmanager
def running_server(
    database_url: str, home: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    port = _free_port()
    env = {
        **os.environ,
        "MESHHOOK_HOME": str(home),
        "MESHHOOK_PORT": str(port),
        "MESHHOOK_DATABASE_URL": database_url,
        "MESHHOOK_LOG_FORMAT": "json",
        "MESHHOOK_LOG_LEVEL": "warning",
        "MESHHOOK_MAX_BUNDLE_BYTES": str(200 * 1024 * 1024),
        "MESHHOOK_MAX_BODY_BYTES": str(50 * 1024 * 1024),
        **(extra_env or {}),
    }
    home.mkdir(parents=True, exist_ok=True)
    log = home / "serve.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "meshhook", "serve"], env=env, stdout=sink, stderr=sink
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"meshhook serve exited early:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("meshhook serve did not become ready in 120 s")
            time.sleep(0.1)
        credentials = (home / "initial-credentials").read_text()
        token = next(
            line.split(":", 1)[1].strip()
            for line in credentials.splitlines()
            if line.startswith("token:")
        )
        yield Server(url=url, pid=process.pid, token=token, home=home)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
