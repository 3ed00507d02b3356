"""Webhook ingestion (``python -m bench --only webhooks``).

Against a real ``meshhook serve`` (workers off: this measures accepting, not
running) with an HMAC-signed hook:

- latency: signed requests one at a time, client-side, POST to 202;
- throughput: 8 client threads for a fixed number of signed requests, accepted/s;
- refusals beyond the rate limit: a hook with ``burst: 1``, requests one at a
  time, client latency and the server's CPU per refused request;
- under a flood: signed latency again while 4 threads send bad signatures and
  oversized bodies.
"""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

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


def _signed(body: bytes) -> dict[str, str]:
    t = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "x-meshhook-signature": f"t={t},v1={digest}"}


def _latency(url: str, path: str, count: int) -> dict[str, Any]:
    samples = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for index in range(count + 20):
            body = b'{"order": %d, "items": [1, 2, 3]}' % index
            started = time.perf_counter()
            answer = client.post(path, content=body, headers=_signed(body))
            elapsed = time.perf_counter() - started
            assert answer.status_code == 202, answer.text[:300]
            if index >= 20:  # warm-up
                samples.append(elapsed)
    return summary(samples)


def _throughput(url: str, path: str, count: int, threads: int = 8) -> dict[str, Any]:
    accepted = 0
    lock = threading.Lock()

    def send(share: int) -> None:
        nonlocal accepted
        done = 0
        with httpx.Client(base_url=url, timeout=30) as client:
            for index in range(share):
                body = b'{"n": %d}' % index
                if client.post(path, content=body, headers=_signed(body)).status_code == 202:
                    done += 1
        with lock:
            accepted += done

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, [count // threads] * threads))
    seconds = time.perf_counter() - started
    return {
        "requests": count // threads * threads,
        "accepted": accepted,
        "seconds": round(seconds, 2),
        "accepted_per_second": round(accepted / seconds, 1),
    }


def _refusals(server: Server, path: str, count: int) -> dict[str, Any]:
    samples = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        client.post(path, content=b"{}", headers=_signed(b"{}"))  # takes the one token
        cpu_before = server.cpu_seconds()
        for _ in range(count):
            body = b'{"n": 1}'
            started = time.perf_counter()
            answer = client.post(path, content=body, headers=_signed(body))
            samples.append(time.perf_counter() - started)
            assert answer.status_code == 429, answer.text[:300]
        cpu = server.cpu_seconds() - cpu_before
    return {**summary(samples), "server_cpu_ms_each": round(cpu / count * 1000, 3)}


def _flood(url: str, path: str, stop: Any, sent: Any) -> None:
    """One flooding process: 3 forged signatures to 1 oversized body."""
    big = b"x" * (2 * 1024 * 1024)
    client = httpx.Client(base_url=url, timeout=30)
    index = 0
    while not stop.is_set():
        index += 1
        try:
            if index % 4 == 0:
                client.post(path, content=big, headers={"content-type": "text/plain"})
            else:
                client.post(path, content=b'{"forged": true}', headers=_signed(b"other"))
        except httpx.TransportError:
            client.close()
            client = httpx.Client(base_url=url, timeout=30)
        with sent.get_lock():
            sent.value += 1
    client.close()


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
    results: dict[str, Any] = {"latency": _latency(server.url, fast, count)}
    results["throughput"] = _throughput(server.url, fast, 800 if quick else 4000)
    results["rate_limited"] = _refusals(server, limited, 200 if quick else 1000)
    # Flooders in processes of their own: in this one they would compete with
    # the measuring thread for the GIL and pass their cost off as the server's.
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    sent = context.Value("i", 0)
    flooders = [
        context.Process(target=_flood, args=(server.url, fast, stop, sent)) for _ in range(4)
    ]
    for process in flooders:
        process.start()
    try:
        time.sleep(2)  # let them start
        before = sent.value
        started = time.perf_counter()
        results["under_flood"] = _latency(server.url, fast, count)
        seconds = time.perf_counter() - started
        flood = sent.value - before
    finally:
        stop.set()
        for process in flooders:
            process.join()
    results["under_flood"]["flood_requests_per_second"] = round(flood / seconds, 1)
    return results
