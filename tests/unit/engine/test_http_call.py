"""The http_call executor against a real local HTTP server."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from meshhook.domain.runs.evaluate import Failed, Succeeded
from meshhook.engine.executors.http_call import Attempt, HttpCallExecutor, HttpSettings
from meshhook.engine.http.breaker import CircuitBreakers
from meshhook.engine.http.guard import AddressPolicy


class Recorder:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.body = b'{"ok": true}'
        self.delay = 0.0


@pytest.fixture
def target() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            recorder.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": self.rfile.read(length) if length else b"",
                }
            )
            time.sleep(recorder.delay)
            try:
                self.send_response(recorder.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Set-Cookie", "session=abc")
                self.send_header("Content-Length", str(len(recorder.body)))
                self.end_headers()
                self.wfile.write(recorder.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", recorder
    server.shutdown()
    server.server_close()


def call(
    config: dict[str, Any],
    value: Any = None,
    secrets: dict[str, str] | None = None,
    *,
    settings: HttpSettings | None = None,
    executor: HttpCallExecutor | None = None,
) -> Attempt:
    async def go() -> Attempt:
        runner = executor or HttpCallExecutor(settings or HttpSettings(allow_private=True))
        try:
            return await runner.execute(config, value, secrets or {}, "run-1/call")
        finally:
            if executor is None:
                await runner.aclose()

    return asyncio.run(go())


def test_the_request_carries_the_runs_idempotency_key_and_the_rendered_input(
    target: tuple[str, Recorder],
) -> None:
    url, recorder = target
    config = {
        "method": "POST",
        "url": url + "/orders/{{ input.order.id }}",
        "query": {"q": "{{ input.order.name }}"},
        "body": {"order": "{{ input.order }}", "note": "id {{ input.order.id }}"},
    }

    attempt = call(config, {"order": {"id": "a/b", "name": "x y"}})

    assert isinstance(attempt.outcome, Succeeded)
    sent = recorder.requests[0]
    assert sent["path"] == "/orders/a%2Fb?q=x+y"
    assert sent["headers"]["Idempotency-Key"] == "run-1/call"
    assert json.loads(sent["body"]) == {"order": {"id": "a/b", "name": "x y"}, "note": "id a/b"}
    assert attempt.outcome.output["body"] == {"ok": True}
    assert "set-cookie" not in attempt.outcome.output["headers"]


def test_secrets_are_sent_but_masked_in_what_is_recorded(target: tuple[str, Recorder]) -> None:
    url, recorder = target
    config = {"url": url, "headers": {"Authorization": "Bearer {{ secrets.TOKEN }}"}}

    attempt = call(config, {}, {"TOKEN": "s3cr3t-value"})

    assert recorder.requests[0]["headers"]["Authorization"] == "Bearer s3cr3t-value"
    assert attempt.record["request"]["headers"]["Authorization"] == "Bearer ***"
    assert "s3cr3t-value" not in json.dumps(attempt.record)


def test_a_missing_secret_fails_without_calling(target: tuple[str, Recorder]) -> None:
    url, recorder = target

    attempt = call({"url": url, "headers": {"X-Api-Key": "{{ secrets.GONE }}"}})

    assert isinstance(attempt.outcome, Failed)
    assert attempt.outcome.error["code"] == "http.placeholder"
    assert attempt.outcome.error["pointer"] == "/headers/X-Api-Key"
    assert recorder.requests == []


def test_a_status_in_retry_on_is_a_retryable_failure_other_errors_are_not(
    target: tuple[str, Recorder],
) -> None:
    url, recorder = target
    recorder.status = 503
    retryable = call({"url": url}).outcome
    recorder.status = 404
    final = call({"url": url}).outcome

    assert isinstance(retryable, Failed)
    assert retryable.retryable
    assert retryable.error["status"] == 503
    assert isinstance(final, Failed)
    assert not final.retryable


def test_a_slow_answer_is_a_retryable_timeout(target: tuple[str, Recorder]) -> None:
    url, recorder = target
    recorder.delay = 1.0

    outcome = call({"url": url, "timeout_seconds": 0.2}).outcome

    assert isinstance(outcome, Failed)
    assert outcome.error["code"] == "http.timeout"
    assert outcome.retryable


def test_a_large_body_is_cut_at_the_cap_and_marked(target: tuple[str, Recorder]) -> None:
    url, recorder = target
    recorder.body = b"x" * 5000

    attempt = call({"url": url}, settings=HttpSettings(allow_private=True, max_response_bytes=1000))

    assert isinstance(attempt.outcome, Succeeded)
    assert len(attempt.outcome.output["body"]) == 1000
    assert attempt.outcome.output["truncated"] is True


def test_private_addresses_are_refused_unless_allowed(target: tuple[str, Recorder]) -> None:
    url, recorder = target

    outcome = call({"url": url}, settings=HttpSettings(allow_private=False)).outcome

    assert isinstance(outcome, Failed)
    assert outcome.error["code"] == "http.address_refused"
    assert recorder.requests == []


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "fe80::1", "fd00:ec2::254", "::ffff:169.254.169.254", "0.0.0.0"],
)
def test_metadata_and_link_local_addresses_are_refused_even_when_private_is_allowed(
    address: str,
) -> None:
    policy = AddressPolicy(allow_private=True)

    assert policy.refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "::1", "100.64.0.1", "192.168.1.1"])
def test_private_addresses_need_the_setting(address: str) -> None:
    assert AddressPolicy(allow_private=False).refusal(ipaddress.ip_address(address)) is not None
    assert AddressPolicy(allow_private=True).refusal(ipaddress.ip_address(address)) is None


def test_public_addresses_pass() -> None:
    assert AddressPolicy().refusal(ipaddress.ip_address("93.184.216.34")) is None


def test_the_breaker_opens_after_repeated_failures_then_lets_one_trial_through() -> None:
    now = [0.0]
    breakers = CircuitBreakers(threshold=3, cooldown=10, clock=lambda: now[0])
    for _ in range(3):
        assert breakers.allow("api.example.com")
        breakers.failed("api.example.com")

    assert not breakers.allow("api.example.com")
    now[0] = 10.0
    assert breakers.allow("api.example.com")  # the half-open trial
    assert not breakers.allow("api.example.com")  # only one
    breakers.failed("api.example.com")
    assert not breakers.allow("api.example.com")  # open again
    now[0] = 20.0
    assert breakers.allow("api.example.com")
    breakers.succeeded("api.example.com")
    assert breakers.allow("api.example.com")
    assert breakers.allow("other.example.com")


def test_an_open_breaker_fails_fast_without_calling(target: tuple[str, Recorder]) -> None:
    url, recorder = target
    recorder.status = 500
    breakers = CircuitBreakers(threshold=2, cooldown=60)

    async def go() -> list[Attempt]:
        executor = HttpCallExecutor(HttpSettings(allow_private=True), breakers)
        try:
            return [await executor.execute({"url": url}, None, {}, "r/n") for _ in range(3)]
        finally:
            await executor.aclose()

    attempts = asyncio.run(go())

    assert len(recorder.requests) == 2
    last = attempts[-1].outcome
    assert isinstance(last, Failed)
    assert last.error["code"] == "http.circuit_open"
    assert last.retryable


def test_a_secret_outside_a_credential_field_is_never_sent(target: tuple[str, Recorder]) -> None:
    url, recorder = target  # an old version saved before such references were refused

    attempt = call({"url": url + "/?k={{ secrets.TOKEN }}"}, {}, {"TOKEN": "s3"})

    assert isinstance(attempt.outcome, Failed)
    assert attempt.outcome.error["code"] == "http.placeholder"
    assert recorder.requests == []


def test_a_secret_goes_only_to_the_hosts_its_allow_list_names(
    target: tuple[str, Recorder],
) -> None:
    url, recorder = target
    config = {"url": url, "headers": {"Authorization": "Bearer {{ secrets.TOKEN }}"}}

    async def go(hosts: list[str]) -> Attempt:
        executor = HttpCallExecutor(HttpSettings(allow_private=True))
        try:
            return await executor.execute(
                config, {}, {"TOKEN": "s3"}, "r/n", allowed_hosts={"TOKEN": hosts}
            )
        finally:
            await executor.aclose()

    refused = asyncio.run(go(["api.example.com"])).outcome
    allowed = asyncio.run(go(["127.0.0.1"])).outcome

    assert isinstance(refused, Failed)
    assert refused.error["code"] == "http.host_not_allowed"
    assert isinstance(allowed, Succeeded)
    assert len(recorder.requests) == 1
