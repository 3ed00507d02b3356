"""JSON Pointer (RFC 6901) helpers shared by validation, diff, merge and patch."""

from __future__ import annotations

from collections.abc import Iterable


def escape(token: str | int) -> str:
    """Escape one reference token (``~`` → ``~0``, ``/`` → ``~1``)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """Undo :func:`escape`; the order matters so ``~01`` becomes ``~1``."""
    return token.replace("~1", "/").replace("~0", "~")


def join(base: str, *tokens: str | int) -> str:
    """Append escaped tokens to the pointer ``base`` (``""`` is the root)."""
    return base + "".join("/" + escape(token) for token in tokens)


def from_tokens(tokens: Iterable[str | int]) -> str:
    """Build a pointer from unescaped tokens."""
    return join("", *tokens)


def split(pointer: str) -> list[str]:
    """The unescaped tokens of ``pointer``; raise ``ValueError`` if it is not one."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON Pointer {pointer!r} must be empty or start with '/'")
    return [unescape(token) for token in pointer[1:].split("/")]
