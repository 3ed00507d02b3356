import { describe, expect, it } from 'vitest';
import {
  applyEvents,
  describeEvent,
  emptyFold,
  exampleFromSchema,
  foldEvents,
  formatDuration,
  ganttBars,
  lastTestInput,
  rememberTestInput,
  type RunEvent,
} from '../src/lib/runs';

const T0 = Date.parse('2026-01-01T00:00:00Z');
let seq = 0;
function ev(type: string, node: string | null, ms: number, data: Record<string, unknown> = {}): RunEvent {
  seq += 1;
  return { seq, type, node_id: node, at: new Date(T0 + ms).toISOString(), data };
}

describe('foldEvents', () => {
  it('follows each step through its attempts to success', () => {
    seq = 0;
    const events = [
      ev('run.queued', null, 0),
      ev('run.started', null, 1),
      ev('step.started', 'start', 2, { attempt: 1, input: { a: 1 } }),
      ev('step.succeeded', 'start', 3, { attempt: 1, output: { a: 1 } }),
      ev('step.started', 'call', 10, { attempt: 1, input: { a: 1 } }),
      ev('step.retry_scheduled', 'call', 60, {
        attempt: 1,
        error: { code: 'http.status', message: 'x answered 503' },
        request: { url: 'http://x/', headers: { authorization: '***' } },
        response: { status: 503 },
      }),
      ev('step.started', 'call', 100, { attempt: 2, input: { a: 1 } }),
      ev('step.succeeded', 'call', 150, { attempt: 2, output: { ok: true }, response: { status: 200 } }),
      ev('run.succeeded', null, 151),
    ];
    const fold = foldEvents(events);
    expect(fold.status).toBe('succeeded');
    const call = fold.steps.get('call');
    expect(call?.status).toBe('succeeded');
    expect(call?.attemptCount).toBe(2);
    expect(call?.attempts.map((a) => a.outcome)).toEqual(['retry', 'succeeded']);
    expect(call!.attempts[0]!.request).toEqual({ url: 'http://x/', headers: { authorization: '***' } });
    expect(call!.attempts[0]!.finishedAt! - call!.attempts[0]!.startedAt!).toBe(50);
    expect(call?.finishedAt! - call!.startedAt!).toBe(140);
    expect(call?.input).toEqual({ a: 1 });
  });

  it('marks a failed step and ignores events it has already applied', () => {
    seq = 0;
    const fold = emptyFold();
    const first = [ev('run.started', null, 0), ev('step.started', 'n', 1, { attempt: 1, input: 1 })];
    applyEvents(fold, first);
    const failed = ev('step.failed', 'n', 5, { attempt: 1, error: { code: 'x', message: 'boom' } });
    applyEvents(fold, [...first, failed, ev('run.failed', null, 6, { error: { message: 'boom' } })]);
    expect(fold.steps.get('n')?.status).toBe('failed');
    expect(fold.steps.get('n')?.attempts).toHaveLength(1);
    expect(fold.steps.get('n')?.error?.message).toBe('boom');
    expect(fold.status).toBe('failed');
  });

  it('waits on a timer, and cancelling ends the steps in flight', () => {
    seq = 0;
    const fold = foldEvents([
      ev('run.started', null, 0),
      ev('step.started', 'wait', 1, { attempt: 1, input: {} }),
      ev('timer.started', 'wait', 2, { due_at: '2026-01-01T00:01:00Z' }),
    ]);
    expect(fold.steps.get('wait')?.status).toBe('waiting');
    applyEvents(fold, [ev('run.cancelled', null, 3)]);
    expect(fold.steps.get('wait')?.status).toBe('cancelled');
  });

  it('keeps reused steps without attempts of their own', () => {
    seq = 0;
    const fold = foldEvents([ev('step.succeeded', 'start', 0, { attempt: 1, output: 1, reused_from: 'r0' })]);
    expect(fold.steps.get('start')?.reusedFrom).toBe('r0');
    expect(fold.steps.get('start')?.attempts).toHaveLength(0);
  });
});

describe('ganttBars', () => {
  it('places each step on the run span', () => {
    seq = 0;
    const fold = foldEvents([
      ev('run.started', null, 0),
      ev('step.started', 'a', 0, { attempt: 1 }),
      ev('step.succeeded', 'a', 100, { attempt: 1 }),
      ev('step.started', 'b', 100, { attempt: 1 }),
      ev('step.succeeded', 'b', 400, { attempt: 1 }),
      ev('run.succeeded', null, 400),
    ]);
    const { bars, span } = ganttBars(fold, T0 + 1000);
    expect(span).toBe(400);
    expect(bars.map((b) => [b.nodeId, b.left, b.width])).toEqual([
      ['a', 0, 0.25],
      ['b', 0.25, 0.75],
    ]);
  });
});

describe('helpers', () => {
  it('formats durations', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(12)).toBe('12 ms');
    expect(formatDuration(1500)).toBe('1.50 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
  });

  it('builds an example input from a schema', () => {
    const schema = {
      type: 'object',
      properties: {
        id: { type: 'integer', minimum: 1 },
        name: { type: 'string', examples: ['Ada'] },
        tags: { type: 'array', items: { type: 'string' } },
        kind: { enum: ['a', 'b'] },
      },
    };
    expect(exampleFromSchema(schema)).toEqual({ id: 1, name: 'Ada', tags: [''], kind: 'a' });
    expect(exampleFromSchema(undefined)).toEqual({});
  });

  it('describes failures with their message', () => {
    seq = 0;
    expect(describeEvent(ev('step.failed', 'n', 0, { attempt: 3, error: { message: 'boom' } }))).toBe('boom (attempt 3)');
  });

  it('remembers the last test input per workflow', () => {
    const data = new Map<string, string>();
    const storage = {
      getItem: (k: string) => data.get(k) ?? null,
      setItem: (k: string, v: string) => void data.set(k, v),
    } as unknown as Storage;
    rememberTestInput(storage, 'p', 'w1', '{"a":1}');
    expect(lastTestInput(storage, 'p', 'w1')).toBe('{"a":1}');
    expect(lastTestInput(storage, 'p', 'w2')).toBeNull();
  });
});

describe('seedFromSteps and stepMarks', async () => {
  const { seedFromSteps, stepMarks } = await import('../src/lib/runs');

  it('colours the steps from the served run before any event, and events take over', () => {
    seq = 0;
    const fold = emptyFold();
    seedFromSteps(fold, {
      status: 'failed',
      started_at: '2026-01-01T00:00:00Z',
      finished_at: '2026-01-01T00:00:01Z',
      steps: [
        { node_id: 'a', status: 'succeeded', attempts: 1, started_at: null, finished_at: null, output: 1, error: null },
        { node_id: 'b', status: 'failed', attempts: 3, started_at: null, finished_at: null, output: null, error: { message: 'x' } },
      ],
    });
    expect(fold.steps.get('b')?.status).toBe('failed');
    expect(fold.steps.get('b')?.attemptCount).toBe(3);
    applyEvents(fold, [ev('step.started', 'b', 0, { attempt: 1, input: 7 })]);
    expect(fold.steps.get('b')?.input).toBe(7);
  });

  it('keeps the mark object of a step that did not change', () => {
    seq = 0;
    const fold = foldEvents([
      ev('step.started', 'a', 0, { attempt: 1 }),
      ev('step.succeeded', 'a', 5, { attempt: 1 }),
      ev('step.started', 'b', 5, { attempt: 1 }),
    ]);
    const first = stepMarks(fold, T0 + 100, null);
    applyEvents(fold, [ev('step.succeeded', 'b', 200, { attempt: 1 })]);
    const second = stepMarks(fold, T0 + 300, first);
    expect(second.get('a')).toBe(first.get('a'));
    expect(second.get('b')).not.toBe(first.get('b'));
    expect(second.get('b')?.status).toBe('succeeded');
  });
});
