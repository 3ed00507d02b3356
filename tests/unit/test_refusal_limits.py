"""The per-address budget of refused webhook requests (domain/webhooks.py)."""

from __future__ import annotations

from meshhook.domain.webhooks import RefusalLimits


def test_an_address_is_heard_until_its_refusals_pass_the_burst_then_as_it_refills() -> None:
    limits = RefusalLimits(rate=2.0, burst=3)

    for _ in range(3):
        assert limits.wait("198.51.100.7", 0.0) == 0
        limits.refused("198.51.100.7", 0.0)

    assert limits.wait("198.51.100.7", 0.0) == 0.5
    assert limits.wait("203.0.113.9", 0.0) == 0  # another address
    assert limits.wait("198.51.100.7", 0.5) == 0  # one token back


def test_only_the_most_recently_refused_addresses_are_remembered() -> None:
    limits = RefusalLimits(rate=1.0, burst=1, max_clients=2)

    for address in ("a", "b", "c"):
        limits.refused(address, 0.0)

    assert limits.wait("a", 0.0) == 0  # forgotten
    assert limits.wait("b", 0.0) > 0
    assert limits.wait("c", 0.0) > 0


def test_a_rate_of_zero_turns_the_budget_off() -> None:
    limits = RefusalLimits(rate=0.0, burst=1)

    for _ in range(10):
        limits.refused("198.51.100.7", 0.0)

    assert limits.wait("198.51.100.7", 0.0) == 0
