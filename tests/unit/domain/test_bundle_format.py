"""The bundle format on its own: canonical writing, reading and every check
that needs no database."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from meshhook.domain import bundle_format
from meshhook.domain.errors import BadRequest, ValidationFailed
from meshhook.services.bundles import bundle_schema

FIXTURE = Path(__file__).parents[2] / "fixtures" / "realistic.bundle.json"
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def fixture() -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(FIXTURE.read_bytes())
    return value


def read(document: Any) -> bundle_format.Bundle:
    return bundle_format.read_bundle(orjson.dumps(document), bundle_schema())


def codes_at(document: Any) -> set[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        read(document)
    return {(problem.path, problem.code) for problem in caught.value.errors}


def test_reading_then_writing_gives_the_fixture_bytes_back() -> None:
    bundle = read(fixture())
    assert bundle_format.write_bundle(bundle.workflows, exported_at=WHEN) == FIXTURE.read_bytes()


def test_writing_sorts_workflows_by_key_whatever_the_input_order() -> None:
    bundle = read(fixture())
    backwards = bundle_format.write_bundle(bundle.workflows[::-1], exported_at=WHEN)
    assert backwards == FIXTURE.read_bytes()


def test_dependencies_are_recomputed_from_the_definitions() -> None:
    bundle = read(fixture())
    assert bundle.dependencies() == fixture()["dependencies"]
    assert bundle_format.stale_dependency_warnings(bundle) == []
    stale = fixture()
    stale["dependencies"]["secrets"] = []
    warnings = bundle_format.stale_dependency_warnings(read(stale))
    assert [(w.path, w.code, w.severity) for w in warnings] == [
        ("/dependencies/secrets", "bundle.dependencies_stale", "warning")
    ]


def test_malformed_json_is_a_bad_request() -> None:
    with pytest.raises(BadRequest):
        bundle_format.read_bundle(b'{"format": ', bundle_schema())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(format="other"), ("/format", "bundle.format")),
        (lambda d: d.update(formatVersion=True), ("/formatVersion", "bundle.format_version")),
        (lambda d: d.pop("workflows"), ("", "bundle.schema")),
        (lambda d: d.update(extra=1), ("", "bundle.schema")),
        (lambda d: d["workflows"][0].update(key="Bad Key"), ("/workflows/0/key", "bundle.schema")),
        (lambda d: d["workflows"][0].update(name="   "), ("/workflows/0/name", "bundle.schema")),
        (
            lambda d: d["workflows"][3].update(key=d["workflows"][2]["key"]),
            ("/workflows/3/key", "bundle.duplicate_key"),
        ),
        (
            lambda d: d["workflows"][2]["versions"].reverse(),
            ("/workflows/2/versions/1/number", "bundle.version_order"),
        ),
        (
            lambda d: d["workflows"][2]["versions"][0].update(state="draft", tag=None, note=None),
            ("/workflows/2/versions/0/state", "bundle.draft_not_head"),
        ),
        (
            lambda d: d["workflows"][2]["versions"][3].update(tag="v9"),
            ("/workflows/2/versions/3", "bundle.draft_fields"),
        ),
        (
            lambda d: d["workflows"][2]["versions"][1].update(tag="v1.0.0"),
            ("/workflows/2/versions/1/tag", "bundle.duplicate_tag"),
        ),
        (
            lambda d: d["workflows"][2].update(publishedVersion=4),
            ("/workflows/2/publishedVersion", "bundle.published_version"),
        ),
        (
            lambda d: d["workflows"][2].update(publishedVersion=None),
            ("/workflows/2/publishedVersion", "bundle.published_version"),
        ),
        (
            lambda d: d["workflows"][2]["aliases"].update(canary=4),
            ("/workflows/2/aliases/canary", "bundle.alias_target"),
        ),
    ],
)
def test_each_inconsistency_is_reported_where_it_is(change: Any, expected: Any) -> None:
    document = copy.deepcopy(fixture())
    change(document)
    assert expected in codes_at(document)


def test_many_problems_are_capped_and_counted() -> None:
    document = fixture()
    document["workflows"] = [
        {**copy.deepcopy(document["workflows"][0]), "key": f"w{i}", "name": ""} for i in range(150)
    ]
    with pytest.raises(ValidationFailed) as caught:
        read(document)
    assert len(caught.value.errors) == bundle_format.MAX_REPORTED_PROBLEMS
    assert "150 problems" in caught.value.detail


def test_timestamps_are_utc_whole_seconds() -> None:
    moment = datetime(2026, 11, 22, 3, 4, 5, 678_000, tzinfo=UTC)
    assert bundle_format.format_timestamp(moment) == "2026-11-22T03:04:05Z"


def test_too_many_workflows_are_one_problem_found_before_the_schema() -> None:
    document = fixture()
    document["workflows"] = [{}] * 1_700_000
    with pytest.raises(ValidationFailed) as caught:
        read(document)
    assert [(p.path, p.code) for p in caught.value.errors] == [("/workflows", "bundle.schema")]


def test_workflows_that_are_not_objects_are_reported_before_the_schema() -> None:
    document = fixture()
    document["workflows"] = [7] * 500
    with pytest.raises(ValidationFailed) as caught:
        read(document)
    assert len(caught.value.errors) == bundle_format.MAX_REPORTED_PROBLEMS
    assert "500 problems" in caught.value.detail


def test_schema_problems_stop_being_collected_at_the_counting_cap() -> None:
    document = fixture()
    document["workflows"] = [{}] * 10_000  # 8 missing fields each: 80,000 problems
    with pytest.raises(ValidationFailed) as caught:
        read(document)
    assert len(caught.value.errors) == bundle_format.MAX_REPORTED_PROBLEMS
    assert "at least 10000 problems" in caught.value.detail


def test_a_uuid_shaped_workflow_key_is_refused() -> None:
    document = fixture()
    document["workflows"][0]["key"] = "0123456789abcdef0123456789abcdef"
    assert ("/workflows/0/key", "bundle.schema") in codes_at(document)
