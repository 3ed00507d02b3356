from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import orjson
import pytest

from meshhook.domain.errors import ValidationFailed
from meshhook.domain.templates import parse_template
from meshhook.domain.validation import secret_references, validate_definition


def builtin_templates() -> dict[str, Any]:
    # Reading package data is the service's job; the test reads it to check the files.
    folder = resources.files("meshhook") / "templates"
    return {
        entry.name: orjson.loads(entry.read_bytes())
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


TEMPLATES = builtin_templates()


def test_there_are_at_least_three_builtin_templates() -> None:
    assert {"webhook-to-http.json", "branch-on-amount.json", "delayed-follow-up.json"} <= set(
        TEMPLATES
    )


@pytest.mark.parametrize("file_name", sorted(TEMPLATES))
def test_builtin_template_is_valid_and_publishable(file_name: str) -> None:
    template = parse_template(TEMPLATES[file_name])
    assert file_name == f"{template.key}.json"
    report = validate_definition(template.definition)
    assert report.errors == []
    assert report.warnings == []


@pytest.mark.parametrize("file_name", sorted(TEMPLATES))
def test_builtin_template_lays_nodes_out_left_to_right_without_overlap(file_name: str) -> None:
    nodes = TEMPLATES[file_name]["definition"]["nodes"]
    positions = [(n["position"]["x"], n["position"]["y"]) for n in nodes]
    assert len(set(positions)) == len(positions)
    index = {n["id"]: n for n in nodes}
    for edge in TEMPLATES[file_name]["definition"]["edges"]:
        assert index[edge["from"]]["position"]["x"] < index[edge["to"]]["position"]["x"]


def test_builtin_templates_use_secret_references_for_credentials() -> None:
    names = set()
    for raw in TEMPLATES.values():
        names |= secret_references(raw["definition"])
    assert "CRM_API_TOKEN" in names
    assert "PAYMENTS_API_TOKEN" in names


def test_template_as_json_round_trips() -> None:
    raw = TEMPLATES["webhook-to-http.json"]
    assert parse_template(raw).as_json() == raw
    assert "definition" not in parse_template(raw).as_json(with_definition=False)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"key": "Not A Slug"}, "/key"),
        ({"name": ""}, "/name"),
        ({"tags": ["ok", 3]}, "/tags/1"),
        ({"description": 1}, "/description"),
        ({"colour": "red"}, "/colour"),
    ],
)
def test_bad_template_fields_are_reported(change: dict[str, Any], path: str) -> None:
    raw = {**copy.deepcopy(TEMPLATES["webhook-to-http.json"]), **change}
    with pytest.raises(ValidationFailed) as caught:
        parse_template(raw)
    assert [(p.code, p.path) for p in caught.value.errors] == [("template.invalid", path)]


def test_structural_problems_of_the_definition_are_reported_under_definition() -> None:
    raw = copy.deepcopy(TEMPLATES["webhook-to-http.json"])
    raw["definition"]["edges"].append({"from": "to-contact", "to": "ghost"})
    with pytest.raises(ValidationFailed) as caught:
        parse_template(raw)
    assert [(p.code, p.path) for p in caught.value.errors] == [
        ("edge.unknown_node", "/definition/edges/2/to")
    ]


def test_a_template_must_be_an_object_with_a_definition() -> None:
    with pytest.raises(ValidationFailed):
        parse_template([])
    raw = copy.deepcopy(TEMPLATES["webhook-to-http.json"])
    del raw["definition"]
    with pytest.raises(ValidationFailed):
        parse_template(raw)
