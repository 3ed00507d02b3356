// A form generated from a node type's config JSON Schema. `formFields` turns
// the schema into field descriptions; the panel renders them and writes values
// back with `parseFieldInput` + `setIn`. Sensitive fields become secret references.
import type { JsonSchema } from './api/types';
import { formatPointer, parsePointer } from './pointer';

export type FieldKind =
  | 'text'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'select'
  | 'multiselect'
  | 'list'
  | 'object'
  | 'map'
  | 'json';

export interface FormField {
  key: string;
  /** Path of the value inside the node's config. */
  parts: string[];
  /** The same as a JSON Pointer relative to the config (`/retry/max_attempts`). */
  pointer: string;
  label: string;
  description: string;
  kind: FieldKind;
  required: boolean;
  /** The value must be a secret reference (`{{ secrets.NAME }}`). */
  sensitive: boolean;
  /** Choices of a select or multiselect. */
  options: string[];
  placeholder: string;
  /** Fields of an object. */
  children: FormField[];
  schema: JsonSchema;
}

export const SECRET_REFERENCE = /^(?:(?:Bearer|Basic|Token)\s+)?\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]{0,127})\s*\}\}$/;

export function secretReference(name: string): string {
  return `{{ secrets.${name} }}`;
}

/** The secret a sensitive value refers to, or null for a literal (or empty) value. */
export function referencedSecret(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  return SECRET_REFERENCE.exec(value.trim())?.[1] ?? null;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

function patternMatches(pattern: string, parts: readonly string[]): boolean {
  const segments = parsePointer(pattern);
  if (segments.length > parts.length) return false;
  return segments.every((segment, index) => globToRegExp(segment).test(parts[index] ?? ''));
}

/**
 * Is the config value at `pointer` sensitive under the node type's patterns?
 * Same language as the server: `*` wildcards, case-insensitive, `!` excludes,
 * and a pattern matching an ancestor makes everything below it sensitive.
 */
export function isSensitive(pointer: string, patterns: readonly string[]): boolean {
  const parts = parsePointer(pointer);
  let positive = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (patternMatches(pattern.slice(1), parts)) return false;
    } else if (patternMatches(pattern, parts)) {
      positive = true;
    }
  }
  return positive;
}

function typeOf(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
}

function humanize(key: string): string {
  const words = key.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function kindOf(schema: JsonSchema): FieldKind {
  const type = typeOf(schema);
  if (schema.enum && type !== 'array') return 'select';
  switch (type) {
    case 'string':
      return 'text';
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'boolean':
      return 'boolean';
    case 'array':
      if (schema.items?.enum) return 'multiselect';
      if (schema.items && ['string', 'number', 'integer'].includes(typeOf(schema.items) ?? '')) return 'list';
      return 'json';
    case 'object':
      if (schema.properties) return 'object';
      if (typeof schema.additionalProperties === 'object' && typeOf(schema.additionalProperties) === 'string') {
        return 'map';
      }
      return 'json';
    default:
      return 'json';
  }
}

/**
 * Whether the engine applies `key`'s schema default when the field is left
 * empty. A field that is required, or one of the alternatives of a
 * `oneOf`/`anyOf` (Delay: duration or until), has no default in effect: its
 * `default` is only a suggestion, so it is not shown as a placeholder.
 */
export function defaultApplies(parent: JsonSchema, key: string): boolean {
  if (parent.required?.includes(key)) return false;
  const alternatives = [...(parent.oneOf ?? []), ...(parent.anyOf ?? [])];
  return !alternatives.some((alternative) => alternative.required?.includes(key));
}

/**
 * What a new step suggests for a field: its default, else its first example
 * (a required field has no default: the schema says `examples`, e.g. Delay's 60).
 */
function suggestion(schema: JsonSchema | undefined): unknown {
  return schema?.default !== undefined ? schema.default : schema?.examples?.[0];
}

/**
 * The config of a newly added step: the suggested values that the engine
 * does not apply by itself (required fields, and the first `oneOf`/`anyOf`
 * alternative whose fields all have one), so a new Delay waits 60 seconds
 * instead of being incomplete.
 */
export function initialConfig(schema: JsonSchema): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const properties = schema.properties ?? {};
  for (const key of schema.required ?? []) {
    const value = suggestion(properties[key]);
    if (value !== undefined) config[key] = structuredClone(value);
  }
  for (const alternatives of [schema.oneOf, schema.anyOf]) {
    if (!alternatives?.length) continue;
    if (alternatives.some((alternative) => (alternative.required ?? []).every((key) => key in config))) continue;
    const seeded = alternatives.find(
      (alternative) =>
        (alternative.required ?? []).length > 0 &&
        (alternative.required ?? []).every((key) => suggestion(properties[key]) !== undefined),
    );
    for (const key of seeded?.required ?? []) config[key] = structuredClone(suggestion(properties[key]));
  }
  return config;
}

function placeholderOf(schema: JsonSchema, kind: FieldKind, sensitive: boolean, applies: boolean): string {
  if (sensitive) return '{{ secrets.NAME }}';
  if (schema.default === undefined || !applies) return '';
  if ((kind === 'list' || kind === 'multiselect') && Array.isArray(schema.default)) return schema.default.join(', ');
  return typeof schema.default === 'string' ? schema.default : JSON.stringify(schema.default);
}

/** The fields of an object schema, in the schema's order. */
export function formFields(
  schema: JsonSchema,
  sensitivePatterns: readonly string[],
  parent: readonly string[] = [],
): FormField[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([key, child]) => {
    const parts = [...parent, key];
    const pointer = formatPointer(parts);
    const kind = kindOf(child);
    const sensitive = isSensitive(pointer, sensitivePatterns) || (child.writeOnly === true && kind === 'text');
    const options = (kind === 'multiselect' ? child.items?.enum : child.enum) ?? [];
    return {
      key,
      parts,
      pointer,
      label: child.title ?? humanize(key),
      description: child.description ?? '',
      kind,
      required: required.has(key),
      sensitive,
      options: options.map(String),
      placeholder: placeholderOf(child, kind, sensitive, defaultApplies(schema, key)),
      children: kind === 'object' ? formFields(child, sensitivePatterns, parts) : [],
      schema: child,
    };
  });
}

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * The config value for what the user typed. An empty input removes the field
 * (`value: undefined`) so the node type's default applies.
 */
export function parseFieldInput(field: FormField, raw: string): Parsed {
  const text = raw.trim();
  if (text === '' && field.kind !== 'text') return { ok: true, value: undefined };
  switch (field.kind) {
    case 'text':
    case 'select':
      return { ok: true, value: raw === '' ? undefined : raw };
    case 'number':
    case 'integer': {
      const value = Number(text);
      if (!Number.isFinite(value)) return { ok: false, error: 'enter a number' };
      if (field.kind === 'integer' && !Number.isInteger(value)) return { ok: false, error: 'enter a whole number' };
      return { ok: true, value };
    }
    case 'list': {
      const itemType = typeOf(field.schema.items ?? {});
      const items = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
      if (itemType === 'string') return { ok: true, value: items };
      const numbers = items.map(Number);
      if (numbers.some((n) => !Number.isFinite(n) || (itemType === 'integer' && !Number.isInteger(n)))) {
        return { ok: false, error: 'enter numbers separated by commas' };
      }
      return { ok: true, value: numbers };
    }
    case 'json':
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch (error) {
        return { ok: false, error: `not valid JSON: ${(error as Error).message}` };
      }
    default:
      return { ok: false, error: `a ${field.kind} field is not edited as text` };
  }
}

/** How a config value is shown in its input. */
export function formatFieldValue(field: FormField, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (field.kind === 'list' && Array.isArray(value)) return value.join(', ');
  if (field.kind === 'json') return JSON.stringify(value, null, 2);
  return String(value);
}
