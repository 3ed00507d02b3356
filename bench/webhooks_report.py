"""Webhook ingestion's rows and lines in ``docs/performance.md``."""

from __future__ import annotations

from typing import Any

# Targets of issue #17, for SQLite over HTTP.
P50_MS = 5.0
P99_MS = 15.0
ACCEPTED_PER_SECOND = 500.0
REFUSAL_MS = 1.0
FLOOD_RATIO = 2.0


def webhook_verdicts(output: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []

    def add(target: str, dialect: str, value: float, limit: float, unit: str, least: bool) -> None:
        met = value >= limit if least else value <= limit
        bound = "at least" if least else "limit"
        rows.append(
            (
                target,
                dialect,
                f"{value:.2f} {unit} ({bound} {limit:.2f})",
                "met" if met else "MISSED",
            )
        )

    for dialect, results in output.get("dialects", {}).items():
        hooks = results.get("webhooks")
        if not hooks or dialect != "sqlite":
            continue
        latency = hooks["latency"]
        add(
            f"signed webhook → 202 p50 ≤ {P50_MS:.0f} ms",
            dialect,
            latency["p50_ms"],
            P50_MS,
            "ms",
            False,
        )
        add(
            f"signed webhook → 202 p99 ≤ {P99_MS:.0f} ms",
            dialect,
            latency["p99_ms"],
            P99_MS,
            "ms",
            False,
        )
        add(
            f"webhooks accepted/s ≥ {ACCEPTED_PER_SECOND:.0f}",
            dialect,
            hooks["throughput"]["accepted_per_second"],
            ACCEPTED_PER_SECOND,
            "/s",
            True,
        )
        add(
            f"refused over the rate limit ≤ {REFUSAL_MS:.0f} ms server CPU each",
            dialect,
            hooks["rate_limited"]["server_cpu_ms_each"],
            REFUSAL_MS,
            "ms",
            False,
        )
        flood = hooks["under_flood"]["p50_ms"] / latency["p50_ms"]
        add(
            f"signed p50 under a flood of bad requests ≤ {FLOOD_RATIO:.0f} x",
            dialect,
            flood,
            FLOOD_RATIO,
            "x",
            False,
        )
    return rows


def webhook_lines(results: dict[str, Any]) -> list[str]:
    hooks = results.get("webhooks")
    if not hooks:
        return []

    def pp(entry: dict[str, Any]) -> str:
        return f"{entry['p50_ms']:.2f} / {entry['p99_ms']:.2f}"

    throughput = hooks["throughput"]
    refused = hooks["rate_limited"]
    flood = hooks["under_flood"]
    lines = [
        "",
        "Webhooks (`python -m bench --only webhooks`: a real `serve` with no workers, so"
        " this is accepting, not running; HMAC-signed requests, pre-signed and sent as"
        " raw bytes on keep-alive connections (`bench/rawhttp.py`), client-side p50 / p99 ms):",
        "",
        "| workload | p50 / p99 |",
        "| --- | --- |",
        f"| signed request → 202, one at a time (n={hooks['latency']['n']})"
        f" | {pp(hooks['latency'])} |",
        f"| beyond the rate limit → 429 (n={refused['n']}) | {pp(refused)};"
        f" server CPU {refused['server_cpu_ms_each']} ms each |",
        f"| signed → 202 while 2 processes from other addresses flood forged signatures"
        f" and 2 MiB bodies ({flood['flood_requests_per_second']} req/s)"
        f" | {pp(flood)} |",
        "",
        f"Throughput: {throughput['accepted']:,} of {throughput['requests']:,} signed requests"
        f" accepted over {throughput.get('connections', 8)} connections in"
        f" {throughput['seconds']} s = {throughput['accepted_per_second']} accepted/s",
    ]
    if "server_cpu_ms_each" in throughput:
        lines[-1] += (
            f"; server CPU {throughput['server_cpu_ms_each']} ms and client CPU"
            f" {throughput['client_cpu_ms_each']} ms per request"
        )
    lines[-1] += "."
    return lines
