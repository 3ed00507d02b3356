// RFC 6902 JSON Patches from the saved definition to the canvas: a one-field edit
// of a large workflow is saved as one small operation instead of the whole
// document (PATCH .../definition; the server saves exactly what a PUT would).
import { formatPointer } from './pointer';

export type PatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown };

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameJson(a[k], b[k]));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  return false;
}

function diffInto(before: unknown, after: unknown, parts: (string | number)[], ops: PatchOperation[]): void {
  if (isObject(before) && isObject(after)) {
    for (const key of Object.keys(before)) {
      if (!(key in after) || after[key] === undefined) ops.push({ op: 'remove', path: formatPointer([...parts, key]) });
    }
    for (const [key, value] of Object.entries(after)) {
      if (value === undefined) continue; // JSON.stringify drops it too
      if (!(key in before)) ops.push({ op: 'add', path: formatPointer([...parts, key]), value });
      else diffInto(before[key], value, [...parts, key], ops);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((item, i) => diffInto(item, after[i], [...parts, i], ops));
    return;
  }
  if (!sameJson(before, after)) ops.push({ op: 'replace', path: formatPointer(parts), value: after });
}

/** A patch taking `before` to `after`: objects key by key, arrays of equal length index by index. */
export function makePatch(before: unknown, after: unknown): PatchOperation[] {
  const ops: PatchOperation[] = [];
  diffInto(before, after, [], ops);
  return ops;
}

/**
 * The patch from `base` to `definition` when it is smaller than the PUT body
 * `document` would be, else null (send the document).
 */
export function smallerPatch(base: unknown, definition: unknown, document: unknown): PatchOperation[] | null {
  const patch = makePatch(base, definition);
  return JSON.stringify(patch).length < JSON.stringify(document).length ? patch : null;
}
