"""JMESPath problems say how to fix the classic mistake of a bare number."""

from __future__ import annotations

import pytest

from meshhook.domain.expressions import jmespath_error
from meshhook.domain.validation import completeness_problems


@pytest.mark.parametrize(
    ("expression", "suggestion"),
    [
        ("amount > 100", "amount > `100`"),
        ("amount >= 99.5", "amount >= `99.5`"),
        ("items[?price > 10]", "items[?price > `10`]"),
        ("a == -1", "a == `-1`"),
        (
            "status == 'paid' && total > 5 || retries < 2",
            "status == 'paid' && total > `5` || retries < `2`",
        ),
    ],
)
def test_a_bare_number_gets_the_backtick_fix_in_the_message(
    expression: str, suggestion: str
) -> None:
    message = jmespath_error(expression)
    assert message is not None
    assert message.endswith(f"; a number literal needs backticks in JMESPath: {suggestion}")
    assert jmespath_error(suggestion) is None


@pytest.mark.parametrize("expression", ["foo.1", "a.[", "a > `100", "[1,2]"])
def test_no_backtick_hint_where_backticks_would_not_fix_it(expression: str) -> None:
    message = jmespath_error(expression)
    assert message is not None
    assert "backticks" not in message


def test_the_branch_condition_problem_carries_the_hint() -> None:
    definition = {
        "nodes": [
            {"id": "hook", "type": "webhook", "config": {}},
            {"id": "b", "type": "branch", "config": {"condition": "body.amount > 100"}},
        ],
        "edges": [{"from": "hook", "to": "b"}],
    }
    (problem,) = [p for p in completeness_problems(definition) if p.code == "config.jmespath"]
    assert problem.path == "/nodes/1/config/condition"
    assert problem.message.endswith("backticks in JMESPath: body.amount > `100`")
