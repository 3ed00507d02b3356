"""Config checks are cached by content: the cached answer is the uncached one."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from meshhook.domain import completeness
from meshhook.domain.config_problems import config_problems
from meshhook.domain.validation import completeness_problems, normalize_definition
from tests.unit.domain.strategies import definitions


@given(definitions(max_nodes=8))
def test_cached_config_problems_equal_a_fresh_check(definition: Any) -> None:
    normalised = normalize_definition(definition)
    cached = completeness_problems(normalised, secret_names={"API_TOKEN"})
    again = completeness_problems(normalised, secret_names={"API_TOKEN"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            completeness,
            "_node_config_problems",
            lambda node_type, config, i: config_problems(node_type, config, f"/nodes/{i}/config"),
        )
        fresh = completeness_problems(normalised, secret_names={"API_TOKEN"})
    assert cached == again == fresh
