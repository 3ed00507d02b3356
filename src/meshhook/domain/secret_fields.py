"""Where secrets may appear in a definition, and where they may be sent.

The rules (docs/security.md, "Secrets in definitions"):

- a ``{{ secrets.NAME }}`` reference may appear only in a *sensitive field*
  (declared per node type), because only those are sent as credentials and
  masked everywhere; anywhere else (a URL, a body, an expression) it could
  carry the value to wherever an editor points it: ``secret.reference_not_allowed``;
- a sensitive field holds a reference, never a literal credential:
  ``secret.literal_value``. Both refuse the save (structural), so no secret
  value and no misplaced reference ever reaches the immutable history;
- ``***`` in a sensitive field is what ``secrets scrub`` left where a literal
  was: savable, but publishing needs a reference there (``secret.scrubbed``);
- a secret restricted to hosts may only be referenced by a node whose
  destination URL has a literal host on its allow-list (``secret.host_not_allowed``).
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson

from meshhook.domain import pointers
from meshhook.domain.errors import Problem
from meshhook.domain.expressions import is_secret_reference, secret_names_in
from meshhook.domain.indexes import not_in
from meshhook.domain.node_types import REGISTRY, NodeType
from meshhook.domain.secrets import host_matches, url_host

# What a scrub puts in place of a literal (the mask diffs already show).
SCRUBBED = "***"


def is_literal(value: Any) -> bool:
    """Whether a sensitive field's ``value`` is a literal credential.

    Empty and null are the schema's business, not a leak; ``***`` is a scrubbed
    literal, no longer a credential.
    """
    return not (value == "" or value is None or value == SCRUBBED or is_secret_reference(value))


def _references(config: Any) -> Iterator[tuple[str, str]]:
    """Each ``(pointer inside config, name)`` of a reference in a string value."""
    # Pointers are built per container, not per string: most strings are not references.
    stack: list[tuple[Any, str]] = [(config, "")]
    while stack:
        current, path = stack.pop()
        items = current.items() if isinstance(current, dict) else enumerate(current)
        for key, child in items:
            if isinstance(child, str):
                if "secrets" in child:
                    for name in secret_names_in(child):
                        yield pointers.join(path, key), name
            elif isinstance(child, dict | list):
                stack.append((child, pointers.join(path, str(key))))


def config_secret_problems(node_type: NodeType, config: Any, base: str) -> list[Problem]:
    """The save-refusing secret problems of one config; ``base`` is ``/nodes/<i>/config``."""
    problems: list[Problem] = []
    for inner, value in node_type.sensitive_values(config):
        if is_literal(value):
            field = pointers.split(inner)[-1]
            problems.append(
                Problem(
                    base + inner,
                    "secret.literal_value",
                    f"{field} is sensitive but holds a literal value; store it as a secret "
                    "(`meshhook secrets set NAME`, or Store as secret in the editor) and "
                    "write `{{ secrets.NAME }}` here instead",
                )
            )
    for inner, name in _references(config):
        if not node_type.is_sensitive(inner):
            problems.append(
                Problem(base + inner, "secret.reference_not_allowed", _misplaced(node_type, name))
            )
    return problems


def _misplaced(node_type: NodeType, name: str) -> str:
    reference = f"{{{{ secrets.{name} }}}}"
    fields = [p.lstrip("/") for p in node_type.sensitive_fields if not p.startswith("!")]
    if not fields:
        return f"a {node_type.name} node has no credential fields, so it cannot use {reference}"
    return (
        f"{reference} is not allowed here: secrets may only be used in credential fields "
        f"({', '.join(fields)}), where they are sent only to hosts the secret allows"
    )


# Secret problems of configs checked recently, by node type and content: a
# one-node edit of a large workflow re-checks one config (the checks are pure).
_CACHE_SIZE = 8_192


@lru_cache(maxsize=_CACHE_SIZE)
def _relative_problems(type_name: str, config_json: str) -> tuple[Problem, ...]:
    """``config_secret_problems`` with pointers relative to the config."""
    return tuple(config_secret_problems(REGISTRY[type_name], orjson.loads(config_json), ""))


def _config_problems(node_type: NodeType, config: dict[str, Any]) -> tuple[Problem, ...]:
    try:
        # A str, not the bytes: orjson hands small outputs back in 4 KB buffers,
        # which a cache of thousands of keys would keep alive.
        key = orjson.dumps(config).decode()
    except TypeError:  # not plain JSON (other checks say so): no caching
        return tuple(config_secret_problems(node_type, config, ""))
    return _relative_problems(node_type.name, key)


def _mentions_secrets(nodes: Sequence[Any]) -> bool:
    try:
        return b"secrets" in orjson.dumps(nodes)
    except TypeError:
        return True


def secret_field_problems(nodes: Sequence[Any], *, skip: Container[int] = ()) -> list[Problem]:
    """Misplaced references and literal credentials in every node's config, but
    those at the indexes in ``skip`` (known to pass).

    Nodes whose type is unknown or whose config is not an object are skipped
    (other structural problems cover them). Configs of types with sensitive
    fields are checked through a cache; the others only when some config
    mentions ``secrets`` at all (one serialisation of the nodes tells).
    """
    problems: list[Problem] = []
    mentions: bool | None = None
    checked = not_in(skip, len(nodes))
    for i in checked:
        node = nodes[i]
        if type(node) is not dict:
            continue
        config = node.get("config")
        type_name = node.get("type")
        if type(config) is not dict or not config or type(type_name) is not str:
            continue
        node_type = REGISTRY.get(type_name)
        if node_type is None:
            continue
        if node_type.sensitive_fields:
            found: Sequence[Problem] = _config_problems(node_type, config)
        else:
            if mentions is None:
                mentions = _mentions_secrets([nodes[j] for j in checked] if skip else nodes)
            if not mentions:
                continue
            found = config_secret_problems(node_type, config, "")
        if found:
            base = f"/nodes/{i}/config"
            problems.extend(Problem(base + p.path, p.code, p.message, p.severity) for p in found)
    return problems


def scrubbed_problems(node_type: NodeType, config: Any, base: str) -> list[Problem]:
    """``***`` left by a scrub in a sensitive field: publishing needs a reference."""
    return [
        Problem(
            base + inner,
            "secret.scrubbed",
            f"{pointers.split(inner)[-1]} held a literal credential that was scrubbed; "
            "write a reference `{{ secrets.NAME }}` here",
        )
        for inner, value in node_type.sensitive_values(config)
        if value == SCRUBBED
    ]


def _dynamic_host(url: str) -> bool:
    """Whether a placeholder decides the URL's scheme or host (not only its path)."""
    if url.startswith("{{"):
        return True
    _scheme, sep, rest = url.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return not sep or "{{" in authority or "}}" in authority or "{{" in _scheme


def _why_not(url: Any, patterns: Sequence[str]) -> str | None:
    """Why a secret allowed only to ``patterns`` cannot go to ``url`` (``None``: it can)."""
    if not isinstance(url, str):
        return "there is no URL"
    if _dynamic_host(url):
        return "its host is not written literally (a placeholder decides it at run time)"
    host = url_host(url)
    if host is None:
        return "its host cannot be read unambiguously (userinfo, backslash or escapes)"
    return None if host_matches(patterns, host) else f"its host {host!r} is not on the list"


def host_problems(definition: Any, allowed_hosts: Mapping[str, Sequence[str]]) -> list[Problem]:
    """Restricted secrets referenced by a node whose URL host is not on their list.

    ``allowed_hosts`` holds the restricted secrets only (name → patterns). A
    URL whose host comes from a placeholder is refused for a restricted secret:
    where it would go is unknown until run time, and the point of the list is
    that an editor cannot choose it.
    """
    if not allowed_hosts:
        return []
    problems: list[Problem] = []
    for i, node in enumerate(definition.get("nodes", [])):
        node_type = REGISTRY.get(str(node.get("type")))
        config = node.get("config")
        if node_type is None or node_type.destination_field is None or type(config) is not dict:
            continue
        names = [
            name
            for inner, value in node_type.sensitive_values(config)
            if isinstance(value, str)
            for name in secret_names_in(value)
            if name in allowed_hosts
        ]
        if not names:
            continue
        field = node_type.destination_field
        url: Any = config
        for token in pointers.split(field):
            url = url.get(token) if isinstance(url, dict) else None
        for name in dict.fromkeys(names):
            why = _why_not(url, allowed_hosts[name])
            if why is None:
                continue
            allowed = ", ".join(allowed_hosts[name]) or "no host"
            problems.append(
                Problem(
                    f"/nodes/{i}/config{field}",
                    "secret.host_not_allowed",
                    f"secret {name!r} may only be sent to {allowed}; this URL cannot take "
                    f"it: {why}",
                )
            )
    return problems


def scrub_literals(definition: dict[str, Any]) -> list[str]:
    """Replace every literal credential in a definition's sensitive fields by ``***``
    (in place); the pointers of what was replaced, in node order."""
    replaced: list[str] = []
    for i, node in enumerate(definition.get("nodes", [])):
        node_type = REGISTRY.get(str(node.get("type"))) if isinstance(node, dict) else None
        config = node.get("config") if node_type is not None else None
        if node_type is None or not isinstance(config, dict):
            continue
        for inner, value in list(node_type.sensitive_values(config)):
            if not is_literal(value):
                continue
            tokens = pointers.split(inner)
            parent: Any = config
            for token in tokens[:-1]:
                parent = parent[int(token)] if isinstance(parent, list) else parent[token]
            if isinstance(parent, list):
                parent[int(tokens[-1])] = SCRUBBED
            else:
                parent[tokens[-1]] = SCRUBBED
            replaced.append(f"/nodes/{i}/config{inner}")
    return replaced
