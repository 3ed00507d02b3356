"""Reading a bundle one workflow at a time, so a large import never holds the
whole parsed document (issue #15 §4: ``serve`` RSS through a 26 MB import).

Two passes over the bundle's text (a file; the API spools the request body to
one), both with ijson's C parser:

1. :func:`read_envelope` walks the parser's events once: it refuses malformed
   JSON and nesting deeper than orjson accepts (both 400, as a whole-document
   parse did), builds the small top-level members (``format``, ``dependencies``,
   ...) and counts the ``workflows`` items, without building any of them.
2. :func:`workflow_items` builds the ``workflows`` items one by one.

Objects are built as :class:`_Strict` dicts, which note a key named twice; the
text is refused then (422 ``json.duplicate_key`` with a pointer), as for any
other request body. A NUL character anywhere is noted in the first pass and
located in the member or workflow that holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import ijson
import orjson

from meshhook.domain import pointers
from meshhook.domain.canonical import nul_pointer
from meshhook.domain.errors import BadRequest, Problem, ValidationFailed

# orjson's limit, which the whole-document parse applied (deeper is malformed).
MAX_DEPTH = 1_024
WORKFLOWS = "workflows"


def _malformed(reason: str) -> BadRequest:
    message = f"Malformed JSON: {reason}"
    return BadRequest(message, errors=[Problem("", "json.malformed", message)])


class _Strict(dict[str, Any]):
    """A JSON object that remembers a key it was given twice (the parser keeps the
    last value, like every parser; the text is refused instead). Each reading
    makes its own subclass (:func:`strict_type`), whose ``found`` says whether
    any of its objects has a duplicate, so sound text is never walked."""

    duplicate: str | None = None
    found = False

    def __setitem__(self, key: str, value: Any) -> None:
        if key in self and self.duplicate is None:
            self.duplicate = key
            type(self).found = True
        super().__setitem__(key, value)


def strict_type() -> type[_Strict]:
    """A fresh :class:`_Strict` subclass for one reading (``found`` unset)."""
    return type("Strict", (_Strict,), {})


def plain(value: Any) -> Any:
    """``value`` with its objects as plain dicts: the definition checks test
    ``type(x) is dict``, so a :class:`_Strict` object would pass through them
    unchecked. Built again by orjson (in C); text nested deeper than orjson
    goes (the depth check refuses it later, with its pointer) is copied here."""
    try:
        return orjson.loads(orjson.dumps(value))
    except orjson.JSONEncodeError:
        return _plain_deep(value)


def _plain_deep(value: Any) -> Any:
    """:func:`plain` without recursion, for any depth."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        current, parent, slot = stack.pop()
        if isinstance(current, dict):
            copy: Any = dict.fromkeys(current)  # the keys in their order
            stack.extend((item, copy, key) for key, item in current.items())
        elif isinstance(current, list):
            copy = [None] * len(current)
            stack.extend((item, copy, index) for index, item in enumerate(current))
        else:
            copy = current
        parent[slot] = copy
    return root[0]


def refuse_duplicates(value: Any, base: str, kind: type[_Strict]) -> None:
    """422 ``json.duplicate_key`` at the first key a :class:`_Strict` object in
    ``value`` (found at ``base``) was given twice; nothing is walked unless an
    object of ``kind`` was."""
    if not kind.found:
        return
    stack: list[tuple[Any, str]] = [(value, base)]
    while stack:
        current, path = stack.pop()
        if isinstance(current, dict):
            if isinstance(current, _Strict) and current.duplicate is not None:
                raise ValidationFailed(
                    "a JSON object names the same key twice; send each key once",
                    errors=[
                        Problem(
                            path + "/" + pointers.escape(current.duplicate),
                            "json.duplicate_key",
                            "this key appears more than once",
                        )
                    ],
                )
            stack.extend(
                (item, path + "/" + pointers.escape(key)) for key, item in reversed(current.items())
            )
        elif isinstance(current, list):
            stack.extend((item, f"{path}/{i}") for i, item in reversed(list(enumerate(current))))


def refuse_nul(value: Any, base: str) -> None:
    """422 ``json.nul_character`` at the first U+0000 in ``value`` (found at ``base``)."""
    path = nul_pointer(value)
    if path is not None:
        raise ValidationFailed(
            "text must not contain the NUL character (U+0000)",
            errors=[Problem(base + path, "json.nul_character", "remove the U+0000 character")],
        )


@dataclass(slots=True)
class Envelope:
    """The bundle without its workflows, and what the first pass saw of them."""

    is_object: bool = True
    members: dict[str, Any] = field(default_factory=dict)
    """Every top-level member but ``workflows`` (which, when it is not an array,
    is here too, for the schema to say so)."""
    strict: type[_Strict] = _Strict
    """The type its objects were built as (see :func:`refuse_duplicates`)."""
    workflows_array: bool = False
    workflow_count: int = 0
    has_nul: bool = False


_SCALARS = frozenset({"string", "number", "boolean", "null"})


def read_envelope(source: BinaryIO) -> Envelope:
    """The first pass (see the module's docstring). ``source`` is read from its
    current position to the end."""
    envelope = Envelope()
    envelope.strict = strict_type()
    depth = 0
    first = True
    member = ""
    named: set[str] = set()
    mode = ""  # "build": a member's value; "count": the workflows array
    builder: Any = None
    try:
        for _prefix, event, value in ijson.parse(source, use_float=True):
            if event == "start_map" or event == "start_array":
                depth += 1
                if depth > MAX_DEPTH:
                    raise _malformed(f"nested deeper than {MAX_DEPTH} levels")
            elif event == "end_map" or event == "end_array":
                depth -= 1
            elif (event == "string" or event == "map_key") and "\x00" in value:
                envelope.has_nul = True
            if first:
                first = False
                envelope.is_object = event == "start_map"
                continue
            if not envelope.is_object or depth == 0:
                continue  # still read to the end: malformed text is refused
            if event == "map_key" and depth == 1:
                member, mode = value, ""
                if member in named:
                    raise ValidationFailed(
                        "a JSON object names the same key twice; send each key once",
                        errors=[
                            Problem(
                                "/" + pointers.escape(member),
                                "json.duplicate_key",
                                "this key appears more than once",
                            )
                        ],
                    )
                named.add(member)
                continue
            if not mode:
                if member == WORKFLOWS and event == "start_array":
                    mode, envelope.workflows_array = "count", True
                    continue
                mode, builder = "build", ijson.ObjectBuilder(map_type=envelope.strict)
            if mode == "count":
                if (depth == 3 and (event == "start_map" or event == "start_array")) or (
                    depth == 2 and event in _SCALARS
                ):
                    envelope.workflow_count += 1
            elif mode == "build":
                builder.event(event, value)
                if depth == 1:
                    envelope.members[member] = builder.value
                    mode, builder = "done", None
    except ijson.JSONError as error:
        raise _malformed(str(error).splitlines()[0]) from None
    if depth != 0 or first:
        raise _malformed("the text ends before the document does")
    return envelope


def workflow_items(source: BinaryIO, kind: type[_Strict]) -> Iterator[Any]:
    """The second pass: each item of the top-level ``workflows`` array, built
    (objects as ``kind``), one at a time."""
    try:
        yield from ijson.items(source, "workflows.item", use_float=True, map_type=kind)
    except ijson.JSONError as error:  # the first pass read the same text: not expected
        raise _malformed(str(error).splitlines()[0]) from None
