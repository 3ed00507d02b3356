// Types for the parts of the API whose OpenAPI schema is a free-form object
// (definitions, node types, validation and compare results). Everything else
// comes from the generated `schema.d.ts`.
import type { components } from './schema';

type Schemas = components['schemas'];
export type Me = Schemas['MeOut'];
export type ProjectRef = Schemas['ProjectRef'];
export type WorkflowSummary = Schemas['WorkflowOut'];
export type WorkflowDetail = Schemas['WorkflowDetailOut'];
/** What a save answers: `definition` left out when it asked `Prefer: return=minimal`. */
export type WorkflowSaved = Schemas['WorkflowSavedOut'];
export type VersionSummary = Schemas['VersionOut'];
export type VersionDetail = Schemas['VersionDetailOut'];
export type Template = Schemas['TemplateOut'];
export type Alias = Schemas['AliasOut'];
export type Schedule = Schemas['ScheduleOut'];
export type Problem = Schemas['ProblemOut'];

export interface Position {
  x: number;
  y: number;
}

export interface DefinitionNode {
  id: string;
  type: string;
  name?: string;
  config: Record<string, unknown>;
  position?: Position;
}

export interface DefinitionEdge {
  from: string;
  to: string;
  when?: string;
}

export interface Definition {
  nodes: DefinitionNode[];
  edges: DefinitionEdge[];
  settings: Record<string, unknown>;
}

/** JSON Schema, as far as the form generator reads it. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  examples?: unknown[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  uniqueItems?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  pattern?: string;
  writeOnly?: boolean;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  [key: string]: unknown;
}

export interface NodeType {
  name: string;
  title: string;
  description: string;
  category: 'trigger' | 'action' | 'logic';
  config_schema: JsonSchema;
  sensitive_fields: string[];
  jmespath_fields: string[];
  is_trigger: boolean;
  max_inputs: number | null;
  outputs: string[] | null;
}

export type ValidationResult = Schemas['ValidationOut'];

export interface FieldChange {
  path: string;
  op: 'add' | 'remove' | 'replace';
  old?: unknown;
  new?: unknown;
  masked: boolean;
}

export interface CompareResult {
  from: number;
  to: number;
  nodes: {
    added: DefinitionNode[];
    removed: DefinitionNode[];
    changed: { id: string; fields: FieldChange[] }[];
  };
  edges: { added: DefinitionEdge[]; removed: DefinitionEdge[] };
  settings: { changed: FieldChange[] };
  layout: { moved: { id: string; old: Position; new: Position }[] };
  summary: Record<string, number | boolean>;
}

export interface Conflict {
  path: string;
  side: 'yours' | 'theirs';
  reason: string;
  base: unknown;
  theirs: unknown;
  yours: unknown;
}

/** The server's problem details body (`Problem`, declared on every operation),
 * with the members a stale save's 409 adds. */
export type ProblemDetails = Schemas['Problem'] & {
  conflicts?: Conflict[];
  head_version?: number;
  base_version?: number;
};
