// The read-only views of the history: one old version, or two versions compared.
import { api, unwrap } from './api/client';
import type { CompareResult } from './api/types';
import { compareGraph, type ChangeKind, type CompareGraph } from './diff';
import { normalizeDefinition, toFlow, type StepEdge, type StepNode } from './graph';
import { locateProblems, problemsByNode, type LocatedProblem } from './problems';

export interface VersionView {
  kind: 'version';
  number: number;
  nodes: StepNode[];
  edges: StepEdge[];
  problems: Map<string, LocatedProblem[]>;
}

export interface CompareView {
  kind: 'compare';
  from: number;
  to: number;
  graph: CompareGraph;
  nodes: StepNode[];
  edges: StepEdge[];
  diff: Map<string, ChangeKind>;
}

const VERSION = '/api/v1/projects/{project}/workflows/{workflow}/versions/{number}' as const;

export async function loadVersionView(project: string, workflow: string, number: number): Promise<VersionView> {
  const version = await unwrap(api.GET(VERSION, { params: { path: { project, workflow, number } } }));
  const definition = normalizeDefinition(version.definition);
  return {
    kind: 'version',
    number,
    ...toFlow(definition),
    problems: problemsByNode(locateProblems(definition, version.problems)),
  };
}

/** Canvas nodes and edges for a compare graph; edges carry a `diff-<kind>` class. */
export function compareFlow(graph: CompareGraph): Pick<CompareView, 'nodes' | 'edges' | 'diff'> {
  return {
    nodes: graph.nodes.map(({ node }) => ({
      id: node.id,
      type: 'step',
      position: node.position ?? { x: 0, y: 0 },
      data: { type: node.type, name: node.name ?? '', config: node.config },
    })),
    edges: graph.edges.map(({ edge, id, kind }) => ({
      id,
      source: edge.from,
      target: edge.to,
      sourceHandle: edge.when,
      label: edge.when,
      class: `diff-${kind}`,
      data: { when: edge.when ?? null },
    })),
    diff: new Map(graph.nodes.map((entry) => [entry.node.id, entry.kind] as const)),
  };
}

export async function loadCompareView(project: string, workflow: string, from: number, to: number): Promise<CompareView> {
  const path = { project, workflow };
  const [result, older, newer] = await Promise.all([
    unwrap(api.GET('/api/v1/projects/{project}/workflows/{workflow}/versions/compare', { params: { path, query: { from, to } } })),
    unwrap(api.GET(VERSION, { params: { path: { ...path, number: from } } })),
    unwrap(api.GET(VERSION, { params: { path: { ...path, number: to } } })),
  ]);
  const graph = compareGraph(
    normalizeDefinition(older.definition),
    normalizeDefinition(newer.definition),
    result as unknown as CompareResult,
  );
  return { kind: 'compare', from, to, graph, ...compareFlow(graph) };
}
