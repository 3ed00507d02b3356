import { describe, expect, it } from 'vitest';
import type { Definition } from '../src/lib/api/types';
import { canonicalJson, fingerprint, hasUnsavedChanges } from '../src/lib/dirty';

const saved: Definition = {
  nodes: [{ id: 'a', type: 'http_call', config: { url: 'https://x', method: 'GET' }, position: { x: 1, y: 2 } }],
  edges: [],
  settings: {},
};

describe('unsaved changes', () => {
  it('are none when the canvas is back to the saved definition', () => {
    const edited = structuredClone(saved);
    edited.nodes[0]!.config = { ...edited.nodes[0]!.config, url: 'https://y' };
    expect(hasUnsavedChanges(edited, fingerprint(saved))).toBe(true);
    edited.nodes[0]!.config = { method: 'GET', url: 'https://x' };
    expect(hasUnsavedChanges(edited, fingerprint(saved))).toBe(false);
  });

  it('ignore key order but not array order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe(canonicalJson({ a: { c: 3, d: 2 }, b: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it('see a moved step', () => {
    const moved = structuredClone(saved);
    moved.nodes[0]!.position = { x: 5, y: 2 };
    expect(hasUnsavedChanges(moved, fingerprint(saved))).toBe(true);
  });
});
