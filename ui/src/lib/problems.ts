// Put the server's problems (JSON Pointers into the definition) on nodes and edges.
import type { Definition, Problem } from './api/types';
import { edgeId } from './graph';
import { parsePointer } from './pointer';

export interface LocatedProblem extends Problem {
  /** The node the problem is about, when there is one. */
  nodeId: string | null;
  /** The canvas edge id the problem is about, when there is one. */
  edgeId: string | null;
  /** The config field inside the node (`/url`), when there is one. */
  field: string | null;
}

/**
 * Resolve each problem's pointer against the definition it was computed for.
 * Paths may be prefixed with `/definition` (a refused save's body pointer).
 */
export function locateProblems(definition: Definition, problems: readonly Problem[]): LocatedProblem[] {
  return problems.map((problem) => {
    let parts: string[];
    try {
      parts = parsePointer(problem.path);
    } catch {
      parts = [];
    }
    if (parts[0] === 'definition') parts = parts.slice(1);
    const located: LocatedProblem = { ...problem, nodeId: null, edgeId: null, field: null };
    const index = Number(parts[1]);
    if (parts[0] === 'nodes' && Number.isInteger(index)) {
      const node = definition.nodes[index];
      if (node) {
        located.nodeId = node.id;
        if (parts[2] === 'config' && parts.length > 3) {
          located.field = '/' + parts.slice(3).join('/');
        }
      }
    } else if (parts[0] === 'edges' && Number.isInteger(index)) {
      const edge = definition.edges[index];
      if (edge) {
        located.edgeId = edgeId(edge);
        // An edge problem is shown on the node it leaves from as well.
        located.nodeId = edge.from;
      }
    }
    return located;
  });
}

/** Problems grouped by node id, errors first. */
export function problemsByNode(problems: readonly LocatedProblem[]): Map<string, LocatedProblem[]> {
  const grouped = new Map<string, LocatedProblem[]>();
  for (const problem of problems) {
    if (!problem.nodeId) continue;
    const list = grouped.get(problem.nodeId) ?? [];
    list.push(problem);
    grouped.set(problem.nodeId, list);
  }
  for (const list of grouped.values()) {
    list.sort((a, b) => Number(a.severity !== 'error') - Number(b.severity !== 'error'));
  }
  return grouped;
}
