// What the node components need to know beyond their own data: node types,
// problems and compare colours. Shared through context so changing a marker
// does not rebuild the (possibly 1,000-entry) node array.
import { getContext, setContext } from 'svelte';
import type { NodeType } from './api/types';
import type { ChangeKind } from './diff';
import type { LocatedProblem } from './problems';

/** What a run says about one step, drawn on the node (run detail, test runs). */
export interface StepMark {
  status: string;
  attempts: number;
  duration: string;
}

export class CanvasView {
  types = $state.raw<Map<string, NodeType>>(new Map());
  problems = $state.raw<Map<string, LocatedProblem[]>>(new Map());
  diff = $state.raw<Map<string, ChangeKind>>(new Map());
  highlighted = $state<string | null>(null);
  /** Step statuses of the run shown on this canvas (null: no run shown). */
  steps = $state.raw<Map<string, StepMark> | null>(null);
}

const KEY = Symbol('canvas-view');

export function provideCanvasView(view: CanvasView): CanvasView {
  return setContext(KEY, view);
}

export function canvasView(): CanvasView {
  return getContext<CanvasView>(KEY);
}
