import { describe, expect, it } from 'vitest';
import { makePatch, smallerPatch, type PatchOperation } from '../src/lib/jsonPatch';
import { parsePointer } from '../src/lib/pointer';

/** A minimal RFC 6902 applier for the three operations makePatch emits. */
function apply(document: unknown, patch: PatchOperation[]): unknown {
  let root = structuredClone(document);
  for (const op of patch) {
    const parts = parsePointer(op.path);
    if (parts.length === 0) {
      root = op.op === 'remove' ? undefined : structuredClone(op.value);
      continue;
    }
    let parent = root as Record<string, unknown>;
    for (const part of parts.slice(0, -1)) parent = parent[part] as Record<string, unknown>;
    const last = parts[parts.length - 1]!;
    if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else {
      parent[last] = structuredClone(op.value);
    }
  }
  return root;
}

const base = {
  nodes: [
    { id: 'start', type: 'manual', config: {}, position: { x: 0, y: 0 } },
    { id: 'send', type: 'http_call', config: { url: 'https://a', method: 'GET', 'a/b': 1 }, position: { x: 1, y: 2 } },
  ],
  edges: [{ from: 'start', to: 'send' }],
  settings: {},
};

describe('JSON Patch from the saved definition', () => {
  it('is one small operation for a one-field edit', () => {
    const edited = structuredClone(base);
    edited.nodes[1]!.config.url = 'https://b';
    expect(makePatch(base, edited)).toEqual([{ op: 'replace', path: '/nodes/1/config/url', value: 'https://b' }]);
  });

  it('escapes keys and handles added, removed and resized parts', () => {
    const edited = structuredClone(base) as Record<string, any>;
    edited.nodes[1].config['a/b'] = 2;
    delete edited.nodes[1].config.method;
    edited.nodes[1].config.timeout_seconds = 5;
    edited.settings.timeout_seconds = 60;
    const patch = makePatch(base, edited);
    expect(patch).toContainEqual({ op: 'replace', path: '/nodes/1/config/a~1b', value: 2 });
    expect(patch).toContainEqual({ op: 'remove', path: '/nodes/1/config/method' });
    expect(patch).toContainEqual({ op: 'add', path: '/settings/timeout_seconds', value: 60 });
    expect(apply(base, patch)).toEqual(edited);
    // A node more: the list is replaced whole (still exact).
    edited.nodes.push({ id: 'n', type: 'transform', config: { expression: 'a' } });
    expect(apply(base, makePatch(base, edited))).toEqual(edited);
  });

  it('takes any value to any other', () => {
    const values: unknown[] = [null, 1, 'x', [], [1, 2], { a: 1 }, { a: [1, { b: null }] }, true, {}];
    for (const before of values) {
      for (const after of values) expect(apply(before, makePatch(before, after))).toEqual(after);
    }
    expect(makePatch(base, structuredClone(base))).toEqual([]);
  });

  it('is sent only when smaller than the document', () => {
    const edited = structuredClone(base);
    edited.nodes[1]!.config.url = 'https://b';
    expect(smallerPatch(base, edited, { definition: edited, message: '' })).toHaveLength(1);
    const replaced = { nodes: [], edges: [], settings: { a: 1 } };
    expect(smallerPatch(base, replaced, { definition: replaced, message: '' })).toBeNull();
  });
});
