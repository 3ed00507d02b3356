"""axe-core checks for the browser tests: the npm package is injected into the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

AXE = Path(__file__).resolve().parents[3] / "ui" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def assert_accessible(page: Any, what: str) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    if not AXE.exists():
        problem = f"axe-core is not installed at {AXE} (cd ui && npm ci)"
        if IN_CI:
            pytest.fail(problem + " (CI=true: accessibility checks must run)")
        pytest.skip(problem)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (script-src 'self')
        # forbids an injected <script> tag, rightly, and this does not loosen it.
        page.evaluate("() => {" + AXE.read_text() + "\n}")
    results = page.evaluate(
        "async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    blocking = [item for item in results if item["impact"] in BLOCKING]
    assert blocking == [], f"{what}: accessibility violations {blocking}"
