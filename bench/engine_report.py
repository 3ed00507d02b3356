"""The run engine's rows and tables in ``docs/performance.md``."""

from __future__ import annotations

from typing import Any

# (target, key path into the engine results, limit, unit) per dialect.
TARGETS = {
    "sqlite": {"p50": 10.0, "p95": 20.0, "runs_per_second": 300.0},
    "postgresql": {"p50": 15.0, "p95": None, "runs_per_second": 200.0},
}
PER_STEP_MS = 2.0
LONG_RUN_RATIO = 1.2
RSS_MB = 300.0
CIPHER_SHARE = 0.05
TOGETHER_SHARE = 0.10


def engine_verdicts(output: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []

    def add(
        target: str, dialect: str, value: float, limit: float, unit: str, *, least: bool = False
    ) -> None:
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
        engine = results.get("engine")
        if not engine:
            continue
        limits = TARGETS.get(dialect, {})
        three = engine["three_steps"]["engine"]
        if limits.get("p50"):
            add(
                f"run, 3 steps, start to finish p50 ≤ {limits['p50']:.0f} ms",
                dialect,
                three["p50_ms"],
                limits["p50"],
                "ms",
            )
        if limits.get("p95"):
            add(
                f"run, 3 steps, start to finish p95 ≤ {limits['p95']:.0f} ms",
                dialect,
                three["p95_ms"],
                limits["p95"],
                "ms",
            )
        add(
            f"per step ≤ {PER_STEP_MS:.0f} ms (3-step p50 / 3)",
            dialect,
            three["p50_ms"] / 3,
            PER_STEP_MS,
            "ms",
        )
        long_run = engine["long_run"]
        if long_run.get("ratio") is not None:
            add(
                f"{long_run['steps']:,}-step run: per-step cost"
                f" ≤ {LONG_RUN_RATIO} x the 3-step run's",
                dialect,
                long_run["ratio"],
                LONG_RUN_RATIO,
                "x",
            )
        throughput = engine["throughput"]
        if limits.get("runs_per_second"):
            add(
                f"sustained runs/s ≥ {limits['runs_per_second']:.0f}",
                dialect,
                throughput["runs_per_second"],
                limits["runs_per_second"],
                "runs/s",
                least=True,
            )
        add(
            f"serve RSS during the throughput run ≤ {RSS_MB:.0f} MB",
            dialect,
            throughput["rss_peak_mb"],
            RSS_MB,
            "MB",
        )
        payloads = engine.get("payloads")
        if payloads:
            add(
                f"payload encryption ≤ {CIPHER_SHARE:.0%} of engine time",
                dialect,
                payloads["cipher_share_of_engine"] * 100,
                CIPHER_SHARE * 100,
                "%",
            )
            add(
                f"redaction + encryption ≤ {TOGETHER_SHARE:.0%} of engine time",
                dialect,
                payloads["together_share_of_engine"] * 100,
                TOGETHER_SHARE * 100,
                "%",
            )
    return rows


def engine_lines(results: dict[str, Any]) -> list[str]:
    engine = results.get("engine")
    if not engine:
        return []
    three = engine["three_steps"]
    fan = engine["fan_out_16"]
    long_run = engine["long_run"]
    throughput = engine["throughput"]

    def pp(entry: dict[str, Any]) -> str:
        return f"{entry['p50_ms']:.2f} / {entry['p95_ms']:.2f} / {entry['p99_ms']:.2f}"

    return [
        "",
        "Run engine (a real `serve` with its in-process workers; p50 / p95 / p99 ms;"
        " *engine* is from the durable `run.queued` to the terminal event by the events'"
        " timestamps, *client* from the POST to the client seeing the run finished):",
        "",
        "| workload | engine | client |",
        "| --- | --- | --- |",
        f"| 3 sequential transforms, one run at a time (n={three['engine']['n']})"
        f" | {pp(three['engine'])} | {pp(three['client'])} |",
        f"| 16-way fan-out and join (n={fan['engine']['n']})"
        f" | {pp(fan['engine'])} | {pp(fan['client'])} |",
        "",
        f"A {long_run['steps']:,}-step sequential run: {long_run['engine_ms_median']:.1f} ms,"
        f" {long_run['per_step_ms']:.3f} ms per step against"
        f" {long_run['per_step_ms_three_step_run']:.3f} ms per step in the 3-step run"
        f" ({long_run['ratio']} x).",
        "",
        f"Throughput: {throughput['runs']:,} runs of the 3-step workflow started by 8 client"
        f" threads in {throughput['start_seconds']} s; from the first start to the last finish"
        f" {throughput['seconds']} s = {throughput['runs_per_second']} runs/s,"
        f" {throughput['steps_per_second']} steps/s ({throughput['succeeded']:,} succeeded);"
        f" `serve` RSS peak {throughput['rss_peak_mb']} MB.",
        *_payload_lines(engine.get("payloads")),
    ]


def _payload_lines(payloads: dict[str, Any] | None) -> list[str]:
    if not payloads:
        return []
    wall = payloads.get("cipher_wall_ms_per_step")
    measured = (
        " (CPU time of the sealing thread; a wall clock around the same calls, GIL waits"
        f" included, read {wall:.3f} ms)"
        if wall is not None
        else ""
    )
    return [
        "",
        f"Payloads sealed at rest (in-process worker, {payloads['runs_per_round']} runs"
        " of 3 steps per round, interleaved rounds each way, medians): sealed"
        f" {payloads['steps_per_second_sealed']} steps/s, in clear"
        f" {payloads['steps_per_second_clear']} steps/s (sealed / clear"
        f" {payloads['sealed_over_clear_throughput']}); inside the cipher"
        f" {payloads['cipher_ms_per_step']:.3f} ms per step ({payloads['cipher_calls_per_step']}"
        f" seals and opens){measured} of {payloads['engine_ms_per_step']:.3f} ms ="
        f" {payloads['cipher_share_of_engine']:.1%}; redacting a console read of the run"
        f" {payloads['redaction_ms_per_step']:.3f} ms per step ="
        f" {payloads['redaction_share_of_engine']:.1%}.",
    ]
