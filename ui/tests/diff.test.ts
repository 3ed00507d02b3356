import { describe, expect, it } from 'vitest';
import type { CompareResult, Definition } from '../src/lib/api/types';
import { changeCounts, compareGraph, showValue } from '../src/lib/diff';

const from: Definition = {
  nodes: [
    { id: 'start', type: 'manual', config: {}, position: { x: 0, y: 0 } },
    { id: 'send', type: 'http_call', config: { url: 'https://old' }, position: { x: 200, y: 0 } },
    { id: 'old', type: 'terminate', config: {}, position: { x: 400, y: 0 } },
  ],
  edges: [
    { from: 'start', to: 'send' },
    { from: 'send', to: 'old' },
  ],
  settings: {},
};
const to: Definition = {
  nodes: [
    { id: 'start', type: 'manual', config: {}, position: { x: 10, y: 0 } },
    { id: 'send', type: 'http_call', config: { url: 'https://new' }, position: { x: 200, y: 0 } },
    { id: 'fresh', type: 'transform', config: { expression: '@' }, position: { x: 400, y: 100 } },
  ],
  edges: [
    { from: 'start', to: 'send' },
    { from: 'send', to: 'fresh' },
  ],
  settings: { timeout_seconds: 5 },
};
const result: CompareResult = {
  from: 1,
  to: 2,
  nodes: {
    added: [to.nodes[2]!],
    removed: [from.nodes[2]!],
    changed: [{ id: 'send', fields: [{ path: '/config/url', op: 'replace', old: 'https://old', new: 'https://new', masked: false }] }],
  },
  edges: { added: [{ from: 'send', to: 'fresh' }], removed: [{ from: 'send', to: 'old' }] },
  settings: { changed: [{ path: '/timeout_seconds', op: 'add', new: 5, masked: false }] },
  layout: { moved: [{ id: 'start', old: { x: 0, y: 0 }, new: { x: 10, y: 0 } }] },
  summary: {},
};

describe('compareGraph', () => {
  const graph = compareGraph(from, to, result);
  const kinds = Object.fromEntries(graph.nodes.map((n) => [n.node.id, n.kind]));

  it('colours added, removed, changed and moved nodes', () => {
    expect(kinds).toEqual({ start: 'moved', send: 'changed', fresh: 'added', old: 'removed' });
  });

  it('keeps removed nodes where they were and lists changed fields', () => {
    const old = graph.nodes.find((n) => n.node.id === 'old');
    expect(old?.node.position).toEqual({ x: 400, y: 0 });
    expect(graph.nodes.find((n) => n.node.id === 'send')?.fields.map((f) => f.path)).toEqual(['/config/url']);
  });

  it('shows removed edges next to added ones', () => {
    expect(graph.edges.map((e) => [e.id, e.kind])).toEqual([
      ['start->send', 'unchanged'],
      ['send->fresh', 'added'],
      ['send->old', 'removed'],
    ]);
  });

  it('counts the changes for the legend (moves are not changes)', () => {
    expect(changeCounts(graph)).toEqual({ added: 1, removed: 1, changed: 1 });
    expect(graph.settings).toHaveLength(1);
  });

  it('never shows a masked value', () => {
    expect(showValue({ path: '/config/auth/token', op: 'replace', old: '***', new: '***', masked: true }, 'new')).toBe('***');
    expect(showValue({ path: '/x', op: 'add', new: { a: 1 }, masked: false }, 'old')).toBe('—');
  });
});

describe('compareFlow', () => {
  it('draws every node of both versions and tags edges with their change', async () => {
    const { compareFlow } = await import('../src/lib/versionViews');
    const flow = compareFlow(compareGraph(from, to, result));
    expect(flow.nodes.map((n) => n.id)).toEqual(['start', 'send', 'fresh', 'old']);
    expect(flow.edges.map((e) => e.class)).toEqual(['diff-unchanged', 'diff-added', 'diff-removed']);
    expect(flow.diff.get('send')).toBe('changed');
  });
});
