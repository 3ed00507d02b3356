"""Every problem code the domain emits, with its level and severity.

Codes are part of the API: clients switch on them, so they never change meaning.
``docs/definition-format.md`` carries the same table (a test keeps them in step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from meshhook.domain.errors import Severity

Level = Literal["input", "structural", "completeness", "template", "patch", "bundle", "any"]


@dataclass(frozen=True, slots=True)
class CodeInfo:
    level: Level
    severity: Severity
    meaning: str


_S: Level = "structural"
_C: Level = "completeness"

PROBLEM_CODES: dict[str, CodeInfo] = {
    "json.malformed": CodeInfo("input", "error", "The body is not JSON (400)."),
    "json.not_canonical": CodeInfo(
        "input", "error", "A value JSON cannot hold: NaN/Infinity, non-string key, ..."
    ),
    "json.nul_character": CodeInfo("input", "error", "A string holds U+0000 (NUL)."),
    "json.duplicate_key": CodeInfo(
        "input", "error", "An object names the same key twice (parsers keep only one)."
    ),
    "limit.size": CodeInfo(_S, "error", "The definition is larger than 5 MiB."),
    "limit.depth": CodeInfo(_S, "error", "JSON nested deeper than 64 levels."),
    "limit.nodes": CodeInfo(_S, "error", "More than 5,000 nodes."),
    "limit.edges": CodeInfo(_S, "error", "More than 20,000 edges."),
    "definition.not_object": CodeInfo(_S, "error", "The definition is not a JSON object."),
    "definition.unknown_key": CodeInfo(
        _S, "error", "A top-level key besides nodes/edges/settings."
    ),
    "definition.missing_key": CodeInfo(_S, "error", "`nodes` or `edges` is missing."),
    "definition.invalid_type": CodeInfo(
        _S, "error", "`nodes`/`edges` is not an array or `settings` not an object."
    ),
    "node.not_object": CodeInfo(_S, "error", "A node is not an object."),
    "node.unknown_key": CodeInfo(_S, "error", "A key besides id/type/name/config/position."),
    "node.invalid_id": CodeInfo(_S, "error", "Missing id, or not a slug of 1-64 characters."),
    "node.duplicate_id": CodeInfo(_S, "error", "Two nodes share an id."),
    "node.invalid_type": CodeInfo(_S, "error", "`type` is missing or not a string."),
    "node.unknown_type": CodeInfo(_S, "error", "`type` is not a registered node type."),
    "node.invalid_name": CodeInfo(_S, "error", "`name` is not a string of at most 200 characters."),
    "node.invalid_position": CodeInfo(_S, "error", "`position` is not {x: number, y: number}."),
    "node.invalid_config": CodeInfo(_S, "error", "`config` is not an object."),
    "edge.not_object": CodeInfo(_S, "error", "An edge is not an object."),
    "edge.unknown_key": CodeInfo(_S, "error", "An edge key other than from/to/when."),
    "edge.invalid_endpoint": CodeInfo(_S, "error", "`from` or `to` is missing or not a string."),
    "edge.unknown_node": CodeInfo(_S, "error", "`from` or `to` names no node."),
    "edge.invalid_when": CodeInfo(_S, "error", "`when` is not a string."),
    "edge.unknown_output": CodeInfo(_S, "error", "`when` names an output the source lacks."),
    "edge.self_loop": CodeInfo(_S, "error", "An edge from a node to itself."),
    "edge.duplicate": CodeInfo(_S, "error", "The same (from, to, when) twice."),
    "graph.cycle": CodeInfo(_S, "error", "The edges form a cycle (named in the message)."),
    "config.schema": CodeInfo(_C, "error", "The config does not match its node type's schema."),
    "config.unknown_field": CodeInfo(_C, "error", "A config field the node type does not have."),
    "config.jmespath": CodeInfo(_C, "error", "A JMESPath expression does not compile."),
    "config.placeholder": CodeInfo(
        _C,
        "error",
        "A {{ }} placeholder is not input.<jmespath> or secrets.NAME, or does not compile.",
    ),
    "config.timestamp": CodeInfo(_C, "error", "A timestamp is not ISO-8601 with a time zone."),
    "config.input_schema": CodeInfo(_C, "error", "manual.input_schema is not a valid JSON Schema."),
    "config.body_schema": CodeInfo(_C, "error", "webhook.body_schema is not a valid JSON Schema."),
    "config.webhook_checks": CodeInfo(_C, "error", "A webhook sets both hmac_secret and jwt."),
    "config.cron": CodeInfo(_C, "error", "schedule.cron is not a five-field cron expression."),
    "config.timezone": CodeInfo(_C, "error", "schedule.timezone is not an IANA time zone."),
    "settings.schema": CodeInfo(_C, "error", "A known setting has a wrong value."),
    "branch.missing_output": CodeInfo(_C, "error", "A node has no edge for one of its outputs."),
    "edge.missing_when": CodeInfo(_C, "error", "An edge from a branch has no `when`."),
    "terminate.has_outgoing": CodeInfo(_C, "error", "An edge leaves a terminate node."),
    "node.too_many_inputs": CodeInfo(_C, "error", "More incoming edges than the type allows."),
    "graph.no_trigger": CodeInfo(_C, "error", "No webhook or manual node."),
    "graph.multiple_triggers": CodeInfo(_C, "error", "More than one trigger node."),
    "graph.unreachable": CodeInfo(_C, "warning", "A node no path from the trigger reaches."),
    "secret.literal_value": CodeInfo(_S, "error", "A sensitive field holds a literal value."),
    "secret.reference_not_allowed": CodeInfo(
        _S, "error", "A secret reference outside a sensitive (credential) field."
    ),
    "secret.scrubbed": CodeInfo(_C, "error", "A sensitive field holds *** left by a scrub."),
    "secret.unknown": CodeInfo(_C, "error", "A referenced secret does not exist."),
    "secret.host_not_allowed": CodeInfo(
        _C, "error", "A restricted secret would be sent to a host it does not allow."
    ),
    "template.invalid": CodeInfo("template", "error", "A template document is malformed."),
    "patch.invalid_op": CodeInfo("patch", "error", "A JSON Patch operation is malformed."),
    "patch.path_not_found": CodeInfo("patch", "error", "A patch path does not exist."),
    "patch.test_failed": CodeInfo("patch", "error", "A `test` operation did not match."),
    "bundle.schema": CodeInfo("bundle", "error", "The bundle violates its JSON Schema."),
    "bundle.format": CodeInfo("bundle", "error", "`format` is not meshhook.workflow-bundle."),
    "bundle.format_version": CodeInfo("bundle", "error", "A `formatVersion` this server lacks."),
    "bundle.duplicate_key": CodeInfo("bundle", "error", "Two workflows share a key."),
    "bundle.version_order": CodeInfo("bundle", "error", "Version numbers do not ascend."),
    "bundle.draft_not_head": CodeInfo("bundle", "error", "A draft that is not the last version."),
    "bundle.draft_fields": CodeInfo("bundle", "error", "A draft with a tag or a note."),
    "bundle.duplicate_tag": CodeInfo("bundle", "error", "Two versions share a tag."),
    "bundle.published_version": CodeInfo(
        "bundle", "error", "`publishedVersion` names no published version."
    ),
    "bundle.alias_target": CodeInfo("bundle", "error", "An alias names no published version."),
    "bundle.dependencies_stale": CodeInfo(
        "bundle", "warning", "Declared dependencies differ from the definitions'."
    ),
    "problems.truncated": CodeInfo(
        "any",
        "error",
        "More problems than listed; the message counts them (a warning if all were).",
    ),
    "bundle.key_exists": CodeInfo(
        "bundle", "error", "A live workflow has this key (409 unless force=true)."
    ),
}
