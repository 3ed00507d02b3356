"""Reading a bundle one workflow at a time (``bundle_stream``, ``BundleReader``):
the same refusals as a whole-document parse, without holding the document."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest

from meshhook.domain import bundle_format, bundle_stream
from meshhook.domain.errors import BadRequest, ValidationFailed
from meshhook.services.bundles import bundle_schema

FIXTURE = Path(__file__).parents[2] / "fixtures" / "realistic.bundle.json"


def _text() -> bytes:
    return FIXTURE.read_bytes()


def _refused(data: bytes) -> tuple[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        bundle_format.read_bundle(data, bundle_schema())
    problem = caught.value.errors[0]
    return problem.path, problem.code


def test_a_key_named_twice_is_refused_where_it_is() -> None:
    text = _text()
    first = orjson.loads(text)["workflows"][1]["key"]
    # Name the second workflow's key twice (the parser would keep the last).
    duplicated = text.replace(
        b'"key": "' + first.encode() + b'"',
        b'"key": "' + first.encode() + b'", "key": "other"',
        1,
    )
    assert duplicated != text
    assert _refused(duplicated) == ("/workflows/1/key", "json.duplicate_key")
    top = b'{"format": "meshhook.workflow-bundle", "format": "x", "workflows": []}'
    assert _refused(top) == ("/format", "json.duplicate_key")
    twice = b'{"format": "meshhook.workflow-bundle", "workflows": [], "workflows": []}'
    assert _refused(twice) == ("/workflows", "json.duplicate_key")


def test_a_nul_character_is_refused_where_it_is() -> None:
    document = orjson.loads(_text())
    document["workflows"][2]["versions"][0]["message"] = "a\u0000b"
    assert _refused(orjson.dumps(document)) == (
        "/workflows/2/versions/0/message",
        "json.nul_character",
    )
    document = orjson.loads(_text())
    document["exportedAt"] = "\u0000"
    assert _refused(orjson.dumps(document)) == ("/exportedAt", "json.nul_character")


@pytest.mark.parametrize(
    "text",
    [
        b'{"format": "meshhook.workflow-bundle", "workflows": ['
        + b"[" * 2_000
        + b"]" * 2_000
        + b"]}",
        b'{"format": "meshhook.workflow-bundle", "workflows": [{"a": NaN}]}',
        b'{"format": "meshhook.workflow-bundle", "workflows": [{"n": 123456789012345678901234}]}',
        b'{"format": "meshhook.workflow-bundle", "workflows": [',
        b"",
    ],
    ids=["too deep", "NaN", "huge integer", "truncated", "empty"],
)
def test_text_a_whole_document_parse_refuses_is_malformed(text: bytes) -> None:
    with pytest.raises(BadRequest) as caught:
        bundle_format.read_bundle(text, bundle_schema())
    assert caught.value.errors[0].code == "json.malformed"


def test_workflows_that_are_not_an_array_are_a_schema_problem() -> None:
    document = orjson.loads(_text())
    document["workflows"] = {"not": "an array"}
    assert _refused(orjson.dumps(document)) == ("/workflows", "bundle.schema")


def _big_bundle(copies: int) -> bytes:
    document: dict[str, Any] = orjson.loads(_text())
    template = document["workflows"]
    workflows = []
    for index in range(copies):
        for workflow in template:
            workflows.append({**workflow, "key": f"{workflow['key']}-{index:04d}"})
    document["workflows"] = workflows
    return orjson.dumps(document)


def test_a_reader_holds_one_workflow_at_a_time() -> None:
    data = _big_bundle(60)
    tracemalloc.start()
    try:
        orjson.loads(data)
        whole = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        reader = bundle_format.BundleReader(io.BytesIO(data), bundle_schema())
        count = sum(1 for _ in reader.workflows())
        reader.finish()
        streamed = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == len(orjson.loads(data)["workflows"])
    # The parsed document would be held whole; the reader holds one workflow.
    assert streamed < whole / 5, (streamed, whole)


def test_plain_copies_objects_as_dicts_in_their_order_at_any_depth() -> None:
    kind = bundle_stream.strict_type()
    inner = kind(z=1, a=[2, kind(k="v")])
    value = kind(b=[1, inner], a=None)
    deep: list[Any] = [value]
    for _ in range(2_000):  # deeper than orjson goes
        deep = [deep]

    for made in (bundle_stream.plain(value), bundle_stream.plain(deep)):
        while isinstance(made, list) and len(made) == 1:
            made = made[0]
        assert made == {"b": [1, {"z": 1, "a": [2, {"k": "v"}]}], "a": None}
        assert type(made) is dict
        assert type(made["b"][1]) is dict
        assert type(made["b"][1]["a"][1]) is dict
        assert list(made) == ["b", "a"]
        assert list(made["b"][1]) == ["z", "a"]
