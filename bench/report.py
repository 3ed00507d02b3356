"""Turn ``bench/results/latest.json`` into ``docs/performance.md``.

The tables are generated; the analysis (what was changed, what it gained, what
stands in the way) is hand-written in ``bench/notes.md`` and appended.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from bench.engine_report import engine_lines, engine_verdicts
from bench.saves import saves_lines, saves_verdicts
from bench.webhooks_report import webhook_lines, webhook_verdicts

NOTES = Path(__file__).resolve().parent / "notes.md"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        memory_kb = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "system": f"{platform.system()} {platform.release()}",
    }


def _get(data: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


# A raw baseline whose p99 exceeds this multiple of its p50 was disturbed.
NOISY_BASELINE = 3.0


def verdicts(output: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(target, dialect, measured, verdict) rows."""
    rows: list[tuple[str, str, str, str]] = []

    def add(
        target: str,
        dialect: str,
        value: float | None,
        limit: float | None,
        unit: str,
        baseline: dict[str, Any] | None = None,
    ) -> None:
        if value is None or limit is None:
            rows.append((target, dialect, "n/a", "pending"))
            return
        measured = f"{value:.2f} {unit} (limit {limit:.2f})"
        verdict = "met" if value <= limit else "MISSED"
        # A limit taken from a baseline whose own tail is noise says nothing:
        # a "met" against it is not claimed.
        spread = baseline["p99_ms"] / baseline["p50_ms"] if baseline else 1.0
        if verdict == "met" and spread > NOISY_BASELINE:
            verdict = "UNSURE"
            measured += f"; baseline p99 is {spread:.1f} x its p50"
        rows.append((target, dialect, measured, verdict))

    for dialect, results in output.get("dialects", {}).items():
        if "skipped" in results:
            continue
        raw = results["raw_baseline_1000"]
        large = results["sizes"]["1000"]
        save_p99 = large["http_save"]["p99_ms"]
        add(
            "1,000-node save p99 ≤ 2 x raw insert+commit p99",
            dialect,
            save_p99,
            2 * raw["insert_commit"]["p99_ms"],
            "ms",
            baseline=raw["insert_commit"],
        )
        load_p99 = large["http_load"]["p99_ms"]
        if dialect == "sqlite":
            add("1,000-node save p99 ≤ 25 ms (sanity line)", dialect, save_p99, 25.0, "ms")
            add("1,000-node load p99 ≤ 10 ms", dialect, load_p99, 10.0, "ms")
        else:
            add(
                "1,000-node load p99 ≤ 3 x raw select p99",
                dialect,
                load_p99,
                3 * raw["select"]["p99_ms"],
                "ms",
                baseline=raw["select"],
            )
        depth = results["history_depth"]
        deep = max(int(key) for key in depth)
        for what in ("http_load_head", "http_save"):
            shallow_p50 = depth["1"][what]["p50_ms"]
            add(
                f"depth {deep:,} vs 1, {what} p50 ≤ 1.2 x",
                dialect,
                depth[str(deep)][what]["p50_ms"] / shallow_p50,
                1.2,
                "x",
            )
        scale = results["scale"]
        worst = max(
            value["p99_ms"]
            for key, value in scale.items()
            if isinstance(value, dict) and "search" not in key
        )
        add(
            f"list/history pages at {scale['versions']:,} versions p99 ≤ 20 ms",
            dialect,
            worst,
            20.0,
            "ms",
        )
        for key, value in scale.items():
            if isinstance(value, dict) and "search" in key and key.startswith("http"):
                add(f"{key} p99 ≤ 20 ms", dialect, value["p99_ms"], 20.0, "ms")
        storage = large["storage"]
        add(
            "stored bytes per one-node edit ≤ 5 % of the definition",
            dialect,
            storage["percent_of_definition"],
            5.0,
            "%",
        )
        bundle = results.get("bundle_import", {})
        if dialect == "sqlite":
            add(
                "bundle import 1,000 x 5 versions ≤ 30 s",
                dialect,
                bundle.get("service_seconds"),
                30.0,
                "s",
            )
        memory = results["memory"]
        add("serve RSS idle ≤ 150 MB", dialect, memory["idle_start_mb"], 150.0, "MB")
        add("serve RSS peak during the run ≤ 300 MB", dialect, memory["peak_mb"], 300.0, "MB")
        samples = results["memory_over_saves"]["rss_samples"]
        growth = samples[-1]["rss_mb"] - samples[1]["rss_mb"] if len(samples) > 1 else 0
        add(
            f"RSS growth over {results['memory_over_saves']['saves']:,} saves ≤ 10 MB",
            dialect,
            growth,
            10.0,
            "MB",
        )
        add("idle CPU ≤ 1 %", dialect, results["idle_cpu_after"]["percent"], 1.0, "%")
    return rows


def all_verdicts(output: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return (
        verdicts(output)
        + engine_verdicts(output)
        + webhook_verdicts(output)
        + saves_verdicts(output)
    )


def verdicts_text(output: dict[str, Any]) -> str:
    return "\n".join(
        f"{verdict:8} {dialect:10} {target}: {value}"
        for target, dialect, value, verdict in all_verdicts(output)
    )


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _pp(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "-"
    return f"{entry['p50_ms']:.2f} / {entry['p99_ms']:.2f}"


def _apart(output: dict[str, Any]) -> list[str]:
    """A line naming the sections measured apart (``--only``), with their dates."""
    dates = sorted(
        (key.removesuffix("_date"), value)
        for key, value in output.items()
        if key.endswith("_date") and isinstance(value, str)
    )
    if not dates:
        return []
    named = ", ".join(f"{name} at {date}" for name, date in dates)
    return ["", f"Measured apart (`--only`), so on the host of that moment: {named}."]


def write(output: dict[str, Any], path: Path) -> None:
    machine_info = output["machine"]
    lines = [
        "# Performance",
        "",
        "<!-- Generated by `make bench` (bench/report.py) from bench/results/latest.json;"
        " the analysis below the tables lives in bench/notes.md. -->",
        "",
        f"Measured {output['date']} on {machine_info['cpu']} ({machine_info['cores']} cores,"
        f" {machine_info['memory_gb']} GB, {machine_info['system']}), Python {output['python']},"
        f" {'quick mode' if output['quick'] else 'full run'} in {output['seconds']} s.",
        *_apart(output),
        "",
        "Rerun: `make bench` (SQLite and PostgreSQL, meant to take under 15 minutes; writes"
        " `bench/results/latest.json` and this page) or `make bench-quick` (a CI-sized check).",
        " PostgreSQL is used at `MESHHOOK_BENCH_POSTGRES_URL` (default"
        " `postgresql+psycopg://postgres@127.0.0.1:5432/postgres`), in a temporary database"
        " dropped afterwards. All times are p50 / p99 in milliseconds unless marked.",
        "",
        "## Targets",
        "",
        _row(["target", "database", "measured", "verdict"]),
        _row(["---"] * 4),
    ]
    lines += [_row(list(row)) for row in all_verdicts(output)]
    for dialect, results in output["dialects"].items():
        lines += ["", f"## {dialect}", ""]
        if "skipped" in results:
            lines.append(f"Skipped: {results['skipped']}.")
            continue
        raw = results["raw_baseline_1000"]
        lines += [
            f"Raw baseline, the 1,000-node canonical text ({raw['bytes']:,} bytes), same driver"
            " and durability settings as the app: insert + commit"
            f" {_pp(raw['insert_commit'])}, select by primary key {_pp(raw['select'])}.",
            "",
            _row(["nodes", "HTTP save", "service save", "HTTP load", "service load", "load bytes"]),
            _row(["---"] * 6),
        ]
        for size, entry in results["sizes"].items():
            lines.append(
                _row(
                    [
                        f"{int(size):,}",
                        _pp(entry["http_save"]),
                        _pp(entry["service_save"]),
                        _pp(entry["http_load"]),
                        _pp(entry["service_load"]),
                        f"{entry['http_load']['bytes']:,}",
                    ]
                )
            )
        storage = results["sizes"]["1000"]["storage"]
        lines += [
            "",
            f"Storage over {storage['saves']:,} one-node edits of the 1,000-node workflow:"
            f" {storage['content_bytes_per_save']:,} bytes of version content per save"
            f" ({storage['percent_of_definition']} % of the {storage['definition_bytes']:,}-byte"
            f" definition, {storage['keyframes']} keyframes included); the database grew by"
            f" {storage['database_bytes_per_save']:,} bytes per save including row overhead and"
            " indexes"
            + (
                f" (after a VACUUM, {storage['database_bytes_per_save_after_vacuum']:,} bytes per"
                " save over the next saves: the space of superseded head texts is reused)."
                if storage.get("database_bytes_per_save_after_vacuum") is not None
                else "."
            ),
            "",
            "History depth (1,000 nodes):",
            "",
            _row(
                [
                    "depth",
                    "HTTP load head",
                    "HTTP save",
                    "service load",
                    "service save",
                    "HTTP load middle version",
                    "HTTP history page (middle)",
                ]
            ),
            _row(["---"] * 7),
        ]
        for depth, entry in results["history_depth"].items():
            lines.append(
                _row(
                    [
                        f"{int(depth):,}",
                        _pp(entry["http_load_head"]),
                        _pp(entry["http_save"]),
                        _pp(entry["service_load_head"]),
                        _pp(entry["service_save"]),
                        _pp(entry["http_load_middle_version"]),
                        _pp(entry["http_history_page_middle"]),
                    ]
                )
            )
        scale = results["scale"]
        lines += [
            "",
            f"One project with {scale['workflows']:,} workflows and {scale['versions']:,} versions"
            f" (seeded in {scale['seed_seconds']} s), pages of 50:",
            "",
            _row(["query", "p50 / p99"]),
            _row(["---"] * 2),
        ]
        lines += [
            _row([key, _pp(value)]) for key, value in scale.items() if isinstance(value, dict)
        ]
        conc = results["concurrency"]
        different = conc["different_workflows"]
        lines += [
            "",
            f"Concurrency: {different['clients']} clients saving different"
            f" {different['nodes']}-node workflows: {different['saves_per_second']} saves/s"
            f" ({different['saves']} saves in {different['seconds']} s, errors:"
            f" {len(different['errors'])}).",
        ]
        for name in ("hot_workflow_own_nodes", "hot_workflow_shared_nodes"):
            hot = conc[name]
            lines.append(
                f"- {name.replace('_', ' ')}: {hot['attempts']} attempts, outcomes"
                f" {hot['outcomes']}, merge rate {hot['merge_rate']}, 409 rate"
                f" {hot['conflict_409_rate']}, gapless: {hot['gapless']}, lost updates:"
                f" {hot['lost_updates']}."
            )
        bundle = results.get("bundle_import", {})
        if bundle.get("pending"):
            lines += ["", "Bundle import: pending (bundles service not available)."]
        else:
            lines += [
                "",
                f"Bundle import ({bundle['bundle_bytes']:,} bytes): service"
                f" {bundle['service_seconds']} s, HTTP {bundle['http_seconds']} s"
                f" (status {bundle['http_status']}).",
            ]
        memory = results["memory"]
        leak = results["memory_over_saves"]
        lines += [
            "",
            f"Memory of `meshhook serve`: {memory['idle_start_mb']} MB idle after start,"
            f" peak {memory['peak_mb']} MB, {memory['now_mb']} MB at the end. Over"
            f" {leak['saves']:,} saves of a {leak['nodes']}-node workflow: "
            + ", ".join(f"{s['saves']:,}: {s['rss_mb']} MB" for s in leak["rss_samples"])
            + f". Idle CPU: {results['idle_cpu']['percent']} % after start,"
            f" {results['idle_cpu_after']['percent']} % after the run.",
        ]
        lines += engine_lines(results)
        lines += webhook_lines(results)
        lines += saves_lines(results)
        by_section = memory.get("by_section")
        if by_section:
            lines += [
                "",
                "RSS / peak so far (MB) after each section: "
                + ", ".join(
                    f"{name} {value['rss_mb']} / {value['peak_mb']}"
                    for name, value in by_section.items()
                )
                + ".",
            ]
    parts = output.get("components", {})
    for size, entry in parts.items():
        lines += [
            "",
            f"## Where a save's CPU goes ({int(size):,} nodes, {entry['bytes']:,} bytes)",
            "",
            _row(["step", "p50 / p99"]),
            _row(["---"] * 2),
        ]
        lines += [_row([name, _pp(value)]) for name, value in entry["steps"].items()]
    lines.append("")
    if NOTES.exists():
        lines += [NOTES.read_text().rstrip(), ""]
    path.write_text("\n".join(lines))
