"""Alert rule evaluation: firing, de-duplication under a cool-down, resolving,
the retry schedule and the exact bytes a destination receives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from meshhook.domain.alerts import (
    MAX_ATTEMPTS,
    Action,
    AttemptRecord,
    DeliveryStatus,
    DestinationKind,
    RateObservation,
    RuleState,
    body_bytes,
    check_url,
    destination_spec,
    lag_breaches,
    next_attempt,
    on_failure,
    on_observation,
    on_success,
    outcome_of,
    retry_delay,
    rule_spec,
)
from meshhook.domain.errors import ValidationFailed

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
COOLDOWN = 600


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_failure_storm_sends_one_alert_per_cooldown() -> None:
    state = RuleState()
    actions = []
    # 100 failures, one every 10 s, over 1,000 s: fires at 0 and again at 600.
    for second in range(0, 1000, 10):
        decision = on_failure(state, at(second), COOLDOWN)
        actions.append((second, decision.action, decision.suppressed))
        state = decision.state
    fired = [(second, held) for second, action, held in actions if action is Action.FIRE]
    assert fired == [(0, 0), (600, 59)], "the second alert says how many were held back"
    assert sum(action is Action.SUPPRESS for _, action, _ in actions) == 98
    assert state.suppressed == 39
    assert state.firing


def test_a_cooldown_of_zero_sends_every_failure() -> None:
    state = RuleState()
    for second in range(5):
        decision = on_failure(state, at(second), 0)
        assert decision.action is Action.FIRE
        state = decision.state


def test_a_success_resolves_a_firing_event_rule_once() -> None:
    fired = on_failure(RuleState(), T0, COOLDOWN).state
    resolved = on_success(fired)
    assert resolved.action is Action.RESOLVE
    assert not resolved.state.firing
    assert resolved.state.last_fired_at == T0, "the cool-down still counts from the alert"
    assert on_success(resolved.state).action is Action.NOTHING
    # A failure right after the resolution is within the cool-down: held back.
    again = on_failure(resolved.state, at(30), COOLDOWN)
    assert again.action is Action.SUPPRESS
    assert again.state.suppressed == 1


def test_a_threshold_rule_fires_once_while_breached_and_resolves_when_clear() -> None:
    state = RuleState()
    seen = []
    for second, breached in [(0, False), (15, True), (30, True), (45, True), (60, False)]:
        decision = on_observation(state, breached, at(second), COOLDOWN)
        seen.append(decision.action)
        state = decision.state
    assert seen == [Action.NOTHING, Action.FIRE, Action.NOTHING, Action.NOTHING, Action.RESOLVE]
    # Breached again inside the cool-down: held back until it has passed.
    flapped = on_observation(state, True, at(75), COOLDOWN)
    assert flapped.action is Action.SUPPRESS
    assert not flapped.state.firing
    later = on_observation(flapped.state, True, at(15 + COOLDOWN), COOLDOWN)
    assert later.action is Action.FIRE
    assert later.suppressed == 1


def test_failure_rate_needs_min_runs_and_exceeds_the_threshold() -> None:
    assert not RateObservation(0, 0).breaches(10, 1)
    assert not RateObservation(4, 4).breaches(10, 5), "too few runs to judge"
    assert RateObservation(5, 4).breaches(10, 5)
    assert not RateObservation(10, 1).breaches(10, 5), "10 % is not above 10 %"
    assert RateObservation(10, 2).breaches(10, 5)
    assert lag_breaches(31.0, 30)
    assert not lag_breaches(30.0, 30)
    assert not lag_breaches(None, 1)


def test_the_retry_schedule_doubles_up_to_a_cap_and_gives_up() -> None:
    delays = [retry_delay(n).total_seconds() for n in range(1, MAX_ATTEMPTS)]
    assert delays == [10, 20, 40, 80, 160, 320, 640]
    assert retry_delay(30).total_seconds() == 3600
    assert next_attempt(1, 500, T0) == at(10)
    assert next_attempt(3, None, T0) == at(40), "no answer (network, timeout) is retried"
    assert next_attempt(2, 429, T0) == at(20)
    assert next_attempt(1, 404, T0) is None, "a 4xx is the receiver refusing"
    assert next_attempt(MAX_ATTEMPTS, 503, T0) is None


def test_an_attempt_delivers_retries_or_gives_up() -> None:
    ok = outcome_of(1, AttemptRecord(T0, 204, 3.0, None))
    assert ok.status is DeliveryStatus.DELIVERED
    assert ok.next_attempt_at is None
    retry = outcome_of(2, AttemptRecord(T0, 502, 3.0, "answered 502"))
    assert retry.status is DeliveryStatus.PENDING
    assert retry.next_attempt_at == at(20)
    refused = outcome_of(1, AttemptRecord(T0, None, 0.0, "refused", final=True))
    assert refused.status is DeliveryStatus.FAILED
    last = outcome_of(MAX_ATTEMPTS, AttemptRecord(T0, 500, 1.0, "answered 500"))
    assert last.status is DeliveryStatus.FAILED


def test_bodies_are_sorted_compact_json_and_slack_gets_text_only() -> None:
    payload = {"type": "alert.fired", "text": "[MeshHook] FIRING", "at": "x", "run": None}
    assert body_bytes(payload, DestinationKind.WEBHOOK) == (
        b'{"at":"x","run":null,"text":"[MeshHook] FIRING","type":"alert.fired"}'
    )
    assert orjson.loads(body_bytes(payload, DestinationKind.SLACK)) == {"text": "[MeshHook] FIRING"}


def test_rule_settings_are_checked_with_pointers() -> None:
    spec = rule_spec({"name": "rate", "kind": "failure_rate", "threshold": 20})
    assert spec.window == "1h"
    assert spec.min_runs == 10
    assert spec.cooldown_seconds == 900
    event = rule_spec({"name": "f", "kind": "run.failed", "threshold": 5})
    assert event.threshold is None, "event rules have no threshold"
    bad = [
        ({"name": "r", "kind": "failure_rate"}, "/threshold"),
        ({"name": "r", "kind": "failure_rate", "threshold": 100}, "/threshold"),
        ({"name": "r", "kind": "queue_lag", "threshold": 0}, "/threshold"),
        ({"name": "r", "kind": "queue_lag", "threshold": 5, "workflow": "w"}, "/workflow"),
        ({"name": "r", "kind": "run.failed", "cooldown_seconds": -1}, "/cooldown_seconds"),
        ({"name": "", "kind": "run.failed"}, "/name"),
        ({"name": "r", "kind": "run.failed", "min_runs": 0}, "/min_runs"),
    ]
    for values, pointer in bad:
        with pytest.raises(ValidationFailed) as caught:
            rule_spec(values)
        assert caught.value.errors[0].path == pointer, values


def test_destinations_need_a_url_and_webhooks_a_vault_signing_secret() -> None:
    hook = destination_spec(
        {
            "name": "ops",
            "kind": "webhook",
            "url": "https://ops.example.com/in",
            "signing_secret": "{{ secrets.ALERT_KEY }}",
        }
    )
    assert hook.signing_secret == "{{ secrets.ALERT_KEY }}"
    slack = destination_spec({"name": "s", "kind": "slack", "url": "{{ secrets.SLACK_URL }}"})
    assert slack.url == "{{ secrets.SLACK_URL }}"
    for values, pointer in [
        ({"name": "h", "kind": "webhook", "url": "https://x.org"}, "/signing_secret"),
        (
            {"name": "h", "kind": "webhook", "url": "https://x.org", "signing_secret": "plain"},
            "/signing_secret",
        ),
        ({"name": "s", "kind": "slack", "url": "ftp://x.org"}, "/url"),
        ({"name": "s", "kind": "slack", "url": "https://u:p@x.org/"}, "/url"),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            destination_spec(values)
        assert caught.value.errors[0].path == pointer, values
    assert check_url("http://10.0.0.1/hook") == "http://10.0.0.1/hook"
