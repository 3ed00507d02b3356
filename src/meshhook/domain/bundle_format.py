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

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from meshhook.domain import bundle_stream, json_schema, pointers
from meshhook.domain.accounts import looks_like_uuid
from meshhook.domain.canonical import canonical_bytes
from meshhook.domain.completeness import secret_references
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


def _schema_problem(error: json_schema.ValidationError, base: str = "") -> Problem:
    path = base + "".join("/" + pointers.escape(str(part)) for part in error.absolute_path)
    # jsonschema quotes the offending value, which may be a whole definition.
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return Problem(path, "bundle.schema", message)


def _too_long(path: str, value: Any, limit: int, what: str) -> Iterable[Problem]:
    if isinstance(value, list) and len(value) > limit:
        yield Problem(path, "bundle.schema", f"{len(value)} {what}; at most {limit} are allowed")


def _dependency_shape_problems(document: dict[str, Any]) -> Iterable[Problem]:
    """The sizes of the dependency lists, before any schema work."""
    dependencies = document.get("dependencies")
    if isinstance(dependencies, dict):
        for name in ("nodeTypes", "secrets"):
            yield from _too_long(
                f"/dependencies/{name}",
                dependencies.get(name),
                MAX_BUNDLE_DEPENDENCIES,
                "names",
            )


def _workflow_shape_problems(index: int, workflow: Any) -> Iterable[Problem]:
    """A workflow's kind and its versions' count and kinds: each check costs one
    step per item, whatever the items hold (before any schema work)."""
    at = workflow_pointer(index)
    if not isinstance(workflow, dict):
        yield Problem(at, "bundle.schema", "a workflow is a JSON object")
        return
    versions = workflow.get("versions")
    if not isinstance(versions, list):
        return
    if len(versions) > MAX_BUNDLE_VERSIONS:
        yield from _too_long(f"{at}/versions", versions, MAX_BUNDLE_VERSIONS, "versions")
        return
    for position, version in enumerate(versions):
        if not isinstance(version, dict):
            yield Problem(
                f"{at}/versions/{position}", "bundle.schema", "a version is a JSON object"
            )


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


def _workflow(raw: dict[str, Any]) -> BundleWorkflow:
    return BundleWorkflow(
        key=raw["key"],
        name=raw["name"].strip(),
        description=raw["description"],
        tags=tuple(raw["tags"]),
        is_template=raw["isTemplate"],
        published_version=_number(raw["publishedVersion"]),
        aliases={name: int(number) for name, number in raw["aliases"].items()},
        versions=tuple(_version(version) for version in raw["versions"]),
    )


_SCHEMA_REFUSAL = "the bundle does not match the workflow bundle schema"


class BundleReader:
    """A bundle read one workflow at a time (``bundle_stream``): a caller keeps
    what it needs of each workflow and drops the rest.

    Every problem is reported with a pointer into the bundle. The envelope is
    checked on construction (malformed JSON: ``BadRequest``; a duplicated key,
    a NUL character, a wrong format or version: ``ValidationFailed``, 422).
    :meth:`workflows` yields the workflows while none had a problem, and keeps
    reading to collect the problems of the rest; :meth:`finish` then raises the
    first kind found, as a whole-document check would: the sizes and kinds of
    the arrays, then schema violations (sorted by path), then inconsistencies
    (duplicate keys, versions out of order, drafts that are not the head,
    dangling publishedVersion or aliases).
    """

    def __init__(self, source: BinaryIO, schema: Mapping[str, Any]) -> None:
        self._source = source
        self._start = source.tell()
        envelope = bundle_stream.read_envelope(source)
        self._has_nul = envelope.has_nul
        if not envelope.is_object:
            _check_envelope(None)
        members = envelope.members
        if self._has_nul:
            bundle_stream.refuse_nul(members, "")
        bundle_stream.refuse_duplicates(members, "", envelope.strict)
        document: dict[str, Any] = dict(members)
        if envelope.workflows_array:
            document[bundle_stream.WORKFLOWS] = []
        _check_envelope(document)
        self._document = document
        self.shape = ProblemCollector()
        self.schema = ProblemCollector()
        self.consistency = ProblemCollector()
        self.shape.extend(_dependency_shape_problems(document))
        if envelope.workflow_count > MAX_BUNDLE_WORKFLOWS:
            self.shape.add(
                Problem(
                    "/workflows",
                    "bundle.schema",
                    f"{envelope.workflow_count} workflows; at most {MAX_BUNDLE_WORKFLOWS}"
                    " are allowed",
                )
            )
        self._items = envelope.workflows_array and not self.shape
        if not self.shape:
            self.schema.extend(
                _schema_problem(error)
                for error in json_schema.Validator(schema).iter_errors(document)
            )
        self._workflow_validator = json_schema.Validator(
            {
                "$schema": schema.get("$schema"),
                "$defs": schema.get("$defs", {}),
                "$ref": "#/$defs/workflow",
            }
        )
        self._seen: dict[str, int] = {}
        self._strict = bundle_stream.strict_type()

    @property
    def _sound(self) -> bool:
        return not (self.shape or self.schema or self.consistency)

    def workflows(self) -> Iterator[tuple[int, BundleWorkflow]]:
        """``(index, workflow)`` for each workflow, while every one so far is sound."""
        if not self._items:
            return
        self._source.seek(self._start)
        items = bundle_stream.workflow_items(self._source, self._strict)
        for index, raw in enumerate(items):
            at = workflow_pointer(index)
            if self._has_nul:
                bundle_stream.refuse_nul(raw, at)
            bundle_stream.refuse_duplicates(raw, at, self._strict)
            raw = bundle_stream.plain(raw)
            self.shape.extend(_workflow_shape_problems(index, raw))
            if self.shape:
                continue
            if not self.schema.full:
                self.schema.extend(
                    _schema_problem(error, at)
                    for error in self._workflow_validator.iter_errors(raw)
                )
            if self.schema or self.consistency.full:
                continue
            workflow = _workflow(raw)
            first = self._seen.get(workflow.key)
            if first is not None:
                self.consistency.add(
                    Problem(
                        f"{at}/key",
                        "bundle.duplicate_key",
                        f"key {workflow.key!r} is also used by /workflows/{first}",
                    )
                )
            self._seen.setdefault(workflow.key, index)
            self.consistency.extend(_workflow_problems(index, workflow))
            if self._sound:
                yield index, workflow

    def finish(self) -> None:
        """Raise the problems :meth:`workflows` found (the first kind only)."""
        if self.shape:
            raise self.shape.refusal(_SCHEMA_REFUSAL, sort=True)
        if self.schema:
            raise self.schema.refusal(_SCHEMA_REFUSAL, sort=True)
        if self.consistency:
            raise self.consistency.refusal("the bundle is not consistent")

    @property
    def exported_at(self) -> str:
        value: str = self._document["exportedAt"]
        return value

    @property
    def declared_dependencies(self) -> dict[str, tuple[str, ...]]:
        declared = self._document["dependencies"]
        return {name: tuple(items) for name, items in declared.items()}


def read_bundle(data: bytes | str, schema: Mapping[str, Any]) -> Bundle:
    """Parse and check a whole bundle held in memory (see :class:`BundleReader`,
    which imports use so as not to hold it)."""
    reader = BundleReader(io.BytesIO(data.encode() if isinstance(data, str) else data), schema)
    workflows = tuple(workflow for _, workflow in reader.workflows())
    reader.finish()
    return Bundle(
        exported_at=reader.exported_at,
        workflows=workflows,
        declared_dependencies=reader.declared_dependencies,
    )


def _names(names: Sequence[str]) -> str:
    # Up to 10,000 names each: a message lists a few and counts the rest.
    shown = list(names[:10])
    return f"{shown}" if len(names) <= 10 else f"{[*shown[:-1], '...']} ({len(names)} names)"


def stale_dependency_warnings(bundle: Bundle) -> list[Problem]:
    """Warnings when the declared ``dependencies`` differ from the definitions'
    (a hand-edited bundle); the importer always trusts the definitions."""
    return dependency_warnings(bundle.declared_dependencies, bundle.dependencies())


def dependency_warnings(
    declared: Mapping[str, Sequence[str]], actual: Mapping[str, list[str]]
) -> list[Problem]:
    """:func:`stale_dependency_warnings` from the declared and actual lists."""
    return [
        Problem(
            f"/dependencies/{name}",
            "bundle.dependencies_stale",
            f"declared {_names(declared.get(name, ()))} but the "
            f"definitions use {_names(actual[name])}; the definitions win",
            "warning",
        )
        for name in ("nodeTypes", "secrets")
        if list(declared.get(name, ())) != actual[name]
    ]
