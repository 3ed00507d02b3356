"""Services reach a project's data through ``ProjectScope`` only (docs/architecture.md).

Read from the source: no service builds a repository itself (only
``services/transactions.py`` does, for the scope it opens), none catches or
imports SQLAlchemy's exceptions (the store maps them to domain errors), and
none imports another service's workflow helpers (they live on the scope).
"""

from __future__ import annotations

import ast
from pathlib import Path

import meshhook.services
from meshhook.services import transactions  # noqa: F401
from meshhook.store.repository import ProjectRepository
from meshhook.store.runs import RunStore  # noqa: F401  (registers every repository)

SERVICES = Path(meshhook.services.__file__).parent
DOOR = SERVICES / "transactions.py"
HELPERS_ON_THE_SCOPE = {"find_workflow", "detail", "record_event"}


def _repositories() -> set[str]:
    found: set[str] = set()
    pending = list(ProjectRepository.__subclasses__())
    while pending:
        cls = pending.pop()
        found.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return found


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for path in sorted(SERVICES.glob("*.py"))]


def test_only_the_scope_builds_repositories() -> None:
    repositories = _repositories()
    assert {"WorkflowStore", "VersionStore", "RunStore"} <= repositories
    built = [
        f"{path.name}:{node.lineno} {node.func.id}"
        for path, tree in _modules()
        if path != DOOR
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in repositories
    ]
    assert built == []


def test_services_neither_import_sqlalchemy_errors_nor_each_others_helpers() -> None:
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {alias.name for alias in node.names}
                if node.module.startswith("sqlalchemy.exc"):
                    found.append(f"{path.name}: from {node.module}")
                if node.module.startswith("meshhook.services.") and names & HELPERS_ON_THE_SCOPE:
                    found.append(f"{path.name}: {sorted(names & HELPERS_ON_THE_SCOPE)}")
            if isinstance(node, ast.Import) and any(
                alias.name.startswith("sqlalchemy.exc") for alias in node.names
            ):
                found.append(f"{path.name}: import sqlalchemy.exc")
    assert found == []
