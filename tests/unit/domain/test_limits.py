"""Each validation limit of domain/limits.py, checked before the work it bounds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshhook.domain import completeness, expressions, limits
from meshhook.domain.bounded_cache import BoundedCache
from meshhook.domain.canonical import all_unique, json_equal, json_key
from meshhook.domain.config_problems import config_problems
from meshhook.domain.errors import Problem
from meshhook.domain.expressions import jmespath_error
from meshhook.domain.json_schema import Validator, check_schema, schema_errors
from meshhook.domain.node_types import REGISTRY
from meshhook.domain.validation import validate_definition
from meshhook.services.bundles import bundle_schema
from tests.unit.domain.strategies import JSON


def problems(count: int, severity: Any = "error") -> list[Problem]:
    return [Problem(f"/nodes/{i}", "config.schema", "bad", severity) for i in range(count)]


# -- the problem cap ----------------------------------------------------------------


def test_a_short_list_of_problems_is_kept_whole() -> None:
    assert limits.cap_problems(problems(limits.MAX_PROBLEMS)) == problems(limits.MAX_PROBLEMS)


def test_a_long_list_is_capped_with_a_summary_counting_the_rest() -> None:
    capped = limits.cap_problems(problems(5_000))
    assert len(capped) == limits.MAX_PROBLEMS + 1
    summary = capped[-1]
    assert summary.code == "problems.truncated"
    assert summary.severity == "error"
    assert summary.message.startswith("4800 more problem(s) not listed (5000 in all)")


def test_the_summary_is_a_warning_when_only_warnings_were_left_out() -> None:
    listed = problems(limits.MAX_PROBLEMS) + problems(10, "warning")
    assert limits.cap_problems(listed)[-1].severity == "warning"


def test_capping_twice_changes_nothing() -> None:
    once = limits.cap_problems(problems(5_000))
    assert limits.cap_problems(once) == once


def test_validate_caps_errors_and_warnings_each() -> None:
    nodes = [{"id": "start", "type": "manual"}] + [
        {"id": f"n{i}", "type": "transform", "config": {"expression": f"a.{i}"}}
        for i in range(1_000)
    ]
    report = validate_definition({"nodes": nodes, "edges": []})
    assert len(report.errors) == len(report.warnings) == limits.MAX_PROBLEMS + 1
    assert report.errors[-1].code == report.warnings[-1].code == "problems.truncated"
    assert report.errors[-1].message.startswith("800 more")


# -- arrays: maxItems, typed and linear uniqueItems ---------------------------------


def _arrays(schema: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        if schema.get("type") == "array":
            yield where, schema
        for key, value in schema.items():
            yield from _arrays(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _arrays(value, f"{where}/{index}")


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_array_in_a_node_type_schema_has_max_items(name: str) -> None:
    unbounded = [w for w, a in _arrays(dict(REGISTRY[name].config_schema)) if "maxItems" not in a]
    assert unbounded == []


def test_every_array_in_the_bundle_schema_has_max_items() -> None:
    unbounded = [where for where, array in _arrays(bundle_schema()) if "maxItems" not in array]
    assert unbounded == []


def test_bundle_schema_limits_are_the_domain_constants() -> None:
    schema = bundle_schema()
    assert schema["properties"]["workflows"]["maxItems"] == limits.MAX_BUNDLE_WORKFLOWS
    versions = schema["$defs"]["workflow"]["properties"]["versions"]
    assert versions["maxItems"] == limits.MAX_BUNDLE_VERSIONS
    for name in ("nodeTypes", "secrets"):
        array = schema["properties"]["dependencies"]["properties"][name]
        assert array["maxItems"] == limits.MAX_BUNDLE_DEPENDENCIES


@given(st.lists(JSON, max_size=6))
def test_linear_uniqueness_agrees_with_json_equality(items: list[Any]) -> None:
    pairwise = not any(json_equal(a, b) for i, a in enumerate(items) for b in items[i + 1 :])
    assert all_unique(items) == pairwise


def test_json_keys_follow_json_equality_not_python_equality() -> None:
    assert json_key({"a": 1, "b": [1.0]}) == json_key({"b": [1], "a": 1.0})
    assert json_key(True) != json_key(1)
    assert json_key([1, 2]) != json_key([2, 1])
    assert json_key(None) != json_key("null")


def test_unique_items_of_unsortable_values_take_one_pass() -> None:
    validator = Validator({"type": "array", "uniqueItems": True})
    distinct = [{"a": i} for i in range(20_000)]  # pairwise: 200 million comparisons
    started = time.perf_counter()
    assert validator.is_valid(distinct)
    assert not validator.is_valid([*distinct, {"a": 5.0}])
    assert time.perf_counter() - started < 5


def test_an_array_over_max_items_gets_one_error_and_no_item_errors() -> None:
    schema = {"type": "array", "maxItems": 5, "items": {"type": "string"}, "uniqueItems": True}
    errors = list(Validator(schema).iter_errors([7] * 100_000))
    assert [error.validator for error in errors] == ["maxItems"]
    assert len(errors[0].message) < 100  # the size, not the repr of the array


def test_uniqueness_is_not_checked_while_items_have_the_wrong_type() -> None:
    schema = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    errors = list(Validator(schema).iter_errors([{"a": 1}, {"a": 1}]))
    assert {error.validator for error in errors} == {"type"}


def test_schema_errors_stop_at_the_limit() -> None:
    validator = Validator({"type": "array", "items": {"type": "string"}})
    found, more = schema_errors(validator, [7] * 1_000_000, 20)
    assert len(found) == 20
    assert more


def test_a_config_with_a_million_bad_items_has_a_bounded_problem_list() -> None:
    started = time.perf_counter()
    found = config_problems(REGISTRY["webhook"], {"methods": [7] * 350_000}, "/c")
    assert time.perf_counter() - started < 5
    assert len(found) <= limits.MAX_CONFIG_SCHEMA_ERRORS + 1
    assert found[-1].code in ("problems.truncated", "config.schema")


def test_unsortable_retry_statuses_are_quick() -> None:
    config = {"url": "https://x.test", "retry": {"retry_on": [{"a": i} for i in range(4_000)]}}
    started = time.perf_counter()
    found = config_problems(REGISTRY["http_call"], config, "")
    assert time.perf_counter() - started < 5
    assert [problem.path for problem in found] == ["/retry/retry_on"]
    assert "at most 100" in found[0].message


def test_an_input_schema_with_unsortable_required_names_is_checked_quickly() -> None:
    schema = {"type": "object", "required": [{"a": i} for i in range(4_000)]}
    started = time.perf_counter()
    found = config_problems(REGISTRY["manual"], {"input_schema": schema}, "")
    assert time.perf_counter() - started < 5
    assert [problem.code for problem in found] == ["config.input_schema"]


def test_deep_input_schemas_do_not_exhaust_the_stack() -> None:
    schema: dict[str, Any] = {"type": "object"}
    for _ in range(29):  # 58 levels: a config may nest 60 below its node
        schema = {"properties": {"a": schema}}
    check_schema(schema)
    config_problems(REGISTRY["manual"], {"input_schema": schema}, "")


# -- expressions --------------------------------------------------------------------


def test_a_long_expression_is_refused_before_compiling() -> None:
    started = time.perf_counter()
    error = jmespath_error('`"' + "a" * 3_000_000 + '"`')
    assert time.perf_counter() - started < 1
    assert error is not None
    assert f"the limit is {limits.MAX_EXPRESSION_LENGTH}" in error
    assert jmespath_error("a" * limits.MAX_EXPRESSION_LENGTH) is None


@pytest.mark.parametrize(
    "expression",
    [
        "(" * 600 + "a" + ")" * 600,
        "[" * 40 + "]" * 40,
        "a" + "[*]" * 1_300,
        "!" * 2_000 + "a",
        "`" + "[" * 1_500 + "]" * 1_500 + "`",
    ],
)
def test_deep_expressions_are_problems_not_recursion_errors(expression: str) -> None:
    error = jmespath_error(expression)
    assert error is not None
    assert len(error) < 300


def test_brackets_inside_literals_do_not_count_as_nesting() -> None:
    assert jmespath_error("a[?b == '" + "(" * 100 + "']") is None
    assert jmespath_error("[" * limits.MAX_EXPRESSION_NESTING + "a" + "]" * 32) is None


def test_jmespath_messages_do_not_quote_the_expression() -> None:
    error = jmespath_error("a." + "b" * 3_000 + ".")
    assert error is not None
    assert len(error) < 300


def test_the_expression_cache_is_bounded_by_bytes() -> None:
    expressions._ANSWERS.clear()
    for i in range(3_000):
        jmespath_error(f"{i:04d}" + "a" * (limits.MAX_EXPRESSION_LENGTH - 4))
    assert expressions._ANSWERS.size_bytes <= limits.EXPRESSION_CACHE_BYTES
    assert len(expressions._ANSWERS) < 3_000


def test_a_huge_config_is_not_kept_in_the_config_cache() -> None:
    completeness._CONFIG_ANSWERS.clear()
    definition = {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {"id": "t", "type": "transform", "config": {"expression": "a" * 4_000_000}},
        ],
        "edges": [{"from": "start", "to": "t"}],
        "settings": {},
    }
    completeness.completeness_problems(definition)
    assert completeness._CONFIG_ANSWERS.size_bytes < 10_000


def test_a_bounded_cache_evicts_the_oldest_and_skips_heavy_entries() -> None:
    cache: BoundedCache[str, int] = BoundedCache(
        max_entries=100, max_bytes=3_000, max_entry_bytes=1_500
    )
    cache.put("big", 0, 5_000)
    assert cache.lookup("big") == (False, None)
    for i in range(5):
        cache.put(str(i), i, 800)
    assert cache.size_bytes <= 3_000
    assert cache.lookup("0") == (False, None)
    assert cache.lookup("4") == (True, 4)
