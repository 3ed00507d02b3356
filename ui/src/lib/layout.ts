// Automatic layout (dagre, left to right). Used by the "Auto-layout" button.
import dagre from '@dagrejs/dagre';
import type { DefinitionEdge } from './api/types';
import { NODE_HEIGHT, NODE_WIDTH } from './graph';

export interface Positioned {
  id: string;
}

/** New top-left positions for every node, ranked along the edges. */
export function layoutPositions(
  nodes: readonly Positioned[],
  edges: readonly Pick<DefinitionEdge, 'from' | 'to'>[],
): Map<string, { x: number; y: number }> {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 80, marginx: 0, marginy: 0 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) graph.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of edges) {
    if (graph.hasNode(edge.from) && graph.hasNode(edge.to)) graph.setEdge(edge.from, edge.to);
  }
  dagre.layout(graph);
  const positions = new Map<string, { x: number; y: number }>();
  for (const node of nodes) {
    const placed = graph.node(node.id);
    positions.set(node.id, {
      x: Math.round(placed.x - NODE_WIDTH / 2),
      y: Math.round(placed.y - NODE_HEIGHT / 2),
    });
  }
  return positions;
}
