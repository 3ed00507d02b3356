from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from meshhook.domain.node_types import REGISTRY, get_node_type, node_types_as_json
from meshhook.domain.validation import is_sensitive

from .strategies import CONFIGS, JSON


def test_registry_holds_the_v1_node_types() -> None:
    assert set(REGISTRY) == {
        "webhook",
        "manual",
        "schedule",
        "transform",
        "http_call",
        "branch",
        "delay",
        "terminate",
    }
    assert get_node_type("http_call") is REGISTRY["http_call"]
    assert get_node_type("nope") is None


def test_node_types_json_has_what_the_palette_and_forms_need() -> None:
    served = {t["name"]: t for t in node_types_as_json()}
    assert served["branch"]["outputs"] == ["true", "false"]
    assert served["terminate"]["outputs"] == []
    assert served["transform"]["outputs"] is None
    assert served["webhook"]["is_trigger"] is True
    assert served["webhook"]["max_inputs"] == 0
    assert served["webhook"]["category"] == "trigger"
    for node_type in served.values():
        Draft202012Validator.check_schema(node_type["config_schema"])
        assert node_type["config_schema"]["additionalProperties"] is False
        assert node_type["title"]
        assert node_type["description"]


def test_served_schemas_are_copies_that_cannot_corrupt_the_registry() -> None:
    node_types_as_json()[0]["config_schema"]["properties"].clear()
    assert REGISTRY["webhook"].config_schema["properties"]


def test_defaults_in_schemas_are_valid_values() -> None:
    def walk(schema: Any) -> None:
        if isinstance(schema, dict):
            if "default" in schema and "type" in schema:
                assert Draft202012Validator({"type": schema["type"]}).is_valid(schema["default"])
            for value in schema.values():
                walk(value)
        elif isinstance(schema, list):
            for value in schema:
                walk(value)

    for node_type in REGISTRY.values():
        walk(node_type.config_schema)


def _required_somewhere(schema: dict[str, Any]) -> set[str]:
    """Fields ``required`` by the schema itself or by one of its alternatives."""
    names = set(schema.get("required", []))
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(keyword, []):
            names |= set(branch.get("required", []))
    return names


@pytest.mark.parametrize("node_type", REGISTRY.values(), ids=lambda t: t.name)
def test_a_field_with_a_default_may_be_omitted(node_type: Any) -> None:
    # A default is what an omitted field means; a field the schema requires
    # (alone or as one of a choice) has no such meaning, and a form would show
    # the default as if leaving the field empty were fine.
    properties = node_type.config_schema.get("properties", {})
    with_default = {name for name, field in properties.items() if "default" in field}
    assert with_default & _required_somewhere(node_type.config_schema) == set()


def test_an_empty_delay_is_refused_and_its_schema_shows_an_example_not_a_default() -> None:
    duration = get_node_type("delay").config_schema["properties"]["duration_seconds"]
    assert "default" not in duration
    assert duration["examples"] == [60]
    assert not Draft202012Validator(get_node_type("delay").config_schema).is_valid({})


@pytest.mark.parametrize(
    ("type_name", "pointer", "expected"),
    [
        ("http_call", "/headers/Authorization", True),
        ("http_call", "/headers/authorization", True),
        ("http_call", "/headers/Cookie", True),
        ("http_call", "/headers/X-API-Key", True),
        ("http_call", "/headers/X-Session-Token", True),
        ("http_call", "/headers/X-Client-Secret", True),
        ("http_call", "/headers/X-Password", True),
        ("http_call", "/headers/Content-Type", False),
        ("http_call", "/headers/Accept", False),
        ("http_call", "/headers/Idempotency-Key", False),
        ("http_call", "/query/api_key", True),
        ("http_call", "/query/page", False),
        ("http_call", "/auth/token", True),
        ("http_call", "/auth/password", True),
        ("http_call", "/auth/value", True),
        ("http_call", "/auth/username", False),
        ("http_call", "/auth", False),
        ("http_call", "/url", False),
        ("http_call", "/body/token", False),
        ("webhook", "/hmac_secret", True),
        ("webhook", "/path", False),
        ("transform", "/expression", False),
    ],
)
def test_sensitive_field_patterns(type_name: str, pointer: str, expected: bool) -> None:
    assert is_sensitive(REGISTRY[type_name], pointer) is expected


def test_descendants_of_a_sensitive_field_are_sensitive() -> None:
    assert is_sensitive(REGISTRY["http_call"], "/auth/token/nested")


def test_sensitive_values_finds_each_credential_in_a_config() -> None:
    config = {
        "url": "https://x",
        "headers": {"Authorization": "a", "Accept": "b", "X-Api-Key": "c"},
        "auth": {"type": "basic", "username": "u", "password": "p"},
    }
    found = dict(REGISTRY["http_call"].sensitive_values(config))
    assert found == {
        "/headers/Authorization": "a",
        "/headers/X-Api-Key": "c",
        "/auth/password": "p",
    }


@pytest.mark.parametrize("node_type", list(REGISTRY.values()), ids=list(REGISTRY))
def test_every_schema_has_a_fast_check(node_type: Any) -> None:
    assert node_type.fast_check is not None


def _mutations(type_name: str) -> st.SearchStrategy[Any]:
    valid = CONFIGS[type_name]
    field_names = list(REGISTRY[type_name].config_schema.get("properties", {}))
    return (
        valid
        | JSON
        | st.builds(
            lambda base, key, value: {**base, key: value},
            valid,
            st.sampled_from([*field_names, "typo"]),
            JSON
            | st.integers(-5, 400)
            | st.floats(allow_nan=False)
            | st.sampled_from(
                ["GET", "POST", "BOGUS", "2030-01-01T00:00:00Z", "ftp://x", "{{ secrets.A }}/p"]
            ),
        )
    )


@settings(max_examples=150)
@given(
    st.sampled_from(sorted(REGISTRY)).flatmap(
        lambda name: st.tuples(st.just(name), _mutations(name))
    )
)
def test_fast_check_agrees_with_jsonschema(case: tuple[str, Any]) -> None:
    type_name, config = case
    node_type = REGISTRY[type_name]
    assert node_type.fast_check is not None
    assert node_type.fast_check(config) == node_type.validator.is_valid(config)
