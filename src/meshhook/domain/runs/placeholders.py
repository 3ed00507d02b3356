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

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
from jmespath.exceptions import JMESPathError

from meshhook.domain import pointers
from meshhook.domain.expressions import REFERENCE_NAME_PATTERN, jmespath_error, search

ANY_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
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


def placeholder_issues(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(pointer, message)`` for each placeholder in ``url``, ``headers``,
    ``query``, ``body`` and ``auth`` that could never be filled: not
    ``input...`` or ``secrets.NAME``, or an expression that does not compile."""
    issues: list[tuple[str, str]] = []
    for pointer, text in _templated_strings(config):
        for match in ANY_PLACEHOLDER.finditer(text):
            whole = match.group(0)
            known = PLACEHOLDER.fullmatch(whole)
            if known is None:
                issues.append(
                    (
                        pointer,
                        f"{whole[:80]} is not a placeholder MeshHook fills: use"
                        " {{ input.<jmespath> }} or {{ secrets.NAME }}",
                    )
                )
                continue
            expression = known.group("expression")
            error = jmespath_error(expression) if expression is not None else None
            if error is not None:
                issues.append((pointer, f"{{{{ input.{expression[:80]} }}}}: {error}"))
    return issues


def _templated_strings(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [
        (f"/{name}", config[name])
        for name in ("url", "headers", "query", "body", "auth")
        if name in config
    ]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, str):
            if "{{" in value:
                found.append((pointer, value))
        elif isinstance(value, dict):
            stack.extend((pointers.join(pointer, str(key)), item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((pointers.join(pointer, str(i)), item) for i, item in enumerate(value))
    return sorted(found)


def render(
    config: Mapping[str, Any],
    value: Any,
    secrets: Mapping[str, str] | None,
    *,
    sensitive: Callable[[str], bool] | None = None,
) -> Rendered:
    """The request an ``http_call`` config describes, for the input ``value``.

    ``secrets`` maps names to values; ``None`` renders every secret as ``***``
    (the request as recorded). A missing secret, or one outside a field
    ``sensitive`` accepts (a credential field), raises :class:`PlaceholderError`.
    """
    filler = _Filler(value, secrets, sensitive)
    url = filler.text(str(config.get("url", "")), "/url", in_url=True)
    headers = {
        str(name): filler.text(str(text), f"/headers/{name}")
        for name, text in (config.get("headers") or {}).items()
    }
    query = {
        str(name): filler.text(str(text), f"/query/{name}")
        for name, text in (config.get("query") or {}).items()
    }
    auth = config.get("auth")
    if isinstance(auth, Mapping):
        name, value = _auth_header(filler, auth)
        headers[name] = value
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


def _auth_header(filler: _Filler, auth: Mapping[str, Any]) -> tuple[str, str]:
    """The header ``auth`` stands for (it wins over a same-named header)."""
    kind = auth.get("type")
    if kind == "bearer":
        return "Authorization", "Bearer " + filler.text(str(auth.get("token", "")), "/auth/token")
    if kind == "basic":
        user = filler.text(str(auth.get("username", "")), "/auth/username")
        password = filler.text(str(auth.get("password", "")), "/auth/password")
        if filler.secrets is None:
            return "Authorization", f"Basic {user}:{MASK}"
        pair = base64.b64encode(f"{user}:{password}".encode()).decode()
        return "Authorization", f"Basic {pair}"
    name = str(auth.get("header_name", "Authorization"))
    return name, filler.text(str(auth.get("value", "")), "/auth/value")


class _Filler:
    def __init__(
        self,
        value: Any,
        secrets: Mapping[str, str] | None,
        sensitive: Callable[[str], bool] | None,
    ) -> None:
        self.value = value
        self.secrets = secrets
        self.sensitive = sensitive

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
            if self.sensitive is not None and not self.sensitive(pointer):
                # Saves refuse this since migration 0007; older versions may hold it.
                raise PlaceholderError(pointer, "secrets may only be used in credential fields")
            if self.secrets is None:
                return MASK
            if secret not in self.secrets:
                raise PlaceholderError(pointer, f"the secret {secret!r} does not exist")
            return self.secrets[secret]
        expression = match.group("expression")
        if expression is None:
            return self.value
        try:
            return search(expression, self.value)
        except (JMESPathError, ValueError, TypeError, KeyError, IndexError) as exc:
            lines = (line.strip() for line in str(exc).splitlines())
            message = " ".join(line for line in lines if line and set(line) != {"^"})
            raise PlaceholderError(pointer, f"{{{{ input.{expression} }}}}: {message}") from None
