"""The editor's JMESPath preview evaluates as the engine does, within bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from meshhook.domain import jmespath_preview
from meshhook.domain.errors import PayloadTooLarge, ValidationFailed
from meshhook.domain.expressions import ExpressionTimeout, search
from meshhook.domain.runs.evaluate import Failed, Succeeded, evaluate
from meshhook.domain.runs.graph import Node

SAMPLE = {"order": {"id": 7, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 0}]}}


def _transform(expression: str) -> Node:
    return Node(
        id="t",
        type="transform",
        config={"expression": expression},
        index=0,
        is_trigger=False,
        named_outputs=False,
    )


@pytest.mark.parametrize(
    "expression",
    ["order.id", "order.items[?qty > `0`].sku", "length(order.items)", "missing", "order.items[0]"],
)
def test_the_preview_gives_what_a_transform_step_outputs(expression: str) -> None:
    outcome = evaluate(_transform(expression), SAMPLE, datetime.now(UTC))
    assert isinstance(outcome, Succeeded)
    assert jmespath_preview.evaluate(expression, SAMPLE) == outcome.output


def test_a_syntax_error_says_where_the_parser_stopped() -> None:
    with pytest.raises(ValidationFailed) as caught:
        jmespath_preview.evaluate("order.", SAMPLE)
    assert caught.value.extra == {"code": "expression.invalid", "position": 6}
    assert caught.value.errors[0].path == "/expression"


def test_an_unclosed_literal_is_placed_at_its_opening() -> None:
    with pytest.raises(ValidationFailed) as caught:
        jmespath_preview.evaluate("a || `1", SAMPLE)
    assert caught.value.extra["position"] == 5


def test_a_runtime_error_is_the_one_a_run_would_record() -> None:
    expression = "length(order.id)"
    outcome = evaluate(_transform(expression), SAMPLE, datetime.now(UTC))
    assert isinstance(outcome, Failed)
    with pytest.raises(ValidationFailed) as caught:
        jmespath_preview.evaluate(expression, SAMPLE)
    assert caught.value.extra["code"] == "expression.failed"
    assert caught.value.detail == outcome.error["message"]


def test_an_empty_expression_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="empty"):
        jmespath_preview.evaluate("  ", SAMPLE)


def _doubling(levels: int) -> str:
    expression = "@"
    for _ in range(levels):
        expression = f"[{expression}, {expression}]"
    return expression


def test_evaluation_stops_at_its_deadline() -> None:
    data: list[Any] = list(range(20_000))
    with pytest.raises(ExpressionTimeout):
        search("[*].[@, @][][*].to_string(@)", data, deadline=0.0)
    with pytest.raises(ValidationFailed) as caught:
        jmespath_preview.evaluate("sort_by([*].{a: @}, &a)[*].a", data, seconds=0.0)
    assert caught.value.extra["code"] == "expression.timeout"


def test_a_result_that_shares_one_list_many_times_is_too_large() -> None:
    data = list(range(1_000))
    with pytest.raises(PayloadTooLarge):
        jmespath_preview.evaluate(
            "[@, @, @, @, @, @, @, @, @, @][][][]", data, max_result_bytes=2_000
        )


def test_fits_counts_shared_values_each_time() -> None:
    shared = ["x" * 100]
    assert jmespath_preview.fits([shared] * 5, 1_000)
    assert not jmespath_preview.fits([shared] * 50, 1_000)
