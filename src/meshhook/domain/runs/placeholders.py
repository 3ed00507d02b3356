"""``{{ input.<jmespath> }}`` and ``{{ secrets.NAME }}`` placeholders in an
``http_call``'s ``url``, ``headers``, ``query`` and ``body``.

- ``{{ input.EXPR }}`` is JMESPath evaluated on the step's input (``{{ input }}``
  is the whole input). In the URL its value is percent-encoded, except when the
  placeholder opens the URL (it is then the base, e.g. ``{{ input.api }}/orders``).
  In headers and query values it is inserted as text (non-strings as JSON). In
  the body, a string that is exactly one placeholder becomes the JSON value
  itself; inside a longer string it is inserted as text.
- ``{{ secrets.NAME }}`` is the secret's value, resolved by the worker at call
  time. The request as recorded in the run's events carries ``***`` instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jmespath
import orjson
from jmespath.exceptions import JMESPathError

from meshhook.domain.expressions import REFERENCE_NAME_PATTERN

PLACEHOLDER = re.compile(
    r"\{\{\s*(?:input(?:\.(?P<expression>.+?))?|secrets\.(?P<secret>"
    + REFERENCE_NAME_PATTERN
    + r"))\s*\}\}",
    re.DOTALL,
)
MASK = "***"


class PlaceholderError(Exception):
    """A placeholder that cannot be filled, with the pointer of the field."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.pointer = pointer
        self.message = message


@dataclass(frozen=True, slots=True)
class Rendered:
    method: str
    url: str
    headers: dict[str, str]
    query: dict[str, str]
    body: Any
    has_body: bool


def render(config: Mapping[str, Any], value: Any, secrets: Mapping[str, str] | None) -> Rendered:
    """The request an ``http_call`` config describes, for the input ``value``.

    ``secrets`` maps names to values; ``None`` renders every secret as ``***``
    (the request as recorded). A missing secret raises :class:`PlaceholderError`.
    """
    filler = _Filler(value, secrets)
    url = filler.text(str(config.get("url", "")), "/url", in_url=True)
    headers = {
        str(name): filler.text(str(text), f"/headers/{name}")
        for name, text in (config.get("headers") or {}).items()
    }
    query = {
        str(name): filler.text(str(text), f"/query/{name}")
        for name, text in (config.get("query") or {}).items()
    }
    has_body = "body" in config
    body = filler.json(config.get("body"), "/body") if has_body else None
    return Rendered(
        method=str(config.get("method", "GET")),
        url=url,
        headers=headers,
        query=query,
        body=body,
        has_body=has_body,
    )


class _Filler:
    def __init__(self, value: Any, secrets: Mapping[str, str] | None) -> None:
        self.value = value
        self.secrets = secrets

    def text(self, template: str, pointer: str, *, in_url: bool = False) -> str:
        if "{{" not in template:
            return template

        def replace(match: re.Match[str]) -> str:
            filled = self._fill(match, pointer)
            text = filled if isinstance(filled, str) else orjson.dumps(filled).decode()
            if in_url and match.start() > 0:
                return quote(text, safe="")
            return text

        return PLACEHOLDER.sub(replace, template)

    def json(self, template: Any, pointer: str) -> Any:
        if isinstance(template, str):
            whole = PLACEHOLDER.fullmatch(template.strip())
            if whole is not None:
                return self._fill(whole, pointer)
            return self.text(template, pointer)
        if isinstance(template, list):
            return [self.json(item, f"{pointer}/{index}") for index, item in enumerate(template)]
        if isinstance(template, dict):
            return {key: self.json(item, f"{pointer}/{key}") for key, item in template.items()}
        return template

    def _fill(self, match: re.Match[str], pointer: str) -> Any:
        secret = match.group("secret")
        if secret is not None:
            if self.secrets is None:
                return MASK
            if secret not in self.secrets:
                raise PlaceholderError(pointer, f"the secret {secret!r} does not exist")
            return self.secrets[secret]
        expression = match.group("expression")
        if expression is None:
            return self.value
        try:
            return jmespath.search(expression, self.value)
        except (JMESPathError, ValueError, TypeError, KeyError, IndexError) as exc:
            lines = (line.strip() for line in str(exc).splitlines())
            message = " ".join(line for line in lines if line and set(line) != {"^"})
            raise PlaceholderError(pointer, f"{{{{ input.{expression} }}}}: {message}") from None
