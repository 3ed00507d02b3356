// RFC 6901 JSON Pointers: the server names every problem and conflict with one.

export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`not a JSON Pointer: ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function formatPointer(parts: readonly (string | number)[]): string {
  return parts.map((part) => '/' + String(part).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** The value at `parts` inside `value`, or undefined. */
export function getIn(value: unknown, parts: readonly string[]): unknown {
  let current = value;
  for (const part of parts) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/**
 * A copy of the object `value` with `parts` set to `next`; `undefined` removes the
 * key, and objects left empty on the way are removed too so configs stay minimal.
 */
export function setIn(
  value: Record<string, unknown>,
  parts: readonly string[],
  next: unknown,
): Record<string, unknown> {
  const [head, ...rest] = parts;
  if (head === undefined) return value;
  const copy: Record<string, unknown> = { ...value };
  if (rest.length === 0) {
    if (next === undefined) delete copy[head];
    else copy[head] = next;
    return copy;
  }
  const child = copy[head];
  const base =
    child !== null && typeof child === 'object' && !Array.isArray(child)
      ? (child as Record<string, unknown>)
      : {};
  const updated = setIn(base, rest, next);
  if (Object.keys(updated).length === 0 && next === undefined) delete copy[head];
  else copy[head] = updated;
  return copy;
}
