"""The workflow bundle format, version 1: reading (with every check that needs
no database) and writing (canonical bytes).

A bundle carries workflows by their portable key: metadata, every published
version, the head draft when the head is not published, aliases, and a summary
of dependencies. Never database ids, audit data or secret values. The JSON
Schema lives in ``meshhook/schemas/workflow-bundle.v1.json``; the caller hands
it in (this module does no I/O). Definitions are checked by the caller too,
against the node-type registry, because storing them needs the same work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from meshhook.domain import json_schema, pointers
from meshhook.domain.accounts import looks_like_uuid
from meshhook.domain.canonical import canonical_bytes, parse_json, refuse_nul
from meshhook.domain.completeness import secret_references
from meshhook.domain.duplicate_keys import refuse_duplicate_keys
from meshhook.domain.errors import Problem, ValidationFailed
from meshhook.domain.limits import (
    MAX_BUNDLE_DEPENDENCIES,
    MAX_BUNDLE_VERSIONS,
    MAX_BUNDLE_WORKFLOWS,
    MAX_COUNTED_BUNDLE_PROBLEMS,
    MAX_REPORTED_BUNDLE_PROBLEMS,
)
from meshhook.domain.workflows import VersionState

FORMAT = "meshhook.workflow-bundle"
FORMAT_VERSION = 1
MAX_REPORTED_PROBLEMS = MAX_REPORTED_BUNDLE_PROBLEMS


@dataclass(frozen=True, slots=True)
class BundleVersion:
    number: int
    state: VersionState
    message: str
    tag: str | None
    note: str | None
    definition: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BundleWorkflow:
    key: str
    name: str
    description: str
    tags: tuple[str, ...]
    is_template: bool
    published_version: int | None
    aliases: Mapping[str, int]
    versions: tuple[BundleVersion, ...]
    """Ascending by number; only the last may be a draft (the head)."""

    @property
    def head(self) -> BundleVersion:
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class Bundle:
    exported_at: str
    workflows: tuple[BundleWorkflow, ...]
    declared_dependencies: Mapping[str, tuple[str, ...]]

    def dependencies(self) -> dict[str, list[str]]:
        return dependencies_of(self.workflows)


def workflow_pointer(index: int) -> str:
    return f"/workflows/{index}"


def definition_pointer(workflow_index: int, version_index: int) -> str:
    return f"/workflows/{workflow_index}/versions/{version_index}/definition"


# -- writing ----------------------------------------------------------------------


def dependencies_of(workflows: Iterable[BundleWorkflow]) -> dict[str, list[str]]:
    """Node types and secret names used by any version of ``workflows``, sorted."""
    node_types: set[str] = set()
    secrets: set[str] = set()
    for workflow in workflows:
        for version in workflow.versions:
            nodes = version.definition.get("nodes", [])
            node_types.update(n["type"] for n in nodes if isinstance(n.get("type"), str))
            secrets.update(secret_references(version.definition))
    return {"nodeTypes": sorted(node_types), "secrets": sorted(secrets)}


def _version_document(version: BundleVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "state": version.state.value,
        "message": version.message,
        "tag": version.tag,
        "note": version.note,
        "definition": version.definition,
    }


def _workflow_document(workflow: BundleWorkflow) -> dict[str, Any]:
    return {
        "key": workflow.key,
        "name": workflow.name,
        "description": workflow.description,
        "tags": list(workflow.tags),
        "isTemplate": workflow.is_template,
        "publishedVersion": workflow.published_version,
        "aliases": dict(workflow.aliases),
        "versions": [_version_document(version) for version in workflow.versions],
    }


def format_timestamp(when: datetime) -> str:
    """RFC 3339 in UTC with whole seconds: ``2026-11-22T03:40:00Z``."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_bundle(workflows: Sequence[BundleWorkflow], *, exported_at: datetime) -> bytes:
    """The canonical bytes of a bundle of ``workflows`` (sorted by key)."""
    ordered = sorted(workflows, key=lambda workflow: workflow.key)
    return canonical_bytes(
        {
            "format": FORMAT,
            "formatVersion": FORMAT_VERSION,
            "exportedAt": format_timestamp(exported_at),
            "dependencies": dependencies_of(ordered),
            "workflows": [_workflow_document(workflow) for workflow in ordered],
        }
    )


# -- reading ----------------------------------------------------------------------


class ProblemCollector:
    """Problems of a bundle: the first ``MAX_REPORTED_PROBLEMS`` kept, the rest
    only counted, and counting stops at ``MAX_COUNTED_BUNDLE_PROBLEMS`` (``full``):
    a bundle of a million empty workflows costs what ten thousand problems cost,
    not 14 million problems and 3.8 GB."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.count = 0

    def __bool__(self) -> bool:
        return self.count > 0

    @property
    def full(self) -> bool:
        """Whether counting has stopped; callers stop looking for more."""
        return self.count >= MAX_COUNTED_BUNDLE_PROBLEMS

    def add(self, problem: Problem) -> None:
        if self.full:
            return
        self.count += 1
        if len(self.kept) < MAX_REPORTED_PROBLEMS:
            self.kept.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            if self.full:
                return
            self.add(problem)

    def refusal(self, detail: str, *, sort: bool = False) -> ValidationFailed:
        """A 422 listing the kept problems and how many there were."""
        shown = sorted(self.kept, key=lambda problem: problem.path) if sort else self.kept
        if self.full:
            detail += f" (at least {self.count} problems; the first {len(shown)} are listed)"
        elif self.count > len(shown):
            detail += f" ({self.count} problems; the first {len(shown)} are listed)"
        return ValidationFailed(detail, errors=list(shown))


def _check_envelope(document: Any) -> None:
    """``format`` and ``formatVersion`` first: a wrong document gets a plain answer."""
    if not isinstance(document, dict):
        raise ValidationFailed(
            "a bundle is a JSON object",
            errors=[Problem("", "bundle.schema", f"expected an object with format {FORMAT!r}")],
        )
    if document.get("format") != FORMAT:
        raise ValidationFailed(
            f"this is not a MeshHook workflow bundle (format is {document.get('format')!r})",
            errors=[Problem("/format", "bundle.format", f"expected {FORMAT!r}")],
        )
    version = document.get("formatVersion")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ValidationFailed(
            f"unsupported bundle formatVersion {version!r}: this server reads version "
            f"{FORMAT_VERSION}",
            errors=[
                Problem(
                    "/formatVersion",
                    "bundle.format_version",
                    f"this server reads formatVersion {FORMAT_VERSION} only; export the "
                    "bundle again from a compatible MeshHook",
                )
            ],
        )


def _schema_problem(error: json_schema.ValidationError) -> Problem:
    path = "".join("/" + pointers.escape(str(part)) for part in error.absolute_path)
    # jsonschema quotes the offending value, which may be a whole definition.
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return Problem(path, "bundle.schema", message)


def _too_long(path: str, value: Any, limit: int, what: str) -> Iterable[Problem]:
    if isinstance(value, list) and len(value) > limit:
        yield Problem(path, "bundle.schema", f"{len(value)} {what}; at most {limit} are allowed")


def _shape_problems(document: dict[str, Any]) -> Iterable[Problem]:
    """The sizes and kinds of the bundle's arrays, before any schema work: each
    check costs one step per item, whatever the items hold."""
    dependencies = document.get("dependencies")
    if isinstance(dependencies, dict):
        for name in ("nodeTypes", "secrets"):
            yield from _too_long(
                f"/dependencies/{name}",
                dependencies.get(name),
                MAX_BUNDLE_DEPENDENCIES,
                "names",
            )
    workflows = document.get("workflows")
    if not isinstance(workflows, list):
        return  # the schema says what it should be
    if len(workflows) > MAX_BUNDLE_WORKFLOWS:
        yield from _too_long("/workflows", workflows, MAX_BUNDLE_WORKFLOWS, "workflows")
        return
    for index, workflow in enumerate(workflows):
        at = workflow_pointer(index)
        if not isinstance(workflow, dict):
            yield Problem(at, "bundle.schema", "a workflow is a JSON object")
            continue
        versions = workflow.get("versions")
        if not isinstance(versions, list):
            continue
        if len(versions) > MAX_BUNDLE_VERSIONS:
            yield from _too_long(f"{at}/versions", versions, MAX_BUNDLE_VERSIONS, "versions")
            continue
        for position, version in enumerate(versions):
            if not isinstance(version, dict):
                yield Problem(
                    f"{at}/versions/{position}", "bundle.schema", "a version is a JSON object"
                )


def _schema_problems(document: dict[str, Any], schema: Mapping[str, Any]) -> ProblemCollector:
    collector = ProblemCollector()
    collector.extend(_shape_problems(document))
    if collector:
        return collector
    validator = json_schema.Validator(schema)
    # Lazily: collecting stops once the collector is full.
    collector.extend(_schema_problem(error) for error in validator.iter_errors(document))
    return collector


def _number(value: Any) -> int | None:
    return None if value is None else int(value)


def _version(raw: dict[str, Any]) -> BundleVersion:
    return BundleVersion(
        number=int(raw["number"]),  # JSON Schema counts 2.0 as an integer
        state=VersionState(raw["state"]),
        message=raw["message"],
        tag=raw["tag"],
        note=raw["note"],
        definition=raw["definition"],
    )


def _workflow_problems(index: int, workflow: BundleWorkflow) -> Iterable[Problem]:
    at = workflow_pointer(index)
    if looks_like_uuid(workflow.key):
        yield Problem(
            f"{at}/key",
            "bundle.schema",
            "a key must not have the form of a UUID (workflow ids and keys share URLs)",
        )
    if not workflow.name.strip():
        yield Problem(f"{at}/name", "bundle.schema", "the name is blank")
    numbers = [version.number for version in workflow.versions]
    for position in range(1, len(numbers)):
        if numbers[position] <= numbers[position - 1]:
            yield Problem(
                f"{at}/versions/{position}/number",
                "bundle.version_order",
                f"version numbers must ascend (version {numbers[position]} follows "
                f"{numbers[position - 1]})",
            )
    published: set[int] = set()
    tags: dict[str, int] = {}
    for position, version in enumerate(workflow.versions):
        where = f"{at}/versions/{position}"
        if version.state is VersionState.PUBLISHED:
            published.add(version.number)
            if version.tag is not None:
                if version.tag in tags:
                    yield Problem(
                        f"{where}/tag",
                        "bundle.duplicate_tag",
                        f"tag {version.tag!r} is already on version {tags[version.tag]}",
                    )
                tags[version.tag] = version.number
            continue
        if position != len(workflow.versions) - 1:
            yield Problem(
                f"{where}/state",
                "bundle.draft_not_head",
                "only the last (head) version may be a draft; a bundle carries no other drafts",
            )
        if version.tag is not None or version.note is not None:
            yield Problem(
                where, "bundle.draft_fields", "a draft has no tag or note (they come with publish)"
            )
    if workflow.published_version is None:
        if published:
            yield Problem(
                f"{at}/publishedVersion",
                "bundle.published_version",
                "publishedVersion is null although published versions are present",
            )
    elif workflow.published_version not in published:
        yield Problem(
            f"{at}/publishedVersion",
            "bundle.published_version",
            f"version {workflow.published_version} is not among this workflow's published versions",
        )
    for name, number in sorted(workflow.aliases.items()):
        if number not in published:
            yield Problem(
                f"{at}/aliases/{pointers.escape(name)}",
                "bundle.alias_target",
                f"alias {name!r} points at version {number}, which is not a published version "
                "in this bundle",
            )


def read_bundle(data: bytes | str, schema: Mapping[str, Any]) -> Bundle:
    """Parse and check a bundle; every problem is reported with a pointer into it.

    Raises ``BadRequest`` for malformed JSON and ``ValidationFailed`` (422) for the
    rest: wrong format or version, schema violations, duplicate keys, versions out
    of order, drafts that are not the head, dangling publishedVersion or aliases.
    """
    document = parse_json(data)
    refuse_nul(data, document)
    refuse_duplicate_keys(data, document)
    _check_envelope(document)
    problems = _schema_problems(document, schema)
    if problems:
        raise problems.refusal("the bundle does not match the workflow bundle schema", sort=True)
    workflows: list[BundleWorkflow] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(document["workflows"]):
        workflow = BundleWorkflow(
            key=raw["key"],
            name=raw["name"].strip(),
            description=raw["description"],
            tags=tuple(raw["tags"]),
            is_template=raw["isTemplate"],
            published_version=_number(raw["publishedVersion"]),
            aliases={name: int(number) for name, number in raw["aliases"].items()},
            versions=tuple(_version(version) for version in raw["versions"]),
        )
        if workflow.key in seen:
            problems.add(
                Problem(
                    f"{workflow_pointer(index)}/key",
                    "bundle.duplicate_key",
                    f"key {workflow.key!r} is also used by /workflows/{seen[workflow.key]}",
                )
            )
        seen.setdefault(workflow.key, index)
        problems.extend(_workflow_problems(index, workflow))
        workflows.append(workflow)
    if problems:
        raise problems.refusal("the bundle is not consistent")
    declared = document["dependencies"]
    return Bundle(
        exported_at=document["exportedAt"],
        workflows=tuple(workflows),
        declared_dependencies={name: tuple(items) for name, items in declared.items()},
    )


def _names(names: Sequence[str]) -> str:
    # Up to 10,000 names each: a message lists a few and counts the rest.
    shown = list(names[:10])
    return f"{shown}" if len(names) <= 10 else f"{[*shown[:-1], '...']} ({len(names)} names)"


def stale_dependency_warnings(bundle: Bundle) -> list[Problem]:
    """Warnings when the declared ``dependencies`` differ from the definitions'
    (a hand-edited bundle); the importer always trusts the definitions."""
    actual = bundle.dependencies()
    return [
        Problem(
            f"/dependencies/{name}",
            "bundle.dependencies_stale",
            f"declared {_names(bundle.declared_dependencies.get(name, ()))} but the "
            f"definitions use {_names(actual[name])}; the definitions win",
            "warning",
        )
        for name in ("nodeTypes", "secrets")
        if list(bundle.declared_dependencies.get(name, ())) != actual[name]
    ]
