// Literal credentials in sensitive fields, found before the server refuses
// them, and what "Store as secret" turns them into.
import type { Definition, NodeType } from './api/types';
import { formatPointer } from './pointer';
import { isSensitive, referencedSecret, secretReference } from './schemaForm';

export interface LiteralCredential {
  nodeId: string;
  /** Path inside the node's config. */
  parts: string[];
  /** The same as a JSON Pointer relative to the config (`/headers/Authorization`). */
  pointer: string;
}

/** Whether a value in a sensitive field is a literal (empty and null are not: that is the schema's business). */
export function isLiteralCredential(value: unknown): boolean {
  if (value === '' || value === null || value === undefined) return false;
  return referencedSecret(value) === null;
}

function walk(value: unknown, parts: string[], patterns: readonly string[], found: string[][]): void {
  if (!value || typeof value !== 'object') return;
  const items: [string, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [String(index), item])
    : Object.entries(value as Record<string, unknown>);
  for (const [key, child] of items) {
    const path = [...parts, key];
    if (isSensitive(formatPointer(path), patterns)) {
      // The outermost sensitive value is judged whole, as the server does.
      if (isLiteralCredential(child)) found.push(path);
    } else {
      walk(child, path, patterns, found);
    }
  }
}

/** Every sensitive field of the definition that holds a literal value instead of a secret reference. */
export function literalCredentials(definition: Definition, types: ReadonlyMap<string, NodeType>): LiteralCredential[] {
  const found: LiteralCredential[] = [];
  for (const node of definition.nodes) {
    const patterns = types.get(node.type)?.sensitive_fields ?? [];
    if (patterns.length === 0) continue;
    const paths: string[][] = [];
    walk(node.config ?? {}, [], patterns, paths);
    for (const parts of paths) found.push({ nodeId: node.id, parts, pointer: formatPointer(parts) });
  }
  return found;
}

const SCHEME = /^(Bearer|Basic|Token)\s+(\S.*)$/i;

/**
 * What to store and what to write back for a literal: `Bearer abc123` stores
 * `abc123` and becomes `Bearer {{ secrets.NAME }}`.
 */
export function splitCredential(literal: string): { secret: string; reference: (name: string) => string } {
  const match = SCHEME.exec(literal.trim());
  if (match) {
    const scheme = match[1] ?? '';
    const canonical = scheme.charAt(0).toUpperCase() + scheme.slice(1).toLowerCase();
    return { secret: match[2] ?? '', reference: (name) => `${canonical} ${secretReference(name)}` };
  }
  return { secret: literal, reference: (name) => secretReference(name) };
}

export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A secret name for a field: `send` + `/headers/X-Api-Key` → `SEND_X_API_KEY`. */
export function suggestSecretName(nodeId: string, parts: readonly string[]): string {
  const last = parts[parts.length - 1] ?? 'secret';
  const raw = `${nodeId}_${last}`.toUpperCase().replace(/[^A-Z0-9_]+/g, '_').replace(/_+/g, '_').replace(/^_|_$/g, '');
  const name = /^[A-Z_]/.test(raw) ? raw : `S_${raw}`;
  return name.slice(0, 128) || 'SECRET';
}
