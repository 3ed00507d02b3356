import { describe, expect, it } from 'vitest';
import type { Definition } from '../src/lib/api/types';
import { locateProblems, problemsByNode } from '../src/lib/problems';

const definition: Definition = {
  nodes: [
    { id: 'start', type: 'manual', config: {} },
    { id: 'send', type: 'http_call', config: {} },
    { id: 'end', type: 'terminate', config: {} },
  ],
  edges: [
    { from: 'start', to: 'send' },
    { from: 'end', to: 'send' },
  ],
  settings: {},
};

describe('locateProblems', () => {
  it('puts node problems on the node and config problems on the field', () => {
    const [located] = locateProblems(definition, [
      { path: '/nodes/1/config/url', code: 'config.schema', message: 'url is required', severity: 'error' },
    ]);
    expect(located).toMatchObject({ nodeId: 'send', field: '/url', edgeId: null });
  });

  it('reads pointers of a refused save (prefixed /definition) the same way', () => {
    const [located] = locateProblems(definition, [
      { path: '/definition/nodes/2/type', code: 'node.unknown_type', message: '?', severity: 'error' },
    ]);
    expect(located?.nodeId).toBe('end');
  });

  it('shows an edge problem on the edge and on the node it leaves from', () => {
    const [located] = locateProblems(definition, [
      { path: '/edges/1', code: 'terminate.has_outgoing', message: 'x', severity: 'error' },
    ]);
    expect(located).toMatchObject({ nodeId: 'end', edgeId: 'end->send' });
  });

  it('keeps workflow-wide problems without a node', () => {
    const [located] = locateProblems(definition, [
      { path: '/nodes', code: 'graph.no_trigger', message: 'x', severity: 'error' },
    ]);
    expect(located?.nodeId).toBeNull();
  });

  it('groups by node with errors first', () => {
    const grouped = problemsByNode(
      locateProblems(definition, [
        { path: '/nodes/1', code: 'graph.unreachable', message: 'w', severity: 'warning' },
        { path: '/nodes/1/config/url', code: 'config.schema', message: 'e', severity: 'error' },
      ]),
    );
    expect(grouped.get('send')?.map((p) => p.severity)).toEqual(['error', 'warning']);
  });
});
