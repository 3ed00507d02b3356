import { describe, expect, it } from 'vitest';
import type { Definition, NodeType } from '../src/lib/api/types';
import { connectionProblem, copySteps, newNodeId, toDefinition, toFlow, toFlowEdge, type StepNode } from '../src/lib/graph';
import { layoutPositions } from '../src/lib/layout';
import { UndoStack } from '../src/lib/undo';

const definition: Definition = {
  nodes: [
    { id: 'start', type: 'webhook', name: 'In', config: { methods: ['POST'] }, position: { x: 0, y: 0 } },
    { id: 'check', type: 'branch', config: { condition: 'a' }, position: { x: 280, y: 0 } },
    { id: 'yes', type: 'terminate', config: {}, position: { x: 560, y: -80 } },
  ],
  edges: [
    { from: 'start', to: 'check' },
    { from: 'check', to: 'yes', when: 'true' },
  ],
  settings: { timeout_seconds: 60 },
};

function type(name: string, extra: Partial<NodeType>): NodeType {
  return {
    name,
    title: name,
    description: '',
    category: 'action',
    config_schema: {},
    sensitive_fields: [],
    jmespath_fields: [],
    is_trigger: false,
    max_inputs: null,
    outputs: null,
    ...extra,
  };
}

const types = new Map([
  ['webhook', type('webhook', { max_inputs: 0, is_trigger: true })],
  ['branch', type('branch', { outputs: ['true', 'false'] })],
  ['terminate', type('terminate', { outputs: [] })],
]);

describe('definition ⇄ canvas', () => {
  it('round-trips without changing a byte of meaning, order included', () => {
    const { nodes, edges } = toFlow(definition);
    expect(toDefinition(nodes, edges, definition.settings)).toEqual(definition);
  });

  it('carries branch outputs on handles', () => {
    const { edges } = toFlow(definition);
    expect(edges[1]).toMatchObject({ sourceHandle: 'true', label: 'true', id: 'check->yes:true' });
  });
});

describe('connectionProblem', () => {
  const { nodes, edges } = toFlow(definition);
  const [start, check, yes] = nodes;

  it('refuses edges the server would refuse', () => {
    expect(connectionProblem(check, start, null, edges, types)).toMatch(/trigger/);
    expect(connectionProblem(yes, check, null, edges, types)).toMatch(/ends the run|cycle/);
    expect(connectionProblem(check, check, 'true', edges, types)).toMatch(/itself/);
    expect(connectionProblem(check, yes, 'true', edges, types)).toMatch(/already/);
  });

  it('accepts a new output of a branch', () => {
    expect(connectionProblem(check, yes, 'false', edges, types)).toBeNull();
  });
});

describe('newNodeId', () => {
  it('picks the first free slug for the type', () => {
    expect(newNodeId('http_call', new Set(['http_call_1', 'http_call_2']))).toBe('http_call_3');
  });
});

describe('layoutPositions', () => {
  it('places each node to the right of the ones it follows', () => {
    const positions = layoutPositions(definition.nodes, definition.edges);
    expect(positions.get('check')!.x).toBeGreaterThan(positions.get('start')!.x);
    expect(positions.get('yes')!.x).toBeGreaterThan(positions.get('check')!.x);
  });

  it('lays out 1,000 nodes quickly', () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => ({ id: `n${i}` }));
    const edges = nodes.slice(1).map((n, i) => ({ from: `n${Math.floor(i / 3)}`, to: n.id }));
    const started = performance.now();
    expect(layoutPositions(nodes, edges).size).toBe(1000);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('UndoStack', () => {
  it('undoes and redoes, and a new change forgets the redo branch', () => {
    const stack = new UndoStack<number>();
    stack.record(1);
    stack.record(2);
    expect(stack.undo(3)).toBe(2);
    expect(stack.undo(2)).toBe(1);
    expect(stack.redo(1)).toBe(2);
    stack.record(2);
    expect(stack.canRedo).toBe(false);
    expect(stack.undo(9)).toBe(2);
  });
});

describe('copy, paste and duplicate', () => {
  it('copy the chosen steps with fresh ids and the edges between them', () => {
    const step = (id: string, type: string): StepNode => ({
      id,
      type: 'step',
      position: { x: 10, y: 20 },
      data: { type, name: id.toUpperCase(), config: { url: 'https://x', nested: { a: 1 } } },
    });
    const nodes = [step('check', 'branch'), step('send', 'http_call'), step('other', 'http_call')];
    const edges = [
      toFlowEdge({ from: 'check', to: 'send', when: 'true' }),
      toFlowEdge({ from: 'check', to: 'other', when: 'false' }),
    ];
    const copy = copySteps(nodes.slice(0, 2), edges, new Set(['check', 'send', 'other', 'branch_1']), { x: 40, y: 40 });
    expect(copy.nodes.map((n) => n.id)).toEqual(['branch_2', 'http_call_1']);
    expect(copy.nodes[0]!.position).toEqual({ x: 50, y: 60 });
    expect(copy.nodes[1]!.data.name).toBe('SEND');
    expect(copy.edges.map((e) => [e.source, e.target, e.data?.when])).toEqual([['branch_2', 'http_call_1', 'true']]);
    (copy.nodes[1]!.data.config.nested as { a: number }).a = 2;
    expect((nodes[1]!.data.config.nested as { a: number }).a).toBe(1);
  });
});
