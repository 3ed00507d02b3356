"""Alert rules: what a rule watches, when it fires, is suppressed or resolves,
the retry schedule of a delivery, and the bytes a destination receives.
Pure: no clock, no I/O (the caller passes ``now`` and what it observed).

Kinds:

- ``run.failed`` / ``run.dead_lettered`` (event rules): looked at when a run
  of the project (or the rule's workflow) finishes. A matching failure fires,
  unless the rule fired less than ``cooldown_seconds`` ago (then it is
  suppressed and counted: the next alert says how many were). A later
  successful run matching the rule resolves a firing rule.
- ``failure_rate`` / ``queue_lag`` (threshold rules): looked at periodically
  by the workers. Crossing the threshold fires (at most once per cool-down);
  dropping back below it resolves. A rate needs ``min_runs`` finished runs in
  the window to be judged at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import orjson

from meshhook.domain.errors import Problem, ValidationFailed
from meshhook.domain.expressions import SECRET_REFERENCE
from meshhook.domain.stats import Window


class RuleKind(StrEnum):
    RUN_FAILED = "run.failed"
    RUN_DEAD_LETTERED = "run.dead_lettered"
    FAILURE_RATE = "failure_rate"
    QUEUE_LAG = "queue_lag"

    @property
    def is_event(self) -> bool:
        return self in (RuleKind.RUN_FAILED, RuleKind.RUN_DEAD_LETTERED)


EVENT_KINDS = (RuleKind.RUN_FAILED, RuleKind.RUN_DEAD_LETTERED)
THRESHOLD_KINDS = (RuleKind.FAILURE_RATE, RuleKind.QUEUE_LAG)


class DestinationKind(StrEnum):
    WEBHOOK = "webhook"
    SLACK = "slack"


class Event(StrEnum):
    FIRED = "alert.fired"
    RESOLVED = "alert.resolved"
    TEST = "alert.test"


class Action(StrEnum):
    FIRE = "fire"
    RESOLVE = "resolve"
    SUPPRESS = "suppress"
    NOTHING = "nothing"


DEFAULT_COOLDOWN_SECONDS = 900
MAX_COOLDOWN_SECONDS = 7 * 86400
MAX_DESTINATIONS_PER_RULE = 10
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")


@dataclass(frozen=True, slots=True)
class RuleState:
    """What a rule remembers between evaluations."""

    firing: bool = False
    last_fired_at: datetime | None = None
    suppressed: int = 0
    """Alerts held back by the cool-down since the last one sent."""


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    state: RuleState
    suppressed: int = 0
    """With FIRE: how many alerts the cool-down held back before this one."""


def _cooled(state: RuleState, now: datetime, cooldown_seconds: int) -> bool:
    return state.last_fired_at is None or now - state.last_fired_at >= timedelta(
        seconds=cooldown_seconds
    )


def _fire(state: RuleState, now: datetime) -> Decision:
    fired = RuleState(firing=True, last_fired_at=now, suppressed=0)
    return Decision(Action.FIRE, fired, suppressed=state.suppressed)


def on_failure(state: RuleState, now: datetime, cooldown_seconds: int) -> Decision:
    """A run matching an event rule failed (or was dead-lettered)."""
    if _cooled(state, now, cooldown_seconds):
        return _fire(state, now)
    return Decision(Action.SUPPRESS, replace(state, suppressed=state.suppressed + 1))


def on_success(state: RuleState) -> Decision:
    """A run matching an event rule succeeded: a firing rule resolves."""
    if state.firing:
        return Decision(Action.RESOLVE, replace(state, firing=False))
    return Decision(Action.NOTHING, state)


def on_observation(
    state: RuleState, breached: bool, now: datetime, cooldown_seconds: int
) -> Decision:
    """A threshold rule's periodic look: ``breached`` says whether the
    observed value is above the threshold (False when there is too little to
    judge). A firing rule stays quiet while the breach lasts; a resolved one
    fires again only once the cool-down has passed since it last fired."""
    if breached:
        if state.firing:
            return Decision(Action.NOTHING, state)
        if _cooled(state, now, cooldown_seconds):
            return _fire(state, now)
        return Decision(Action.SUPPRESS, replace(state, suppressed=state.suppressed + 1))
    if state.firing:
        return Decision(Action.RESOLVE, replace(state, firing=False))
    return Decision(Action.NOTHING, state)


@dataclass(frozen=True, slots=True)
class RateObservation:
    finished: int
    failed: int

    def rate(self) -> float | None:
        return self.failed / self.finished if self.finished else None

    def breaches(self, threshold_percent: float, min_runs: int) -> bool:
        rate = self.rate()
        if rate is None or self.finished < max(1, min_runs):
            return False
        return rate * 100 > threshold_percent


def lag_breaches(lag_seconds: float | None, threshold_seconds: float) -> bool:
    return lag_seconds is not None and lag_seconds > threshold_seconds


# -- retries ------------------------------------------------------------------

RETRY_BASE_SECONDS = 10.0
RETRY_CAP_SECONDS = 3600.0
MAX_ATTEMPTS = 8
"""A delivery is given up (``failed``) after this many attempts: about 21 min
of retries (10 s, 20 s, 40 s ... 640 s between them)."""
CLAIM_SECONDS = 60.0
"""A worker sending a delivery holds it this long; a worker that dies while
sending leaves it to be retried after that."""
RETRYABLE_STATUS = frozenset({408, 425, 429})


def retry_delay(attempt: int) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): doubling
    from ``RETRY_BASE_SECONDS``, at most ``RETRY_CAP_SECONDS``."""
    seconds = min(RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1), RETRY_CAP_SECONDS)
    return timedelta(seconds=seconds)


def retryable(status_code: int | None) -> bool:
    """Worth another attempt: no answer at all (network error, timeout), a
    5xx, 408, 425 or 429. Any other 4xx is the receiver refusing the alert."""
    return status_code is None or status_code >= 500 or status_code in RETRYABLE_STATUS


def next_attempt(attempt: int, status_code: int | None, now: datetime) -> datetime | None:
    """When to try again after failed attempt ``attempt``; None: give up."""
    if attempt >= MAX_ATTEMPTS or not retryable(status_code):
        return None
    return now + retry_delay(attempt)


# -- rule and destination settings -------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule's settings as the API takes them (validated by :func:`rule_spec`)."""

    name: str
    kind: RuleKind
    workflow: str | None
    """A workflow key or id; None: every workflow of the project."""
    threshold: float | None
    """``failure_rate``: percent (0-100); ``queue_lag``: seconds."""
    window: Window
    min_runs: int
    cooldown_seconds: int
    destinations: tuple[str, ...]
    enabled: bool


def invalid(message: str, pointer: str) -> ValidationFailed:
    """A 422 naming the field at fault."""
    return ValidationFailed(message, errors=[Problem(pointer, "alert.invalid", message)])


def check_name(name: str, what: str) -> str:
    if not NAME.match(name):
        raise invalid(
            f"{what} name must be 1-100 letters, digits, spaces, '.', '_' or '-'",
            pointer="/name",
        )
    return name


def rule_spec(values: Mapping[str, Any]) -> RuleSpec:
    """Check a rule's settings; problems name the field with a JSON Pointer."""
    kind = RuleKind(values["kind"])
    threshold = values.get("threshold")
    if kind.is_event:
        threshold = None
    elif threshold is None:
        raise invalid(f"a {kind} rule needs a threshold", pointer="/threshold")
    elif kind is RuleKind.FAILURE_RATE and not 0 <= float(threshold) < 100:
        raise invalid("threshold is a percentage from 0 to 100 (exclusive)", pointer="/threshold")
    elif kind is RuleKind.QUEUE_LAG and float(threshold) <= 0:
        raise invalid("threshold is a number of seconds above 0", pointer="/threshold")
    if kind is RuleKind.QUEUE_LAG and values.get("workflow"):
        raise invalid("queue_lag is a project-wide rule: no workflow filter", pointer="/workflow")
    cooldown = int(values.get("cooldown_seconds", DEFAULT_COOLDOWN_SECONDS))
    if not 0 <= cooldown <= MAX_COOLDOWN_SECONDS:
        raise invalid(
            f"cooldown_seconds is from 0 to {MAX_COOLDOWN_SECONDS}", pointer="/cooldown_seconds"
        )
    destinations = tuple(dict.fromkeys(str(d) for d in values.get("destinations") or ()))
    if len(destinations) > MAX_DESTINATIONS_PER_RULE:
        raise invalid(
            f"at most {MAX_DESTINATIONS_PER_RULE} destinations per rule", pointer="/destinations"
        )
    min_runs = int(values.get("min_runs", 10))
    if min_runs < 1:
        raise invalid("min_runs is at least 1", pointer="/min_runs")
    return RuleSpec(
        name=check_name(str(values["name"]), "a rule's"),
        kind=kind,
        workflow=values.get("workflow") or None,
        threshold=float(threshold) if threshold is not None else None,
        window=Window(values.get("window", Window.HOUR)),
        min_runs=min_runs,
        cooldown_seconds=cooldown,
        destinations=destinations,
        enabled=bool(values.get("enabled", True)),
    )


def secret_reference(value: str) -> str | None:
    """The secret name of a ``{{ secrets.NAME }}`` reference, else None."""
    match = SECRET_REFERENCE.fullmatch(value.strip())
    return match.group(1) if match else None


def check_url(url: str, pointer: str = "/url") -> str:
    """A destination URL: ``https://`` (``http://`` too, for receivers inside
    a private network, which the egress rules must then allow), or a secret
    reference whose value is such a URL (Slack URLs are credentials)."""
    if secret_reference(url) is not None:
        return url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(
            "url must be an http(s) URL or a {{ secrets.NAME }} reference", pointer=pointer
        )
    if parts.username or parts.password:
        raise invalid("url must not carry credentials: use a secret reference", pointer=pointer)
    return url


@dataclass(frozen=True, slots=True)
class DestinationSpec:
    name: str
    kind: DestinationKind
    url: str
    """A literal URL or a ``{{ secrets.NAME }}`` reference."""
    signing_secret: str | None
    """``webhook``: the ``{{ secrets.NAME }}`` reference of the HMAC key."""


def destination_spec(values: Mapping[str, Any]) -> DestinationSpec:
    kind = DestinationKind(values["kind"])
    signing = values.get("signing_secret")
    if kind is DestinationKind.WEBHOOK:
        if not signing or secret_reference(str(signing)) is None:
            raise invalid(
                "a webhook destination signs with a vault secret: {{ secrets.NAME }}",
                pointer="/signing_secret",
            )
    elif signing:
        raise invalid("a slack destination is not signed", pointer="/signing_secret")
    return DestinationSpec(
        name=check_name(str(values["name"]), "a destination's"),
        kind=kind,
        url=check_url(str(values["url"])),
        signing_secret=str(signing).strip() if signing else None,
    )


# -- what a destination receives ---------------------------------------------


def body_bytes(payload: Mapping[str, Any], kind: DestinationKind) -> bytes:
    """The exact request body: compact JSON, keys sorted, UTF-8. A Slack
    destination gets ``{"text": ...}`` only."""
    value = {"text": payload["text"]} if kind is DestinationKind.SLACK else payload
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def summary_text(
    event: Event,
    project: str,
    rule_name: str | None,
    kind: str | None,
    detail: str,
) -> str:
    """The one-line message (Slack's ``text``; ``text`` of the JSON body)."""
    if event is Event.TEST:
        return f"[MeshHook] test alert for project {project}: {detail}"
    word = "FIRING" if event is Event.FIRED else "RESOLVED"
    return f"[MeshHook] {word} {rule_name} ({kind}) in project {project}: {detail}"


# -- stored records ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Destination:
    id: UUID
    name: str
    kind: DestinationKind
    url: str
    signing_secret: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    @property
    def secret_names(self) -> tuple[str, ...]:
        """The vault secrets a delivery to it reads (URL, signing key)."""
        names = [secret_reference(self.url), secret_reference(self.signing_secret or "")]
        return tuple(name for name in names if name)


@dataclass(frozen=True, slots=True)
class Rule:
    id: UUID
    name: str
    kind: RuleKind
    workflow_id: UUID | None
    threshold: float | None
    window: Window
    min_runs: int
    cooldown_seconds: int
    destinations: tuple[UUID, ...]
    enabled: bool
    state: RuleState
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One try at a delivery, as the log shows it."""

    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    final: bool = False
    """Not worth retrying whatever the count (an address the egress rules refuse)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "status_code": self.status_code,
            "latency_ms": round(self.latency_ms, 1),
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class Delivery:
    id: UUID
    destination_id: UUID
    rule_id: UUID | None
    event: Event
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: tuple[dict[str, Any], ...]
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt did to its delivery."""

    status: DeliveryStatus
    next_attempt_at: datetime | None


def outcome_of(attempt_number: int, attempt: AttemptRecord) -> Outcome:
    """Delivered on a 2xx; else retried later or given up (:func:`next_attempt`)."""
    code = attempt.status_code
    if code is not None and 200 <= code < 300 and attempt.error is None:
        return Outcome(DeliveryStatus.DELIVERED, None)
    if attempt.final:
        return Outcome(DeliveryStatus.FAILED, None)
    later = next_attempt(attempt_number, code, attempt.at)
    return Outcome(DeliveryStatus.PENDING if later else DeliveryStatus.FAILED, later)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A claimed delivery ready to send: where, the exact body, the headers
    (signature included), or the ``problem`` that keeps it from being sent
    (a missing secret), which is logged as the attempt's error."""

    delivery_id: UUID
    attempt_number: int
    url: str
    body: bytes
    headers: dict[str, str]
    problem: str | None = None
