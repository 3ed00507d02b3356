"""Every code the validators emit is registered (and so documented)."""

from __future__ import annotations

import ast
from pathlib import Path

from meshhook.domain import problem_codes

DOMAIN = Path(problem_codes.__file__).parent


def test_every_code_literal_in_the_domain_is_registered() -> None:
    emitted = set()
    for source in DOMAIN.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                prefix = node.value.split(".")[0]
                if (
                    prefix
                    in {
                        "json",
                        "limit",
                        "definition",
                        "node",
                        "edge",
                        "graph",
                        "config",
                        "settings",
                        "branch",
                        "terminate",
                        "secret",
                        "template",
                        "patch",
                        "bundle",
                        "problems",
                    }
                    and node.value.count(".") == 1
                    and " " not in node.value
                    and node.value.split(".")[1].replace("_", "").isalpha()
                ):
                    emitted.add(node.value)
    assert emitted - set(problem_codes.PROBLEM_CODES) == set()
