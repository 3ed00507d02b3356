"""Built-in templates, shipped as JSON files in ``meshhook/templates``."""

from __future__ import annotations

import functools
from importlib.resources import files

from meshhook.domain import canonical
from meshhook.domain.templates import Template, parse_template


@functools.cache
def builtin_templates() -> dict[str, Template]:
    """Every shipped template by key, parsed and checked once per process."""
    found: dict[str, Template] = {}
    for entry in sorted(files("meshhook.templates").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            template = parse_template(canonical.parse_json(entry.read_bytes()))
            found[template.key] = template
    return found
