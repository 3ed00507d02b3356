"""Which parts of a run are payload (sealed at rest) and which are metadata
(kept in clear for queries, statistics and the console's outline). Pure: the
store seals and opens what :func:`split` sets apart (``store/run_payloads.py``).

Metadata: statuses, node ids, times, attempts, due times, branch labels, the
trigger node, the run timeout, and the ``code`` of an error (ours, stable,
what statistics count). Everything else an event or a step carries is payload:
inputs, outputs, an error's message and details, the recorded HTTP request
and response, and any key not named here (so a new kind of data is sealed
unless it is declared metadata).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SEALED = "$sealed"
"""The key of a sealed payload inside a stored JSON value: ``{"$sealed": "<key id>:<base64>"}``."""

EVENT_METADATA = frozenset(
    {"attempt", "due_at", "label", "trigger_node", "timeout_seconds", "takeover", "reused_from"}
)
STEP_METADATA = frozenset({"node_id", "status", "attempts", "started_at", "finished_at"})


def split(
    data: Mapping[str, Any], metadata: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``data`` as ``(clear, payload)``: the metadata keys, plus an error's
    code as ``{"error": {"code": ...}}``; and every other key. ``join``
    puts them back together."""
    clear: dict[str, Any] = {}
    payload: dict[str, Any] = {}
    for key, value in data.items():
        if key in metadata:
            clear[key] = value
        else:
            payload[key] = value
            if key == "error" and isinstance(value, dict) and "code" in value:
                clear["error"] = {"code": value["code"]}
    return clear, payload


def join(clear: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    """The data :func:`split` took apart (the payload's full error replaces
    its clear code)."""
    whole = {key: value for key, value in clear.items() if key != SEALED}
    whole.update(payload)
    return whole


def sealed_part(value: Any) -> str | None:
    """The sealed text of a stored value (``{"$sealed": ...}`` itself, or a
    mapping that carries one), ``None`` for a value stored in clear (rows
    written before payloads were sealed, or by a process without keys)."""
    if isinstance(value, dict):
        sealed = value.get(SEALED)
        if isinstance(sealed, str):
            return sealed
    return None


def error_code(error: Any) -> dict[str, Any] | None:
    """What of a run's error stays in clear: its code."""
    if isinstance(error, dict) and "code" in error:
        return {"code": error["code"]}
    return None


def sealed_steps_metadata(stored: Any) -> list[Any] | None:
    """The steps' metadata of a run's steps as stored sealed (``{"steps":
    [metadata...], "$sealed": ...}``, see ``store/run_payloads.py``); ``None``
    for steps stored in clear (a plain list)."""
    if isinstance(stored, dict) and sealed_part(stored) is not None:
        steps = stored.get("steps")
        if isinstance(steps, list):
            return steps
    return None
