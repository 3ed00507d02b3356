// What a run's event log says about each step, folded in the browser so the
// run detail (and the editor's test run) update live from the event stream
// with nothing but the events: status, attempts (with the recorded request and
// response), timing for the Gantt bars.
import type { components } from './api/schema';

export type Run = components['schemas']['RunOut'];
export type RunEvent = components['schemas']['EventOut'];

export type StepStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';

export const TERMINAL_EVENTS = new Set(['run.succeeded', 'run.failed', 'run.cancelled']);
export const TERMINAL_STATUSES = new Set(['succeeded', 'failed', 'cancelled']);

export interface Attempt {
  attempt: number;
  startedAt: number | null;
  finishedAt: number | null;
  input: unknown;
  output?: unknown;
  error?: { code?: string; message?: string; [key: string]: unknown } | null;
  request?: unknown;
  response?: unknown;
  outcome: 'running' | 'succeeded' | 'failed' | 'retry';
  takeover?: boolean;
}

export interface StepState {
  nodeId: string;
  status: StepStatus;
  attempts: Attempt[];
  /** How many attempts the engine counted (reused steps have none of their own). */
  attemptCount: number;
  startedAt: number | null;
  finishedAt: number | null;
  input: unknown;
  output: unknown;
  error: Attempt['error'];
  label: string | null;
  dueAt: string | null;
  reusedFrom: string | null;
}

export interface RunFold {
  status: RunStatus;
  steps: Map<string, StepState>;
  startedAt: number | null;
  finishedAt: number | null;
  lastSeq: number;
}

export function emptyFold(): RunFold {
  return { status: 'queued', steps: new Map(), startedAt: null, finishedAt: null, lastSeq: 0 };
}

function step(fold: RunFold, nodeId: string): StepState {
  let found = fold.steps.get(nodeId);
  if (!found) {
    found = {
      nodeId,
      status: 'pending',
      attempts: [],
      attemptCount: 0,
      startedAt: null,
      finishedAt: null,
      input: undefined,
      output: undefined,
      error: null,
      label: null,
      dueAt: null,
      reusedFrom: null,
    };
    fold.steps.set(nodeId, found);
  }
  return found;
}

function attemptOf(state: StepState, number: number, at: number): Attempt {
  let found = state.attempts.find((a) => a.attempt === number);
  if (!found) {
    found = { attempt: number, startedAt: at, finishedAt: null, input: state.input, outcome: 'running' };
    state.attempts.push(found);
  }
  return found;
}

/**
 * Apply events to a fold (in place; events at or below `lastSeq` are ignored,
 * so a reconnected stream that repeats some does no harm). Returns the ids of
 * the steps that changed.
 */
export function applyEvents(fold: RunFold, events: readonly RunEvent[]): Set<string> {
  const changed = new Set<string>();
  for (const event of events) {
    if (event.seq <= fold.lastSeq) continue;
    fold.lastSeq = event.seq;
    const at = Date.parse(event.at);
    const data = (event.data ?? {}) as Record<string, unknown>;
    const number = typeof data.attempt === 'number' ? data.attempt : 1;
    switch (event.type) {
      case 'run.started':
        fold.status = 'running';
        fold.startedAt ??= at;
        break;
      case 'run.succeeded':
      case 'run.failed':
      case 'run.cancelled':
        fold.status = event.type.slice(4) as RunStatus;
        fold.finishedAt = at;
        if (event.type === 'run.cancelled') {
          for (const state of fold.steps.values()) {
            if (state.status === 'running' || state.status === 'waiting' || state.status === 'pending') {
              state.status = 'cancelled';
              state.finishedAt ??= at;
              changed.add(state.nodeId);
            }
          }
        }
        break;
      default:
        break;
    }
    if (!event.node_id) continue;
    const state = step(fold, event.node_id);
    changed.add(state.nodeId);
    if (typeof data.reused_from === 'string') state.reusedFrom = data.reused_from;
    switch (event.type) {
      case 'step.started': {
        fold.status = fold.status === 'queued' ? 'running' : fold.status;
        state.status = 'running';
        state.input = data.input;
        state.startedAt ??= at;
        state.finishedAt = null;
        state.attemptCount = Math.max(state.attemptCount, number);
        const attempt = attemptOf(state, number, at);
        attempt.startedAt = at;
        attempt.input = data.input;
        if (data.takeover) attempt.takeover = true;
        break;
      }
      case 'step.succeeded': {
        state.status = 'succeeded';
        state.output = data.output;
        state.error = null;
        state.label = typeof data.label === 'string' ? data.label : null;
        state.startedAt ??= at;
        state.finishedAt = at;
        if (state.reusedFrom === null || state.attempts.length > 0 || 'request' in data) {
          const attempt = attemptOf(state, number, at);
          Object.assign(attempt, { finishedAt: at, output: data.output, outcome: 'succeeded' });
          if ('request' in data) attempt.request = data.request;
          if ('response' in data) attempt.response = data.response;
          state.attemptCount = Math.max(state.attemptCount, number);
        }
        break;
      }
      case 'step.failed':
      case 'step.retry_scheduled': {
        const final = event.type === 'step.failed';
        state.status = final ? 'failed' : 'waiting';
        state.error = (data.error as Attempt['error']) ?? null;
        if (final) state.finishedAt = at;
        if (!final) state.dueAt = typeof data.due_at === 'string' ? data.due_at : null;
        state.startedAt ??= at;
        const attempt = attemptOf(state, number, at);
        Object.assign(attempt, { finishedAt: at, error: state.error, outcome: final ? 'failed' : 'retry' });
        if ('request' in data) attempt.request = data.request;
        if ('response' in data) attempt.response = data.response;
        state.attemptCount = Math.max(state.attemptCount, number);
        break;
      }
      case 'step.skipped':
        state.status = 'skipped';
        state.startedAt ??= at;
        state.finishedAt = at;
        break;
      case 'timer.started':
        state.status = 'waiting';
        state.dueAt = typeof data.due_at === 'string' ? data.due_at : null;
        state.startedAt ??= at;
        break;
      case 'timer.fired':
        state.status = 'running';
        break;
      default:
        break;
    }
  }
  return changed;
}

export function foldEvents(events: readonly RunEvent[]): RunFold {
  const fold = emptyFold();
  applyEvents(fold, events);
  return fold;
}

/**
 * Start a fold from the steps the API serves with the run (status, attempts,
 * times, output, error), so a large run is drawn in colour before its event
 * log has streamed in; the events then fill in the attempts.
 */
export function seedFromSteps(fold: RunFold, run: Pick<Run, 'steps' | 'status' | 'started_at' | 'finished_at'>): void {
  if (fold.lastSeq > 0) return;
  fold.status = run.status as RunStatus;
  fold.startedAt = run.started_at ? Date.parse(run.started_at) : null;
  fold.finishedAt = run.finished_at ? Date.parse(run.finished_at) : null;
  for (const served of run.steps ?? []) {
    const state = step(fold, served.node_id);
    state.status = served.status as StepStatus;
    state.attemptCount = served.attempts;
    state.startedAt = served.started_at ? Date.parse(served.started_at) : null;
    state.finishedAt = served.finished_at ? Date.parse(served.finished_at) : null;
    state.output = served.output;
    state.error = (served.error as Attempt['error']) ?? null;
  }
}

export interface StepMarkLike {
  status: string;
  attempts: number;
  duration: string;
}

/**
 * The marks drawn on the nodes, reusing last time's object for every step
 * whose mark did not change: a node whose mark is the same object does not
 * redraw, so a batch of events touching a few steps redraws only those.
 */
export function stepMarks(fold: RunFold, now: number, previous: Map<string, StepMarkLike> | null): Map<string, StepMarkLike> {
  const out = new Map<string, StepMarkLike>();
  for (const [id, state] of fold.steps) {
    const mark = { status: state.status, attempts: state.attemptCount, duration: formatDuration(stepDuration(state, now)) };
    const before = previous?.get(id);
    out.set(
      id,
      before && before.status === mark.status && before.attempts === mark.attempts && before.duration === mark.duration ? before : mark,
    );
  }
  return out;
}

/** Milliseconds a step took, or has taken so far (`now` for one still going). */
export function stepDuration(state: StepState, now: number): number | null {
  if (state.startedAt === null) return null;
  return Math.max(0, (state.finishedAt ?? now) - state.startedAt);
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A run's duration from its timestamps (to `now` while it is not finished). */
export function runDuration(run: Pick<Run, 'started_at' | 'finished_at' | 'created_at'>, now: number): number | null {
  const start = run.started_at ?? null;
  if (!start) return null;
  const end = run.finished_at ? Date.parse(run.finished_at) : now;
  return Math.max(0, end - Date.parse(start));
}

export interface GanttBar {
  nodeId: string;
  status: StepStatus;
  /** Offset and width as fractions of the whole span (0..1). */
  left: number;
  width: number;
  ms: number | null;
}

/** One bar per step that started, ordered by start, over the run's span. */
export function ganttBars(fold: RunFold, now: number): { bars: GanttBar[]; span: number } {
  const started = [...fold.steps.values()].filter((s) => s.startedAt !== null);
  if (started.length === 0) return { bars: [], span: 0 };
  const origin = Math.min(fold.startedAt ?? Infinity, ...started.map((s) => s.startedAt as number));
  const end = Math.max(fold.finishedAt ?? 0, ...started.map((s) => s.finishedAt ?? now));
  const span = Math.max(1, end - origin);
  const bars = started
    .sort((a, b) => (a.startedAt as number) - (b.startedAt as number) || a.nodeId.localeCompare(b.nodeId))
    .map((s) => {
      const ms = stepDuration(s, now);
      return {
        nodeId: s.nodeId,
        status: s.status,
        left: ((s.startedAt as number) - origin) / span,
        width: Math.max((ms ?? 0) / span, 0.002),
        ms,
      };
    });
  return { bars, span };
}

/** A one-line description of an event for the timeline. */
export function describeEvent(event: RunEvent): string {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const error = data.error as { message?: string } | undefined;
  const attempt = typeof data.attempt === 'number' && data.attempt > 1 ? ` (attempt ${data.attempt})` : '';
  switch (event.type) {
    case 'step.failed':
    case 'step.retry_scheduled':
      return `${error?.message ?? 'failed'}${attempt}`;
    case 'timer.started':
      return `waits until ${String(data.due_at ?? '')}`;
    case 'step.succeeded':
      return `${typeof data.label === 'string' ? `→ ${data.label}` : 'done'}${attempt}${data.reused_from ? ' (reused)' : ''}`;
    case 'run.failed':
      return error?.message ?? '';
    default:
      return attempt.trim();
  }
}

/**
 * Input for a test run: the last one used for this workflow, else an example
 * made from the trigger's `input_schema` (its `examples`, `default`s, or
 * empty values of the right type).
 */
export function exampleFromSchema(schema: unknown, depth = 0): unknown {
  if (!schema || typeof schema !== 'object' || depth > 6) return {};
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  if ('default' in s) return s.default;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = (s.properties ?? {}) as Record<string, unknown>;
      for (const [name, inner] of Object.entries(props)) out[name] = exampleFromSchema(inner, depth + 1);
      return out;
    }
    case 'array':
      return s.items ? [exampleFromSchema(s.items, depth + 1)] : [];
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return s.properties ? exampleFromSchema({ ...s, type: 'object' }, depth) : {};
  }
}

const TEST_INPUT_KEY = 'meshhook.test-input';

export function rememberTestInput(storage: Storage, project: string, workflowId: string, input: string): void {
  try {
    storage.setItem(`${TEST_INPUT_KEY}:${project}:${workflowId}`, input);
  } catch {
    // Storage full or disabled: the next test run starts from the schema again.
  }
}

export function lastTestInput(storage: Storage, project: string, workflowId: string): string | null {
  try {
    return storage.getItem(`${TEST_INPUT_KEY}:${project}:${workflowId}`);
  } catch {
    return null;
  }
}
