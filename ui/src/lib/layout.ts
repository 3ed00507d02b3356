// Automatic layout (dagre, left to right). Used by the "Auto-layout" button.
// A step with several outputs (a branch: `true`, `false`) gets its children in
// the order of its outputs, top to bottom, as its handles are drawn: otherwise
// dagre may put the `false` target above the `true` one and cross the edges.
import dagre from '@dagrejs/dagre';
import { NODE_HEIGHT, NODE_WIDTH } from './graph';

export interface Positioned {
  id: string;
}

export interface LayoutEdge {
  from: string;
  to: string;
  /** The output the edge leaves from (a branch's `true` / `false`). */
  when?: string | null;
}

/**
 * New top-left positions for every node, ranked along the edges.
 * `outputs` gives each multi-output node's outputs in drawing order.
 */
export function layoutPositions(
  nodes: readonly Positioned[],
  edges: readonly LayoutEdge[],
  outputs: ReadonlyMap<string, readonly string[]> = new Map(),
): Map<string, { x: number; y: number }> {
  const rank = (edge: LayoutEdge): number => {
    const order = outputs.get(edge.from);
    const index = order && edge.when ? order.indexOf(edge.when) : -1;
    return index < 0 ? Number.MAX_SAFE_INTEGER : index;
  };
  // Dagre's first ordering follows the order edges are added: add them by output.
  const ordered = [...edges].sort((a, b) => (a.from === b.from ? rank(a) - rank(b) : 0));
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 80, marginx: 0, marginy: 0 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) graph.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of ordered) {
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
  orderChildrenByOutput(ordered, outputs, positions);
  return positions;
}

/**
 * Crossing minimisation may still swap a branch's children: give the children
 * that sit in one column the same places, in output order (their places, not
 * new ones, so nothing else moves).
 */
function orderChildrenByOutput(
  edges: readonly LayoutEdge[],
  outputs: ReadonlyMap<string, readonly string[]>,
  positions: Map<string, { x: number; y: number }>,
): void {
  for (const [source, names] of outputs) {
    if (names.length < 2) continue;
    const targets: string[] = [];
    for (const name of names) {
      for (const edge of edges) {
        if (edge.from === source && edge.when === name && !targets.includes(edge.to)) targets.push(edge.to);
      }
    }
    const columns = new Map<number, string[]>();
    for (const target of targets) {
      const at = positions.get(target);
      if (!at) continue;
      columns.set(at.x, [...(columns.get(at.x) ?? []), target]);
    }
    for (const column of columns.values()) {
      const places = column.map((id) => positions.get(id)?.y ?? 0).sort((a, b) => a - b);
      column.forEach((id, index) => {
        const at = positions.get(id);
        if (at) positions.set(id, { x: at.x, y: places[index] ?? at.y });
      });
    }
  }
}

/**
 * The free place nearest to `at` for a new step: `at` itself when no step
 * overlaps it, else the closest spot on a grid around it that none overlaps.
 */
export function freeSpot(
  at: { x: number; y: number },
  taken: readonly { x: number; y: number }[],
  gap = 24,
): { x: number; y: number } {
  const overlaps = (spot: { x: number; y: number }) =>
    taken.some(
      (other) => Math.abs(other.x - spot.x) < NODE_WIDTH + gap && Math.abs(other.y - spot.y) < NODE_HEIGHT + gap,
    );
  const stepX = NODE_WIDTH + gap;
  const stepY = NODE_HEIGHT + gap;
  for (let ring = 0; ring <= 12; ring += 1) {
    const spots: { x: number; y: number }[] = [];
    for (let dx = -ring; dx <= ring; dx += 1) {
      for (let dy = -ring; dy <= ring; dy += 1) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue;
        spots.push({ x: at.x + dx * stepX, y: at.y + dy * stepY });
      }
    }
    // Nearest first; below before above, right before left (reading order).
    spots.sort((a, b) => Math.hypot(a.x - at.x, a.y - at.y) - Math.hypot(b.x - at.x, b.y - at.y) || b.y - a.y || b.x - a.x);
    const free = spots.find((spot) => !overlaps(spot));
    if (free) return free;
  }
  return at;
}
