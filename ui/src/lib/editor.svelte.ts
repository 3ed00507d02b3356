// Editor state that is not drawing: kept in runes classes so it can be tested
// without a browser, and the Workbench component stays a view over it.
import { describeError } from './api/client';
import type { StepMark } from './canvas.svelte';
import { exampleFromSchema, lastTestInput, rememberTestInput, stepMarks, TERMINAL_STATUSES, type Run } from './runs';
import type { RunWatch } from './runWatch.svelte';
import { UndoStack } from './undo';
import { copySteps, type StepEdge, type StepNode } from './graph';

export interface TestRunDeps {
  storage: Storage;
  /** Starts a test run of the head draft with this input. */
  start: (input: unknown) => Promise<Run>;
  /** A live view of a run (started by the caller of `run`). */
  watch: (runId: string) => RunWatch;
  /** Saves the canvas when it has unsaved changes; false when it could not. */
  save: () => Promise<boolean>;
  dirty: () => boolean;
}

/**
 * A test run from the editor: the input dialog (prefilled from the last test
 * input of this workflow, else from the trigger's `input_schema`), saving
 * first when the canvas is dirty, then the run watched live on the canvas.
 */
export class TestRun {
  open = $state(false);
  text = $state('');
  error = $state<string | null>(null);
  busy = $state(false);
  watch = $state.raw<RunWatch | null>(null);

  readonly project: string;
  readonly workflowId: string;
  private readonly deps: TestRunDeps;
  private previousMarks: Map<string, StepMark> | null = null;

  constructor(project: string, workflowId: string, deps: TestRunDeps) {
    this.project = project;
    this.workflowId = workflowId;
    this.deps = deps;
  }

  openDialog(inputSchema: unknown): void {
    const last = lastTestInput(this.deps.storage, this.project, this.workflowId);
    this.text = last ?? JSON.stringify(exampleFromSchema(inputSchema ?? { type: 'object' }), null, 2);
    this.error = null;
    this.open = true;
  }

  /** The input as JSON, or an error message. */
  parse(): { ok: true; value: unknown } | { ok: false; message: string } {
    const text = this.text.trim();
    if (!text) return { ok: true, value: {} };
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (failure) {
      return { ok: false, message: `The input is not JSON: ${(failure as Error).message}` };
    }
  }

  async run(): Promise<boolean> {
    const parsed = this.parse();
    if (!parsed.ok) {
      this.error = parsed.message;
      return false;
    }
    this.busy = true;
    this.error = null;
    try {
      if (this.deps.dirty() && !(await this.deps.save())) {
        this.error = 'The workflow could not be saved, so nothing ran: see the message above the canvas.';
        return false;
      }
      const run = await this.deps.start(parsed.value);
      rememberTestInput(this.deps.storage, this.project, this.workflowId, this.text);
      this.watch?.stop();
      const watch = this.deps.watch(run.id);
      this.watch = watch;
      this.open = false;
      void watch.start();
      return true;
    } catch (failure) {
      this.error = describeError(failure);
      return false;
    } finally {
      this.busy = false;
    }
  }

  get running(): boolean {
    return this.watch !== null && !TERMINAL_STATUSES.has(this.watch.status);
  }

  /** The step marks to draw on the canvas, or null when no test run is shown. */
  marks(now: number): Map<string, StepMark> | null {
    const watch = this.watch;
    if (!watch) return null;
    void watch.version;
    this.previousMarks = stepMarks(watch.fold, now, this.previousMarks);
    return this.previousMarks;
  }

  /** What the step received in the last test run (the JMESPath preview's sample). */
  inputOf(nodeId: string): { found: boolean; value: unknown } {
    const watch = this.watch;
    if (!watch) return { found: false, value: undefined };
    void watch.version;
    const state = watch.fold.steps.get(nodeId);
    return state && state.input !== undefined ? { found: true, value: state.input } : { found: false, value: undefined };
  }

  clear(): void {
    this.watch?.stop();
    this.watch = null;
  }
}

/** The `input_schema` of the definition's manual trigger, if it has one. */
export function manualInputSchema(nodes: readonly { data: { type: string; config: Record<string, unknown> } }[]): unknown {
  const trigger = nodes.find((node) => node.data.type === 'manual');
  return trigger?.data.config.input_schema;
}

/**
 * Undo/redo of the canvas: snapshots taken before each change, where
 * consecutive edits of one field (the same `key` within `coalesceMs`) are one
 * step, so typing a word is undone at once.
 */
export class EditHistory<T> {
  canUndo = $state(false);
  canRedo = $state(false);
  private readonly stack: UndoStack<T>;
  private last = { key: '', at: 0 };

  constructor(
    private readonly capture: () => T,
    limit = 200,
    private readonly clock: () => number = () => Date.now(),
    private readonly coalesceMs = 1500,
  ) {
    this.stack = new UndoStack<T>(limit);
  }

  /** Remember the state before a change; false when it joined the previous step. */
  record(key = ''): boolean {
    const now = this.clock();
    if (key && key === this.last.key && now - this.last.at < this.coalesceMs) {
      this.last.at = now;
      return false;
    }
    this.last = { key, at: now };
    this.stack.record(this.capture());
    this.sync();
    return true;
  }

  /** The state to go back to, or null. */
  undo(): T | null {
    return this.moved(this.stack.undo(this.capture()));
  }

  redo(): T | null {
    return this.moved(this.stack.redo(this.capture()));
  }

  clear(): void {
    this.stack.clear();
    this.last = { key: '', at: 0 };
    this.sync();
  }

  private moved(state: T | null): T | null {
    this.last = { key: '', at: 0 };
    this.sync();
    return state;
  }

  private sync(): void {
    this.canUndo = this.stack.canUndo;
    this.canRedo = this.stack.canRedo;
  }
}

type Steps = { nodes: StepNode[]; edges: StepEdge[] };

/**
 * Copy, paste and duplicate of steps (this tab only): a copy keeps the edges
 * between the copied steps; each paste of one copy lands 40 px further, with
 * fresh ids (`copySteps`).
 */
export class StepClipboard {
  private held: Steps | null = null;
  private pastes = 0;

  get holds(): boolean {
    return this.held !== null && this.held.nodes.length > 0;
  }

  /** Keep plain copies of `selected` and the edges among them; how many were copied. */
  copy(selected: readonly StepNode[], edges: readonly StepEdge[]): number {
    if (selected.length === 0) return 0;
    const ids = new Set(selected.map((n) => n.id));
    // Only what a copy needs, as plain data (the canvas objects carry internals).
    this.held = {
      nodes: selected.map((n) => ({
        id: n.id,
        type: 'step' as const,
        position: { x: n.position.x, y: n.position.y },
        data: JSON.parse(JSON.stringify(n.data)) as StepNode['data'],
      })),
      edges: edges
        .filter((e) => ids.has(e.source) && ids.has(e.target))
        .map((e) => ({ id: e.id, source: e.source, target: e.target, data: { when: e.data?.when ?? null } })),
    };
    this.pastes = 0;
    return selected.length;
  }

  /** New steps for the clipboard's content, clear of `taken` ids; null when empty. */
  paste(taken: Set<string>): Steps | null {
    if (!this.held || this.held.nodes.length === 0) return null;
    return this.place(this.held, taken);
  }

  /** New steps copying `selected` (and their inner edges) at once, without touching the clipboard. */
  duplicate(selected: readonly StepNode[], edges: readonly StepEdge[], taken: Set<string>): Steps | null {
    if (selected.length === 0) return null;
    const ids = new Set(selected.map((n) => n.id));
    this.pastes = 0;
    return this.place({ nodes: [...selected], edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)) }, taken);
  }

  private place(source: Steps, taken: Set<string>): Steps {
    this.pastes += 1;
    return copySteps(source.nodes, source.edges, taken, { x: 40 * this.pastes, y: 40 * this.pastes });
  }
}
