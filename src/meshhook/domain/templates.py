"""Workflow templates: a named, described definition to start a workflow from.

Pure: the service layer reads the built-in files (``meshhook/templates/*.json``)
and hands their parsed JSON to :func:`parse_template`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from meshhook.domain.errors import Problem, ValidationFailed
from meshhook.domain.limits import MAX_KEY_LENGTH, MAX_NAME_LENGTH, MAX_TAG_LENGTH, MAX_TAGS
from meshhook.domain.structural import structural_problems

TEMPLATE_KEY_PATTERN = re.compile(rf"[a-z0-9](?:[a-z0-9-]{{0,{MAX_KEY_LENGTH - 2}}}[a-z0-9])?")
TEMPLATE_KEYS = frozenset({"key", "name", "description", "tags", "definition"})


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed, structurally valid template."""

    key: str
    name: str
    description: str
    tags: tuple[str, ...]
    definition: dict[str, Any]

    def as_json(self, *, with_definition: bool = True) -> dict[str, Any]:
        """The template as JSON; listings may leave the definition out."""
        document: dict[str, Any] = {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "tags": list(self.tags),
        }
        if with_definition:
            document["definition"] = self.definition
        return document


def _problem(path: str, message: str) -> Problem:
    return Problem(path, "template.invalid", message)


def _field_problems(raw: dict[str, Any]) -> list[Problem]:
    problems = [
        _problem(f"/{key}", f"unknown key {key!r}") for key in sorted(set(raw) - TEMPLATE_KEYS)
    ]
    key = raw.get("key")
    if not isinstance(key, str) or TEMPLATE_KEY_PATTERN.fullmatch(key) is None:
        problems.append(
            _problem("/key", f"key must be a lowercase slug of 1-{MAX_KEY_LENGTH} characters")
        )
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        problems.append(_problem("/name", f"name must be 1-{MAX_NAME_LENGTH} characters"))
    if not isinstance(raw.get("description", ""), str):
        problems.append(_problem("/description", "description must be a string"))
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        problems.append(_problem("/tags", f"tags must be an array of at most {MAX_TAGS} strings"))
    else:
        for i, tag in enumerate(tags):
            if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_LENGTH:
                problems.append(
                    _problem(f"/tags/{i}", f"a tag is a string of 1-{MAX_TAG_LENGTH} characters")
                )
    if "definition" not in raw:
        problems.append(_problem("/definition", "definition is required"))
    return problems


def parse_template(raw: Any) -> Template:
    """Validate a template document and return it as a :class:`Template`.

    Raises ``ValidationFailed`` listing every problem: template fields
    (``template.invalid``) and the definition's structural problems (their own
    codes, paths under ``/definition``). Completeness is not required here.
    """
    if not isinstance(raw, dict):
        message = "a template must be a JSON object"
        raise ValidationFailed(message, errors=[_problem("", message)])
    problems = _field_problems(raw)
    if "definition" in raw:
        problems.extend(
            Problem("/definition" + p.path, p.code, p.message, p.severity)
            for p in structural_problems(raw["definition"])
        )
    if problems:
        raise ValidationFailed(f"Invalid template {raw.get('key')!r}", errors=problems)
    return Template(
        key=raw["key"],
        name=raw["name"],
        description=raw.get("description", ""),
        tags=tuple(raw.get("tags", [])),
        definition=raw["definition"],
    )
