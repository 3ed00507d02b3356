"""Validating workflow definitions: the entry points services call.

Two levels (see docs/definition-format.md for the code table):

- :func:`structural_problems` reject a save (422); nothing is written.
- :func:`completeness_problems` are stored on a draft and block publishing;
  ``graph.unreachable`` is the one warning (it never breaks a run).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshhook.domain.completeness import completeness_problems, secret_references
from meshhook.domain.errors import Problem, ValidationFailed
from meshhook.domain.limits import cap_problems
from meshhook.domain.node_types import NodeType
from meshhook.domain.preparation import normalize_definition
from meshhook.domain.structural import (
    MAX_DEFINITION_BYTES,
    MAX_DEPTH,
    MAX_EDGES,
    MAX_NAME_LENGTH,
    MAX_NODES,
    StructureCheck,
    check_structure,
    structural_problems,
)

__all__ = [
    "MAX_DEFINITION_BYTES",
    "MAX_DEPTH",
    "MAX_EDGES",
    "MAX_NAME_LENGTH",
    "MAX_NODES",
    "StructureCheck",
    "ValidationReport",
    "completeness_problems",
    "ensure_structurally_valid",
    "is_sensitive",
    "normalize_definition",
    "secret_references",
    "structural_problems",
    "validate_definition",
]


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What ``POST /validate`` returns; ``structural`` says whether a save would be refused."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    structural: bool = False

    @property
    def valid(self) -> bool:
        """No errors of either level (warnings do not count): publishable."""
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """``{valid, errors, warnings}`` as the API serves it."""
        return {
            "valid": self.valid,
            "errors": [problem.as_dict() for problem in self.errors],
            "warnings": [problem.as_dict() for problem in self.warnings],
        }


def validate_definition(
    definition: Any,
    *,
    size_bytes: int | None = None,
    secret_names: Collection[str] | None = None,
    allowed_hosts: Mapping[str, Sequence[str]] | None = None,
) -> ValidationReport:
    """Structural validation, then completeness if the structure is sound."""
    check = check_structure(definition, size_bytes=size_bytes)
    if check.problems:
        return ValidationReport(errors=cap_problems(check.problems), structural=True)
    problems = completeness_problems(
        definition, secret_names=secret_names, allowed_hosts=allowed_hosts, graph=check.graph
    )
    # Each list capped on its own (MAX_PROBLEMS, then a problems.truncated summary).
    return ValidationReport(
        errors=cap_problems([p for p in problems if p.severity == "error"]),
        warnings=cap_problems([p for p in problems if p.severity == "warning"]),
    )


def ensure_structurally_valid(definition: Any, *, size_bytes: int | None = None) -> StructureCheck:
    """Raise ``ValidationFailed`` (422) carrying the structural problems, if any;
    otherwise return what the check learnt on the way (:class:`StructureCheck`)."""
    check = check_structure(definition, size_bytes=size_bytes)
    problems = check.problems
    if problems:
        count = len(problems)
        raise ValidationFailed(
            f"The definition has {count} structural problem{'s' if count > 1 else ''}",
            errors=cap_problems(problems),
        )
    return check


def is_sensitive(node_type: NodeType, pointer_in_config: str) -> bool:
    """Whether the value at ``pointer_in_config`` of a ``node_type`` config is sensitive."""
    return node_type.is_sensitive(pointer_in_config)
