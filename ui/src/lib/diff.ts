// Compare two versions on the graph: one canvas holding the newer version plus
// what the older one had and the newer lacks, each element tagged with its change.
import type { CompareResult, Definition, DefinitionEdge, DefinitionNode, FieldChange } from './api/types';
import { edgeId } from './graph';

export type ChangeKind = 'added' | 'removed' | 'changed' | 'moved' | 'unchanged';

export interface CompareNode {
  node: DefinitionNode;
  kind: ChangeKind;
  fields: FieldChange[];
}

export interface CompareEdge {
  edge: DefinitionEdge;
  id: string;
  kind: 'added' | 'removed' | 'unchanged';
}

export interface CompareGraph {
  nodes: CompareNode[];
  edges: CompareEdge[];
  settings: FieldChange[];
}

/**
 * Merge `from` and `to` into one graph coloured by `result` (the server's
 * structural diff from `from` to `to`). Removed nodes keep their old place.
 */
export function compareGraph(from: Definition, to: Definition, result: CompareResult): CompareGraph {
  const added = new Set(result.nodes.added.map((node) => node.id));
  const removed = new Set(result.nodes.removed.map((node) => node.id));
  const changed = new Map(result.nodes.changed.map((entry) => [entry.id, entry.fields]));
  const moved = new Set(result.layout.moved.map((entry) => entry.id));

  const nodes: CompareNode[] = to.nodes.map((node) => {
    if (added.has(node.id)) return { node, kind: 'added', fields: [] };
    const fields = changed.get(node.id);
    if (fields) return { node, kind: 'changed', fields };
    return { node, kind: moved.has(node.id) ? 'moved' : 'unchanged', fields: [] };
  });
  for (const node of from.nodes) {
    if (removed.has(node.id)) nodes.push({ node, kind: 'removed', fields: [] });
  }

  const addedEdges = new Set(result.edges.added.map(edgeId));
  const removedEdges = new Set(result.edges.removed.map(edgeId));
  const edges: CompareEdge[] = to.edges.map((edge) => {
    const id = edgeId(edge);
    return { edge, id, kind: addedEdges.has(id) ? 'added' : 'unchanged' };
  });
  for (const edge of from.edges) {
    const id = edgeId(edge);
    if (removedEdges.has(id)) edges.push({ edge, id, kind: 'removed' });
  }
  return { nodes, edges, settings: result.settings.changed };
}

/** Counts for the compare legend. */
export function changeCounts(graph: CompareGraph): Record<'added' | 'removed' | 'changed', number> {
  const counts = { added: 0, removed: 0, changed: 0 };
  for (const entry of graph.nodes) {
    if (entry.kind === 'added' || entry.kind === 'removed' || entry.kind === 'changed') counts[entry.kind] += 1;
  }
  return counts;
}

/** A short display of a changed value (`***` when the server masked it). */
export function showValue(change: FieldChange, side: 'old' | 'new'): string {
  if (change.masked) return '***';
  const value = change[side];
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
