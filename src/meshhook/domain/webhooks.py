"""Webhook triggers: a node's settings with their defaults, the token bucket,
and the run input built from a request. No I/O here."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from meshhook.domain.expressions import SECRET_REFERENCE

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_RATE_PER_SECOND = 20.0
DEFAULT_BURST = 100
DEFAULT_METHODS = ("POST",)
# Refused requests a client address may make (per second, and in a burst)
# before its requests are refused unread (MESHHOOK_HOOK_REFUSALS_PER_SECOND).
DEFAULT_REFUSALS_PER_SECOND = 10.0
DEFAULT_REFUSAL_BURST = 100
SIGNATURE_HEADER = "x-meshhook-signature"
SIGNATURE_TOLERANCE_SECONDS = 300
DELIVERIES_SHOWN = 100
DELIVERY_RETENTION_DAYS = 7
# Headers a run never sees: credentials of the request itself.
HIDDEN_HEADERS = frozenset({"authorization", "cookie", SIGNATURE_HEADER})


@dataclass(frozen=True, slots=True)
class JwtConfig:
    algorithm: str
    key_secret: str
    """The secret holding the HS256 key, or the RS256/ES256 public key (PEM)."""
    issuer: str | None
    audience: str | None
    leeway_seconds: int


@dataclass(frozen=True, slots=True)
class HookConfig:
    """A ``webhook`` node's config with every default filled in."""

    path: str
    methods: tuple[str, ...]
    hmac_secret: str | None
    """The name of the secret signing requests (from ``{{ secrets.NAME }}``)."""
    jwt: JwtConfig | None
    max_body_bytes: int
    rate_per_second: float
    burst: int
    body_schema: Mapping[str, Any] | None

    @property
    def secret_names(self) -> tuple[str, ...]:
        names = [self.hmac_secret] if self.hmac_secret else []
        if self.jwt is not None:
            names.append(self.jwt.key_secret)
        return tuple(names)


def _secret_name(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    match = SECRET_REFERENCE.fullmatch(value.strip())
    return match.group(1) if match else None


def hook_config(config: Mapping[str, Any], workflow_key: str) -> HookConfig:
    """The settings of a validated ``webhook`` node, defaults applied."""
    jwt = config.get("jwt")
    jwt_config = None
    if isinstance(jwt, Mapping):
        jwt_config = JwtConfig(
            algorithm=str(jwt.get("algorithm", "HS256")),
            key_secret=_secret_name(jwt.get("key")) or "",
            issuer=jwt.get("issuer"),
            audience=jwt.get("audience"),
            leeway_seconds=int(jwt.get("leeway_seconds", 0)),
        )
    return HookConfig(
        path=str(config.get("path") or workflow_key),
        methods=tuple(config.get("methods") or DEFAULT_METHODS),
        hmac_secret=_secret_name(config.get("hmac_secret")),
        jwt=jwt_config,
        max_body_bytes=int(config.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)),
        rate_per_second=float(config.get("rate_per_second", DEFAULT_RATE_PER_SECOND)),
        burst=int(config.get("burst", DEFAULT_BURST)),
        body_schema=config.get("body_schema"),
    )


@dataclass(slots=True)
class Bucket:
    """A token bucket: ``tokens`` at ``updated`` (seconds on some clock)."""

    tokens: float
    updated: float

    def take(self, now: float, rate: float, burst: int) -> float:
        """Take one token at ``now``; 0 when taken, else the seconds until one is due."""
        tokens = min(float(burst), self.tokens + max(0.0, now - self.updated) * rate)
        self.updated = now
        if tokens >= 1:
            self.tokens = tokens - 1
            return 0.0
        self.tokens = tokens
        return (1 - tokens) / rate


class RefusalLimits:
    """Refused requests per client address, for every hook of the process.

    Each refused request (401, 404, 405, 413, 422) takes a token from its
    address's bucket (``rate`` a second, up to ``burst``). While an address's
    bucket is empty its requests are answered 429 before anything else: before
    the hook is looked up, the body read, or a signature computed. Requests
    from other addresses are not affected, and an address that stops sending
    bad requests is heard again as its bucket refills. At most ``max_clients``
    addresses are remembered (the least recently refused are forgotten first).
    ``now`` is seconds on a monotonic clock, given by the caller.
    """

    def __init__(self, rate: float, burst: int, *, max_clients: int = 50_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, client: str | None, now: float) -> float:
        """0 when ``client`` may be heard now, else the seconds until it may."""
        bucket = self._buckets.get(client) if client is not None and self.rate > 0 else None
        if bucket is None:
            return 0.0
        tokens = min(float(self.burst), bucket.tokens + max(0.0, now - bucket.updated) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def refused(self, client: str | None, now: float) -> None:
        """Count one refused request from ``client``."""
        if client is None or self.rate <= 0:
            return
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                bucket = self._buckets[client] = Bucket(float(self.burst), now)
                if len(self._buckets) > self.max_clients:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(client)
            bucket.take(now, self.rate, self.burst)


def retry_after(seconds: float) -> int:
    """A ``Retry-After`` value: whole seconds, at least 1."""
    return max(1, math.ceil(seconds))


def run_input(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Iterable[tuple[str, str]],
    body: bytes,
) -> dict[str, Any]:
    """The run's input: ``{method, path, query, headers, body}``.

    A JSON body (by content type) is parsed; any other body is kept as text (its
    content type stays in ``headers``). Headers are lower-cased, credentials of
    the request itself left out; a repeated name keeps its values joined by
    ``", "`` (RFC 9110).
    """
    kept: dict[str, str] = {}
    for name, value in headers:
        lowered = name.lower()
        if lowered in HIDDEN_HEADERS:
            continue
        kept[lowered] = f"{kept[lowered]}, {value}" if lowered in kept else value
    params: dict[str, str] = {}
    for name, value in query:
        params.setdefault(name, value)
    return {
        "method": method,
        "path": path,
        "query": params,
        "headers": kept,
        "body": parse_body(kept.get("content-type", ""), body),
    }


class NotJson(ValueError):
    """A body sent as JSON that does not parse."""


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def parse_body(content_type: str, body: bytes) -> Any:
    if not body:
        return None
    if is_json_type(content_type):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise NotJson(str(error)) from None
    return body.decode("utf-8", errors="replace")
