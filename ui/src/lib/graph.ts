// Definition ⇄ canvas. The definition is what the server stores; the canvas
// (Svelte Flow nodes and edges) is what the user edits. Converting back and
// forth keeps node order, so a save only changes what the user changed.
import type { Edge, Node } from '@xyflow/svelte';
import type { Definition, DefinitionEdge, DefinitionNode, NodeType } from './api/types';

export interface StepData extends Record<string, unknown> {
  type: string;
  name: string;
  config: Record<string, unknown>;
}

export type StepNode = Node<StepData, 'step'>;
export type StepEdge = Edge<{ when: string | null }>;

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 64;

export function edgeId(edge: DefinitionEdge): string {
  return `${edge.from}->${edge.to}${edge.when === undefined ? '' : `:${edge.when}`}`;
}

export function toFlowNode(node: DefinitionNode): StepNode {
  return {
    id: node.id,
    type: 'step',
    position: { x: node.position?.x ?? 0, y: node.position?.y ?? 0 },
    data: { type: node.type, name: node.name ?? '', config: node.config ?? {} },
  };
}

export function toFlowEdge(edge: DefinitionEdge): StepEdge {
  const flow: StepEdge = {
    id: edgeId(edge),
    source: edge.from,
    target: edge.to,
    data: { when: edge.when ?? null },
  };
  if (edge.when !== undefined) {
    flow.sourceHandle = edge.when;
    flow.label = edge.when;
  }
  return flow;
}

export function toFlow(definition: Definition): { nodes: StepNode[]; edges: StepEdge[] } {
  return { nodes: definition.nodes.map(toFlowNode), edges: definition.edges.map(toFlowEdge) };
}

/** The definition the canvas shows; positions are rounded (sub-pixel moves are noise). */
export function toDefinition(
  nodes: readonly StepNode[],
  edges: readonly StepEdge[],
  settings: Record<string, unknown>,
): Definition {
  return {
    nodes: nodes.map((node) => {
      const out: DefinitionNode = {
        id: node.id,
        type: node.data.type,
        config: node.data.config,
        position: { x: Math.round(node.position.x), y: Math.round(node.position.y) },
      };
      if (node.data.name) out.name = node.data.name;
      return out;
    }),
    edges: edges.map((edge) => {
      const out: DefinitionEdge = { from: edge.source, to: edge.target };
      const when = edge.data?.when ?? edge.sourceHandle ?? null;
      if (when !== null && when !== undefined) out.when = when;
      return out;
    }),
    settings,
  };
}

/** Normalise a definition from the server (absent config/settings are empty). */
export function normalizeDefinition(raw: unknown): Definition {
  const value = (raw ?? {}) as Partial<Definition>;
  return {
    nodes: (value.nodes ?? []).map((node) => ({ ...node, config: node.config ?? {} })),
    edges: value.edges ?? [],
    settings: value.settings ?? {},
  };
}

/** A fresh node id for `type` that the definition does not use yet (`http_call_2`). */
export function newNodeId(type: string, taken: ReadonlySet<string>): string {
  const base = type.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 56) || 'node';
  for (let n = 1; ; n += 1) {
    const candidate = `${base}_${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Can an edge go from `source` (leaving by `handle`) to `target`? A reason when not. */
export function connectionProblem(
  source: StepNode | undefined,
  target: StepNode | undefined,
  handle: string | null | undefined,
  edges: readonly StepEdge[],
  types: ReadonlyMap<string, NodeType>,
): string | null {
  if (!source || !target) return 'unknown node';
  if (source.id === target.id) return 'a node cannot connect to itself';
  const targetType = types.get(target.data.type);
  if (targetType?.max_inputs === 0) return `${targetType.title} is a trigger: nothing leads into it`;
  const sourceType = types.get(source.data.type);
  if (sourceType?.outputs && sourceType.outputs.length === 0) {
    return `${sourceType.title} ends the run: nothing may follow it`;
  }
  const when = handle ?? null;
  if (edges.some((e) => e.source === source.id && e.target === target.id && (e.data?.when ?? null) === when)) {
    return 'these nodes are already connected';
  }
  if (reaches(target.id, source.id, edges)) return 'that edge would make a cycle';
  return null;
}

function reaches(from: string, to: string, edges: readonly StepEdge[]): boolean {
  const next = new Map<string, string[]>();
  for (const edge of edges) {
    const list = next.get(edge.source) ?? [];
    list.push(edge.target);
    next.set(edge.source, list);
  }
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) ?? []));
  }
  return false;
}

/**
 * Copies of `chosen` steps with fresh ids (and the edges between them),
 * moved by `offset`: what paste and duplicate add. Edges to steps outside the
 * copy are left out; names and configs are deep copies.
 */
export function copySteps(
  chosen: readonly StepNode[],
  edges: readonly StepEdge[],
  taken: ReadonlySet<string>,
  offset: { x: number; y: number },
): { nodes: StepNode[]; edges: StepEdge[] } {
  const used = new Set(taken);
  const ids = new Map<string, string>();
  const nodes = chosen.map((node) => {
    const id = newNodeId(node.data.type, used);
    used.add(id);
    ids.set(node.id, id);
    return {
      id,
      type: 'step' as const,
      position: { x: Math.round(node.position.x + offset.x), y: Math.round(node.position.y + offset.y) },
      // JSON, not structuredClone: canvas data may hold reactive proxies.
      data: JSON.parse(JSON.stringify({ type: node.data.type, name: node.data.name, config: node.data.config })) as StepData,
      selected: true,
    };
  });
  const copied: StepEdge[] = [];
  for (const edge of edges) {
    const from = ids.get(edge.source);
    const to = ids.get(edge.target);
    if (!from || !to) continue;
    const when = edge.data?.when ?? edge.sourceHandle ?? null;
    copied.push(toFlowEdge(when === null ? { from, to } : { from, to, when }));
  }
  return { nodes, edges: copied };
}
