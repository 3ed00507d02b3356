"""The ``http_call`` executor: one attempt of one HTTP request.

It renders the request from the node's config and input (placeholders and
secrets), sends it with the run's ``Idempotency-Key`` (the same value on every
attempt and after a crash), and returns the outcome plus what to record: the
request with secrets masked, and the response (status, headers, body up to
``max_response_bytes``). It never touches the database, and no secret value
reaches what it returns: errors are worded from the masked request, and a
secret the target echoes back is replaced by ``[redacted:secret]`` before the
outcome leaves the executor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from meshhook.domain.node_types.http_call import HTTP_CALL
from meshhook.domain.redaction import hide_secrets, secret_values
from meshhook.domain.runs.evaluate import Failed, Outcome, Succeeded
from meshhook.domain.runs.events import error_data
from meshhook.domain.runs.placeholders import PlaceholderError, Rendered, render
from meshhook.domain.secrets import host_allowed
from meshhook.engine.http.breaker import CircuitBreakers
from meshhook.engine.http.guard import AddressPolicy, AddressRefused, GuardedTransport

DEFAULT_RETRY_ON = (429, 502, 503, 504)
DEFAULT_TIMEOUT_SECONDS = 30.0
IDEMPOTENCY_HEADER = "Idempotency-Key"
_HIDDEN_RESPONSE_HEADERS = frozenset({"set-cookie"})


@dataclass(frozen=True, slots=True)
class HttpSettings:
    allow_private: bool = False
    max_response_bytes: int = 1024 * 1024
    breaker_threshold: int = 5
    breaker_cooldown_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one attempt and what the run records about it."""

    outcome: Outcome
    record: dict[str, Any]


class HttpCallExecutor:
    """One per worker process: holds the connection pool and the breakers."""

    def __init__(self, settings: HttpSettings, breakers: CircuitBreakers | None = None) -> None:
        self.settings = settings
        self.breakers = breakers or CircuitBreakers(
            settings.breaker_threshold, settings.breaker_cooldown_seconds
        )
        transport = GuardedTransport(
            AddressPolicy(allow_private=settings.allow_private), settings.max_response_bytes
        )
        self.client = httpx.AsyncClient(
            transport=transport, follow_redirects=False, trust_env=False
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def execute(
        self,
        config: Mapping[str, Any],
        value: Any,
        secrets: Mapping[str, str],
        idempotency_key: str,
        allowed_hosts: Mapping[str, Sequence[str]] | None = None,
        trace_headers: Mapping[str, str] | None = None,
    ) -> Attempt:
        """Send the request ``config`` describes for the input ``value``.

        ``allowed_hosts`` maps each restricted secret to the hosts it may be
        sent to: a request carrying one to any other host is not sent.
        ``trace_headers`` (``traceparent``) are added unless the config sets them.
        """
        try:
            sent = render(config, value, secrets, sensitive=HTTP_CALL.is_sensitive)
            shown = render(config, value, None, sensitive=HTTP_CALL.is_sensitive)
        except PlaceholderError as error:
            failed = Failed(error_data("http.placeholder", error.message, pointer=error.pointer))
            return Attempt(failed, {})
        attempt = await self._send(
            config, sent, shown, secrets, idempotency_key, allowed_hosts, trace_headers
        )
        return _without_secrets(attempt, _secret_forms(secrets, sent, shown))

    async def _send(
        self,
        config: Mapping[str, Any],
        sent: Rendered,
        shown: Rendered,
        secrets: Mapping[str, str],
        idempotency_key: str,
        allowed_hosts: Mapping[str, Sequence[str]] | None,
        trace_headers: Mapping[str, str] | None,
    ) -> Attempt:
        record: dict[str, Any] = {"request": _request_record(shown, idempotency_key)}
        refused = _restricted_elsewhere(secrets, allowed_hosts or {}, sent.url)
        if refused is not None:
            message = f"the secret {refused!r} may not be sent to this host (its allow-list)"
            return Attempt(Failed(error_data("http.host_not_allowed", message)), record)
        url = httpx.URL(shown.url)
        host = url.host
        if url.scheme not in ("http", "https") or not host:
            message = f"{shown.url[:200]!r} is not an http(s) URL"
            return Attempt(Failed(error_data("http.invalid_url", message)), record)
        if not self.breakers.allow(host):
            message = f"calls to {host} are paused after repeated failures (circuit open)"
            return Attempt(Failed(error_data("http.circuit_open", message), retryable=True), record)
        try:
            response = await self.client.request(
                sent.method,
                sent.url,
                params=sent.query or None,
                headers=_headers(sent, idempotency_key, trace_headers or {}),
                content=orjson.dumps(sent.body) if sent.has_body else None,
                timeout=float(config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)),
            )
        except AddressRefused as refused:
            self.breakers.succeeded(host)  # a policy refusal says nothing of the host's health
            message = f"calling {host} is not allowed: {refused}"
            return Attempt(Failed(error_data("http.address_refused", message)), record)
        except httpx.TimeoutException:
            self.breakers.failed(host)
            message = f"the request to {host} timed out"
            return Attempt(Failed(error_data("http.timeout", message), retryable=True), record)
        except (httpx.TransportError, httpx.InvalidURL):
            self.breakers.failed(host)
            message = f"the request to {host} failed before an answer (connection error)"
            return Attempt(Failed(error_data("http.network", message), retryable=True), record)
        answer = _response_record(response)
        record["response"] = answer
        if response.status_code < 400:
            self.breakers.succeeded(host)
            return Attempt(Succeeded(answer), record)
        if response.status_code >= 500:
            self.breakers.failed(host)
        retry_on = (config.get("retry") or {}).get("retry_on", DEFAULT_RETRY_ON)
        message = f"{host} answered {response.status_code}"
        status_error = error_data("http.status", message, status=response.status_code)
        return Attempt(Failed(status_error, retryable=response.status_code in retry_on), record)


def _secret_forms(secrets: Mapping[str, str], sent: Rendered, shown: Rendered) -> tuple[str, ...]:
    """What of the secrets could come back in an answer: each value, its
    percent-encoded form (as a URL carries it), and each header value that
    carried one (a ``Basic`` pair in base64, ``Bearer <token>``)."""
    if not secrets:
        return ()
    forms = set(secrets.values())
    forms.update(quote(value, safe="") for value in secrets.values())
    forms.update(value for name, value in sent.headers.items() if shown.headers.get(name) != value)
    return secret_values(forms)


def _without_secrets(attempt: Attempt, secrets: tuple[str, ...]) -> Attempt:
    """``attempt`` with the secret values the step used hidden in its output,
    error and record: a target that echoes a credential back (in a body, a
    header, an error page) must not put it in the run's history, the console,
    a downstream step or a log line."""
    if not secrets:
        return attempt
    outcome = attempt.outcome
    if isinstance(outcome, Succeeded):
        outcome = replace(outcome, output=hide_secrets(outcome.output, secrets))
    elif isinstance(outcome, Failed):
        outcome = replace(outcome, error=hide_secrets(outcome.error, secrets))
    return Attempt(outcome, hide_secrets(attempt.record, secrets))


def _restricted_elsewhere(
    secrets: Mapping[str, str],
    allowed_hosts: Mapping[str, Sequence[str]],
    url: str,
) -> str | None:
    """The first secret the request carries (those given: the ones its config
    references) whose allow-list refuses ``url``."""
    for name in sorted(secrets):
        hosts = allowed_hosts.get(name)
        if hosts is not None and not host_allowed(hosts, url):
            return name
    return None


def _headers(
    rendered: Rendered, idempotency_key: str, trace_headers: Mapping[str, str]
) -> dict[str, str]:
    headers = dict(rendered.headers)
    for name, value in trace_headers.items():
        if not any(given.lower() == name.lower() for given in headers):
            headers[name] = value
    if not any(name.lower() == IDEMPOTENCY_HEADER.lower() for name in headers):
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    if rendered.has_body and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/json"
    return headers


def _request_record(shown: Rendered, idempotency_key: str) -> dict[str, Any]:
    return {
        "method": shown.method,
        "url": shown.url,
        "query": shown.query,
        "headers": _headers(shown, idempotency_key, {}),
        "body": shown.body,
    }


def _response_record(response: httpx.Response) -> dict[str, Any]:
    content_type = response.headers.get("content-type", "")
    raw = response.content
    body: Any
    if "json" in content_type:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
    else:
        body = raw.decode("utf-8", "replace")
    headers = {
        name: value
        for name, value in response.headers.items()
        if name.lower() not in _HIDDEN_RESPONSE_HEADERS
    }
    return {
        "status": response.status_code,
        "headers": headers,
        "body": body,
        "truncated": bool(response.extensions.get("meshhook.truncated", False)),
    }
