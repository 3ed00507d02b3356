"""Retention policies (pure): how long a project keeps its runs and their
payloads, and what a scrubbed run keeps.

A project's policy has two optional ages, in days since a run was created:

- ``delete_after_days``: finished runs older than this are deleted with their
  event logs (statistics rollups are aggregates and stay);
- ``scrub_after_days``: finished runs older than this lose their payloads
  (run input and output, step inputs and outputs, recorded HTTP requests and
  responses, error details beyond code and message) but keep every other
  field: status, timings, attempts, node ids, error codes.

Neither set (the default) keeps everything forever. Runs that have not
finished are never touched, however old.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from meshhook.domain.errors import Conflict, Problem, ValidationFailed
from meshhook.domain.limits import MAX_RETENTION_DAYS
from meshhook.domain.runs.payloads import SEALED, sealed_steps_metadata

SCRUBBED = "scrubbed"
"""The member a scrubbed event's data carries (``true``): its payload is gone."""

PAYLOAD_KEYS = frozenset({"input", "output", "request", "response", SEALED})
"""Event data members that hold payloads (what a scrub removes): in clear, or
sealed at rest in one ``$sealed`` member (domain/runs/payloads.py)."""

ERROR_KEPT = ("code", "message")
"""What a scrub keeps of an ``error`` member."""

PAYLOADS_SCRUBBED = "run.payloads_scrubbed"
"""The problem code of an action refused because it needs payloads retention
scrubbed."""


class PayloadsScrubbed(Conflict):
    """A run whose payloads retention scrubbed cannot be resumed (the outputs
    it would reuse are gone) nor replayed (its events no longer hold what it
    computed)."""

    title = "Run payloads scrubbed by retention"
    slug = "run-payloads-scrubbed"


def refuse_scrubbed(scrubbed_at: datetime | None, action: str) -> None:
    """Raise :class:`PayloadsScrubbed` when ``scrubbed_at`` is set: ``action``
    (``resume``, ``replay``) needs the run's payloads."""
    if scrubbed_at is None:
        return
    message = (
        f"cannot {action} this run: retention scrubbed its payloads on"
        f" {scrubbed_at.isoformat()} (the project's scrub_after_days)"
    )
    raise PayloadsScrubbed(
        message, extra={"code": PAYLOADS_SCRUBBED, "scrubbed_at": scrubbed_at.isoformat()}
    )


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    delete_after_days: int | None = None
    scrub_after_days: int | None = None

    @property
    def keeps_forever(self) -> bool:
        return self.delete_after_days is None and self.scrub_after_days is None

    def delete_before(self, now: datetime) -> datetime | None:
        """Runs created before this are deleted (None: never)."""
        return _before(now, self.delete_after_days)

    def scrub_before(self, now: datetime) -> datetime | None:
        """Runs created before this lose their payloads (None: never)."""
        return _before(now, self.scrub_after_days)

    def as_json(self) -> dict[str, Any]:
        return {
            "delete_after_days": self.delete_after_days,
            "scrub_after_days": self.scrub_after_days,
        }


KEEP_FOREVER = RetentionPolicy()


def _before(now: datetime, days: int | None) -> datetime | None:
    return None if days is None else now - timedelta(days=days)


def checked_policy(delete_after_days: int | None, scrub_after_days: int | None) -> RetentionPolicy:
    """A policy, or :class:`ValidationFailed` naming the offending member."""
    problems = [
        Problem(f"/{name}", "retention.invalid_days", f"must be 1 to {MAX_RETENTION_DAYS} days")
        for name, days in (
            ("delete_after_days", delete_after_days),
            ("scrub_after_days", scrub_after_days),
        )
        if days is not None and not 1 <= days <= MAX_RETENTION_DAYS
    ]
    if (
        not problems
        and delete_after_days is not None
        and scrub_after_days is not None
        and scrub_after_days >= delete_after_days
    ):
        problems.append(
            Problem(
                "/scrub_after_days",
                "retention.scrub_after_delete",
                "scrubbing must come before deletion (fewer days than delete_after_days)",
            )
        )
    if problems:
        raise ValidationFailed("the retention policy is not valid", problems)
    return RetentionPolicy(delete_after_days, scrub_after_days)


def scrub_event_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """An event's data without its payloads: every other member stays, so a
    scrubbed log still folds to the same statuses, attempts and timings."""
    kept: dict[str, Any] = {k: v for k, v in data.items() if k not in PAYLOAD_KEYS}
    if isinstance(kept.get("error"), Mapping):
        kept["error"] = scrub_error(kept["error"])
    kept[SCRUBBED] = True
    return kept


def scrub_error(error: Any) -> Any:
    """An error member reduced to its code and message."""
    if not isinstance(error, Mapping):
        return error
    return {key: error[key] for key in ERROR_KEPT if key in error}


def scrub_steps(steps: Any) -> Any:
    """A run row's step projection without step inputs and outputs. Steps
    sealed at rest (``{"steps": [metadata...], "$sealed": ...}``) keep their
    metadata and lose the sealed payloads: output and error message."""
    sealed = sealed_steps_metadata(steps)
    if sealed is not None:
        return [{"output": None, "error": None, **_scrub_step(step)} for step in sealed]
    if not isinstance(steps, list):
        return steps
    return [_scrub_step(step) for step in steps]


def _scrub_step(step: Any) -> Any:
    if not isinstance(step, Mapping):
        return step
    kept = {k: v for k, v in step.items() if k not in PAYLOAD_KEYS}
    if "output" in step:
        kept["output"] = None
    if "input" in step:
        kept["input"] = None
    if "error" in kept:
        kept["error"] = scrub_error(kept["error"])
    return kept
