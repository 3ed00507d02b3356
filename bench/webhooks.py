"""Webhook ingestion (``python -m bench --only webhooks``).

Against a real ``meshhook serve`` (workers off: this measures accepting, not
running) with an HMAC-signed hook:

- latency: signed requests one at a time, client-side, POST to 202;
- throughput: 16 keep-alive connections for a fixed number of signed
  requests: accepted/s and the server's CPU per accepted request;
- refusals beyond the rate limit: a hook with ``burst: 1``, requests one at a
  time, client latency and the server's CPU per refused request;
- under a flood: signed latency again while 2 processes, each from a loopback
  address of its own, send forged signatures and 2 MiB bodies at a paced
  ``FLOOD_RATE`` in all; then once more after the flood.

The client is ``bench/rawhttp.py``: requests signed before the clock starts,
raw bytes over keep-alive sockets, so it takes little of the 2 cores the
server runs on (``client_cpu_ms_each`` says how little).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import multiprocessing
import time
from typing import Any

import httpx

from bench import rawhttp
from bench.harness import Server, summary

API = "/api/v1/projects/default"
SECRET = "bench-webhook-secret"  # noqa: S105 (a bench fixture)


def _definition(**config: Any) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "hook", "type": "webhook", "config": {"path": "in", **config}},
            {"id": "echo", "type": "transform", "config": {"expression": "body"}},
        ],
        "edges": [{"from": "hook", "to": "echo"}],
        "settings": {},
    }


def _hook(client: httpx.Client, key: str, **config: Any) -> str:
    created = client.post(
        f"{API}/workflows", json={"key": key, "name": key, "definition": _definition(**config)}
    )
    assert created.status_code == 201, created.text[:300]
    published = client.post(f"{API}/workflows/{key}/versions/publish", json={})
    assert published.status_code == 200, published.text[:300]
    url: str = client.get(f"{API}/workflows/{key}/webhook").json()["url"]
    return "/hooks/" + url.split("/hooks/", 1)[1]


def _signed(body: bytes, secret: str = SECRET) -> list[tuple[str, str]]:
    t = int(time.time())
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return [("content-type", "application/json"), ("x-meshhook-signature", f"t={t},v1={digest}")]


def _address(server: Server) -> tuple[str, int]:
    host, port = server.url.split("//", 1)[1].rsplit(":", 1)
    return host, int(port)


def _signed_requests(server: Server, path: str, count: int, tag: str) -> list[bytes]:
    """``count`` signed requests, built before any is sent (each signature is
    good for 300 s, far longer than a section takes)."""
    host = _address(server)[0]
    requests = []
    for index in range(count):
        body = b'{"%s": %d, "items": [1, 2, 3]}' % (tag.encode(), index)
        requests.append(rawhttp.request(host, "POST", path, _signed(body), body))
    return requests


def _latency(server: Server, path: str, count: int, tag: str) -> dict[str, Any]:
    """Signed requests one at a time on one keep-alive connection."""
    requests = _signed_requests(server, path, count + 20, tag)
    samples = []
    with rawhttp.connect(_address(server)) as sock:
        for index, raw in enumerate(requests):
            started = time.perf_counter()
            status, body = rawhttp.roundtrip(sock, raw)
            elapsed = time.perf_counter() - started
            assert status == 202, body[:300]
            if index >= 20:  # warm-up
                samples.append(elapsed)
    return summary(samples)


def _throughput(server: Server, path: str, count: int, connections: int = 16) -> dict[str, Any]:
    """``count`` signed requests over ``connections`` keep-alive connections,
    one in flight on each; accepted/s and the server's CPU per accepted."""
    requests = _signed_requests(server, path, count, "n")
    cpu_before = server.cpu_seconds()
    client_before = time.process_time()
    driven = rawhttp.drive(_address(server), requests, connections)
    cpu = server.cpu_seconds() - cpu_before
    client = time.process_time() - client_before
    accepted = driven.statuses.get(202, 0)
    return {
        "requests": count,
        "connections": connections,
        "accepted": accepted,
        "statuses": {str(k): v for k, v in sorted(driven.statuses.items())},
        "seconds": round(driven.seconds, 2),
        "accepted_per_second": round(accepted / driven.seconds, 1),
        "server_cpu_ms_each": round(cpu / max(accepted, 1) * 1000, 3),
        "client_cpu_ms_each": round(client / count * 1000, 3),
        **{f"latency_{k}": v for k, v in summary(driven.latencies).items() if k != "n"},
    }


def _refusals(server: Server, path: str, count: int) -> dict[str, Any]:
    body = b'{"n": 1}'
    host = _address(server)[0]
    samples = []
    with rawhttp.connect(_address(server)) as sock:
        first = rawhttp.request(host, "POST", path, _signed(body), body)
        rawhttp.roundtrip(sock, first)  # takes the one token
        requests = [rawhttp.request(host, "POST", path, _signed(body), body) for _ in range(count)]
        cpu_before = server.cpu_seconds()
        for raw in requests:
            started = time.perf_counter()
            status, answer = rawhttp.roundtrip(sock, raw)
            samples.append(time.perf_counter() - started)
            assert status == 429, answer[:300]
        cpu = server.cpu_seconds() - cpu_before
    return {**summary(samples), "server_cpu_ms_each": round(cpu / count * 1000, 3)}


FLOOD_RATE = 1000.0
"""Bad requests per second the flooders send together (paced: an unpaced
flood from clients on the server's own 2 cores measures the clients)."""
FLOOD_PROCESSES = 2
OVERSIZED = 2 * 1024 * 1024


def _flood(
    address: tuple[str, int], source: str, path: str, rate: float, stop: Any, sent: Any
) -> None:
    """One flooding process from its own loopback address: 3 forged
    signatures to 1 oversized body (2 MiB declared and sent), paced at ``rate``."""
    host = address[0]
    forged = rawhttp.request(host, "POST", path, _signed(b"other"), b'{"forged": true}')
    big_head = rawhttp.request(host, "POST", path, [("content-type", "text/plain")], b"").replace(
        b"content-length: 0", b"content-length: %d" % OVERSIZED
    )
    big_body = b"x" * OVERSIZED
    sock: Any = None
    due = time.perf_counter()
    index = 0
    while not stop.is_set():
        index += 1
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        due = max(due + 1 / rate, time.perf_counter() - 0.1)
        try:
            if sock is None:
                sock = rawhttp.connect(address, source)
                sock.settimeout(5)
            if index % 4 == 0:
                sock.sendall(big_head)
                with contextlib.suppress(OSError):  # refused and closed before it was read
                    sock.sendall(big_body)
                rawhttp.roundtrip(sock, b"")
                sock.close()  # the server may have stopped reading this connection
                sock = None
            else:
                rawhttp.roundtrip(sock, forged)
        except OSError:
            if sock is not None:
                sock.close()
            sock = None
        with sent.get_lock():
            sent.value += 1
    if sock is not None:
        sock.close()


def webhooks_section(server: Server, *, quick: bool) -> dict[str, Any]:
    with server.client() as client:
        stored = client.put(
            f"{API}/secrets/BENCH_HOOK", json={"value": SECRET, "allowed_hosts": []}
        )
        assert stored.status_code in (200, 201), stored.text[:300]
        signed_config = {
            "hmac_secret": "{{ secrets.BENCH_HOOK }}",
            "rate_per_second": 100000,
            "burst": 100000,
        }
        fast = _hook(client, "bench-hook", **signed_config)
        limited = _hook(
            client,
            "bench-limited",
            hmac_secret="{{ secrets.BENCH_HOOK }}",  # noqa: S106
            rate_per_second=0.001,
            burst=1,
        )
    count = 200 if quick else 1000
    results: dict[str, Any] = {"latency": _latency(server, fast, count, "quiet")}
    results["throughput"] = _throughput(server, fast, 3000 if quick else 15000)
    results["rate_limited"] = _refusals(server, limited, 200 if quick else 1000)
    # Flooders in processes of their own, each from a loopback address of its
    # own (another client, as an attacker would be): in this process they
    # would compete with the measuring thread for the GIL.
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    sent = context.Value("i", 0)
    share = FLOOD_RATE / FLOOD_PROCESSES
    flooders = [
        context.Process(
            target=_flood,
            args=(_address(server), f"127.0.0.{index + 2}", fast, share, stop, sent),
        )
        for index in range(FLOOD_PROCESSES)
    ]
    for process in flooders:
        process.start()
    try:
        time.sleep(2)  # let them start
        before = sent.value
        cpu_before = server.cpu_seconds()
        started = time.perf_counter()
        results["under_flood"] = _latency(server, fast, count, "flood")
        seconds = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu_before
        flood = sent.value - before
    finally:
        stop.set()
        for process in flooders:
            process.join()
    results["under_flood"]["flood_requests_per_second"] = round(flood / seconds, 1)
    results["under_flood"]["server_cpu_share"] = round(cpu / seconds, 3)
    results["quiet_again"] = _latency(server, fast, count, "after")
    return results
