from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from meshhook.domain.validation import (
    MAX_NODES,
    completeness_problems,
    secret_references,
    validate_definition,
)

WEBHOOK = {"id": "hook", "type": "webhook", "config": {}}


def definition(*nodes: dict[str, Any], edges: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    all_nodes = [copy.deepcopy(WEBHOOK), *nodes]
    if edges is None:
        edges = [{"from": "hook", "to": n["id"]} for n in nodes]
    return {"nodes": all_nodes, "edges": edges}


def found(d: dict[str, Any], **kwargs: Any) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in completeness_problems(d, **kwargs)]


def http(config: dict[str, Any], node_id: str = "call") -> dict[str, Any]:
    return {"id": node_id, "type": "http_call", "config": config}


def test_a_complete_definition_is_valid() -> None:
    d = definition(http({"url": "https://example.com"}))
    report = validate_definition(d)
    assert report.valid
    assert report.as_dict() == {"valid": True, "errors": [], "warnings": []}


def test_config_errors_point_into_the_config() -> None:
    d = definition(http({"url": "ftp://example.com", "timeout_seconds": 0, "method": "FETCH"}))
    problems = completeness_problems(d)
    by_path = {p.path: p for p in problems}
    assert by_path["/nodes/1/config/url"].code == "config.schema"
    assert "http://" in by_path["/nodes/1/config/url"].message
    assert "must be > 0" in by_path["/nodes/1/config/timeout_seconds"].message
    assert "must be one of" in by_path["/nodes/1/config/method"].message


def test_missing_required_field_points_at_the_field() -> None:
    d = definition({"id": "t", "type": "transform", "config": {}})
    assert found(d) == [("config.schema", "/nodes/1/config/expression")]


def test_missing_config_counts_as_empty_config() -> None:
    d = definition({"id": "t", "type": "transform"})
    assert found(d) == [("config.schema", "/nodes/1/config/expression")]


def test_a_typo_in_a_field_name_is_reported_with_a_suggestion() -> None:
    d = definition(http({"url": "https://x.example.com", "timeout_secnds": 3}))
    (problem,) = completeness_problems(d)
    assert problem.code == "config.unknown_field"
    assert problem.path == "/nodes/1/config/timeout_secnds"
    assert "timeout_seconds" in problem.message


def test_nested_schema_rules_are_reported_at_depth() -> None:
    d = definition(
        http(
            {
                "url": "https://x.example.com",
                "retry": {"max_attempts": 11},
                "auth": {"type": "basic", "username": "u"},
            }
        )
    )
    paths = {p.path for p in completeness_problems(d)}
    assert "/nodes/1/config/retry/max_attempts" in paths
    assert "/nodes/1/config/auth/password" in paths


def test_invalid_header_name_is_reported() -> None:
    d = definition(http({"url": "https://x.example.com", "headers": {"Bad Header": "v"}}))
    (problem,) = completeness_problems(d)
    assert problem.path == "/nodes/1/config/headers"
    assert "Bad Header" in problem.message


def test_schema_messages_never_echo_a_sensitive_value() -> None:
    d = definition({"id": "h2", "type": "transform", "config": {"expression": "@"}})
    d["nodes"][0]["config"] = {"hmac_secret": 12345678}
    messages = " ".join(p.message for p in completeness_problems(d))
    assert "12345678" not in messages


@pytest.mark.parametrize(
    ("node", "path"),
    [
        (
            {"id": "t", "type": "transform", "config": {"expression": "a[("}},
            "/nodes/1/config/expression",
        ),
        ({"id": "b", "type": "branch", "config": {"condition": "`{"}}, "/nodes/1/config/condition"),
        (
            {"id": "e", "type": "terminate", "config": {"output": "foo bar"}},
            "/nodes/1/config/output",
        ),
        ({"id": "d", "type": "delay", "config": {"until": "a.["}}, "/nodes/1/config/until"),
    ],
)
def test_jmespath_that_does_not_compile_is_reported(node: dict[str, Any], path: str) -> None:
    d = definition(node)
    if node["type"] == "branch":
        d["nodes"].append({"id": "x", "type": "terminate", "config": {}})
        d["edges"] += [
            {"from": "b", "to": "x", "when": "true"},
            {"from": "b", "to": "x", "when": "false"},
        ]
    assert ("config.jmespath", path) in found(d)


def test_delay_needs_exactly_one_of_duration_or_until() -> None:
    both = definition({"id": "d", "type": "delay", "config": {"duration_seconds": 5, "until": "x"}})
    neither = definition({"id": "d", "type": "delay", "config": {}})
    for d in (both, neither):
        (problem,) = completeness_problems(d)
        assert problem.message.endswith("set exactly one of duration_seconds or until")


def test_delay_until_accepts_a_zoned_timestamp_or_an_expression() -> None:
    for until in ("2030-01-31T09:00:00Z", "2030-01-31T09:00:00+02:00", "order.ship_at"):
        assert found(definition({"id": "d", "type": "delay", "config": {"until": until}})) == []
    naive = definition({"id": "d", "type": "delay", "config": {"until": "2030-01-31T09:00:00"}})
    assert found(naive) == [("config.timestamp", "/nodes/1/config/until")]
    assert found(
        definition({"id": "d", "type": "delay", "config": {"duration_seconds": 31 * 86400}})
    )


def test_manual_input_schema_must_be_a_json_schema() -> None:
    d = {
        "nodes": [{"id": "m", "type": "manual", "config": {"input_schema": {"type": "banana"}}}],
        "edges": [],
    }
    assert found(d)[0][0] == "config.input_schema"


def test_branch_needs_both_outputs_and_when_on_its_edges() -> None:
    d = definition(
        {"id": "check", "type": "branch", "config": {"condition": "a"}},
        {"id": "yes", "type": "transform", "config": {"expression": "@"}},
        edges=[{"from": "hook", "to": "check"}, {"from": "check", "to": "yes", "when": "true"}],
    )
    problems = completeness_problems(d)
    assert [(p.code, p.path) for p in problems] == [("branch.missing_output", "/nodes/1")]
    assert "'false'" in problems[0].message
    d["edges"].append({"from": "check", "to": "yes"})
    assert ("edge.missing_when", "/edges/2") in found(d)


def test_terminate_with_outgoing_edges_is_reported_on_the_edge() -> None:
    d = definition(
        {"id": "end", "type": "terminate", "config": {}},
        {"id": "after", "type": "transform", "config": {"expression": "@"}},
        edges=[{"from": "hook", "to": "end"}, {"from": "end", "to": "after"}],
    )
    assert found(d) == [("terminate.has_outgoing", "/edges/1")]


def test_an_edge_into_a_trigger_exceeds_its_inputs() -> None:
    d = definition({"id": "t", "type": "transform", "config": {"expression": "@"}})
    d["nodes"].append({"id": "m", "type": "manual", "config": {}})
    d["edges"].append({"from": "t", "to": "m"})
    assert ("node.too_many_inputs", "/edges/1") in found(d)


def test_trigger_count_must_be_exactly_one() -> None:
    none = {"nodes": [{"id": "t", "type": "transform", "config": {"expression": "@"}}], "edges": []}
    assert found(none) == [("graph.no_trigger", "/nodes")]
    two = definition({"id": "m", "type": "manual", "config": {}}, edges=[])
    assert found(two) == [("graph.multiple_triggers", "/nodes/1")]


def test_unreachable_nodes_are_warnings_that_do_not_block_publishing() -> None:
    d = definition({"id": "island", "type": "transform", "config": {"expression": "@"}}, edges=[])
    report = validate_definition(d)
    assert report.valid
    assert [(p.code, p.path, p.severity) for p in report.warnings] == [
        ("graph.unreachable", "/nodes/1", "warning")
    ]


def test_unknown_secrets_are_reported_only_when_the_names_are_given() -> None:
    d = definition(
        http(
            {
                "url": "https://api.example.com/v1",
                "headers": {"X-Api-Key": "{{ secrets.BASE_KEY }}"},
                "auth": {"type": "bearer", "token": "{{ secrets.TOKEN }}"},
            }
        )
    )
    assert found(d) == []
    assert found(d, secret_names={"BASE_KEY", "TOKEN"}) == []
    problems = completeness_problems(d, secret_names=["BASE_KEY"])
    assert [(p.code, p.path) for p in problems] == [
        ("secret.unknown", "/nodes/1/config/auth/token")
    ]
    assert "meshhook secrets set TOKEN" in problems[0].message


def test_secret_references_lists_every_name_in_configs() -> None:
    d = definition(
        http({"url": "{{ secrets.A }}/x", "body": {"k": ["{{secrets.B}} and {{ secrets.C }}"]}})
    )
    d["nodes"][0]["config"]["hmac_secret"] = "{{ secrets.HOOK }}"
    assert secret_references(d) == {"A", "B", "C", "HOOK"}


def test_settings_timeout_must_be_positive() -> None:
    d = definition(http({"url": "https://x.example.com"}))
    d["settings"] = {"timeout_seconds": -1, "anything": {"goes": True}}
    assert found(d) == [("settings.schema", "/settings/timeout_seconds")]


def test_validate_stops_at_structural_problems() -> None:
    d = definition({"id": "t", "type": "transform", "config": {}})
    d["edges"].append({"from": "t", "to": "ghost"})
    report = validate_definition(d)
    assert report.structural
    assert [p.code for p in report.errors] == ["edge.unknown_node"]


def big_definition(count: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": "start", "type": "webhook", "config": {"hmac_secret": "{{ secrets.HOOK }}"}}
    ]
    for i in range(1, count):
        kind = ("transform", "http_call", "delay", "branch")[i % 4]
        configs: dict[str, dict[str, Any]] = {
            "transform": {"expression": f"items[{i % 7}].price"},
            "http_call": {
                "url": f"https://api.example.com/{i}",
                "headers": {
                    "Authorization": "Bearer {{ secrets.TOKEN }}",
                    "Accept": "application/json",
                },
                "retry": {"max_attempts": 3},
            },
            "delay": {"duration_seconds": i},
            "branch": {"condition": "amount > `10`"},
        }
        nodes.append(
            {
                "id": f"n{i}",
                "type": kind,
                "config": configs[kind],
                "position": {"x": i * 200, "y": 0},
            }
        )
    nodes[-1] = {"id": "end", "type": "terminate", "config": {"output": "@"}}
    edges: list[dict[str, Any]] = []
    for i in range(1, count):
        source = nodes[i - 1]
        if source["type"] == "branch":
            edges.append({"from": source["id"], "to": nodes[i]["id"], "when": "true"})
            edges.append({"from": source["id"], "to": nodes[i + 1]["id"], "when": "false"})
        else:
            edges.append({"from": source["id"], "to": nodes[i]["id"]})
    return {"nodes": nodes, "edges": edges, "settings": {"timeout_seconds": 600}}


def test_a_5000_node_definition_validates_completely() -> None:
    d = big_definition(MAX_NODES)
    started = time.perf_counter()
    report = validate_definition(d, secret_names={"HOOK", "TOKEN"})
    elapsed = time.perf_counter() - started
    assert report.errors == []
    assert report.warnings == []
    print(f"5,000-node validation took {elapsed * 1000:.1f} ms")  # informative, not asserted
