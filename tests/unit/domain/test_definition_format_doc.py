"""The reference doc must keep up with the registry and the problem codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meshhook.domain.node_types import REGISTRY
from meshhook.domain.problem_codes import PROBLEM_CODES
from meshhook.domain.structural import MAX_DEPTH, MAX_EDGES, MAX_NODES

REPO_ROOT = Path(__file__).resolve().parents[3]
DOC = (REPO_ROOT / "docs" / "definition-format.md").read_text(encoding="utf-8")


def _section(type_name: str) -> str:
    match = re.search(rf"^### `{type_name}`.*?(?=^### |\Z)", DOC, re.MULTILINE | re.DOTALL)
    assert match, f"docs/definition-format.md has no '### `{type_name}`' section"
    return match.group(0)


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_every_node_type_and_config_field_is_documented(type_name: str) -> None:
    section = _section(type_name)
    properties = REGISTRY[type_name].config_schema.get("properties", {})
    missing = [name for name in properties if f"`{name}`" not in section]
    assert missing == []


@pytest.mark.parametrize("code", sorted(PROBLEM_CODES))
def test_every_problem_code_is_in_the_table_with_its_severity(code: str) -> None:
    row = re.search(rf"^\| `{re.escape(code)}` \|.*$", DOC, re.MULTILINE)
    assert row, f"{code} is missing from the code table"
    assert PROBLEM_CODES[code].severity in row.group(0)
    assert PROBLEM_CODES[code].level in row.group(0)


def test_limits_are_documented() -> None:
    for number in (f"{MAX_NODES:,}", f"{MAX_EDGES:,}", str(MAX_DEPTH), "5 MiB"):
        assert number in DOC
