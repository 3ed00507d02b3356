import { describe, expect, it } from 'vitest';
import { manualInputSchema, TestRun, type TestRunDeps } from '../src/lib/editor.svelte';
import { RunWatch, type StreamSource } from '../src/lib/runWatch.svelte';
import type { Run } from '../src/lib/runs';

function memoryStorage(): Storage {
  const data = new Map<string, string>();
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
  } as unknown as Storage;
}

function fakeWatch(runId: string, emit: (listener: (m: MessageEvent) => void) => void): RunWatch {
  const source: StreamSource = {
    readyState: 1,
    onerror: null,
    onopen: null,
    addEventListener(type: string, listener: (m: MessageEvent) => void) {
      if (type === 'step.started') emit(listener);
    },
    close() {},
  };
  return new RunWatch('p', runId, {
    open: () => source,
    schedule: (flush) => flush(),
    load: async () => ({ id: runId, status: 'running' }) as unknown as Run,
  });
}

function setup(overrides: Partial<TestRunDeps> = {}) {
  const started: unknown[] = [];
  let saves = 0;
  const deps: TestRunDeps = {
    storage: memoryStorage(),
    start: async (input) => {
      started.push(input);
      return { id: 'run-1' } as unknown as Run;
    },
    watch: (id) => fakeWatch(id, () => {}),
    save: async () => {
      saves += 1;
      return true;
    },
    dirty: () => false,
    ...overrides,
  };
  return { test: new TestRun('p', 'wf', deps), started, saves: () => saves, deps };
}

describe('TestRun', () => {
  it('prefills the input from the trigger schema, then from the last input', async () => {
    const { test } = setup();
    test.openDialog({ type: 'object', properties: { n: { type: 'integer', examples: [3] } } });
    expect(JSON.parse(test.text)).toEqual({ n: 3 });
    test.text = '{"n": 5}';
    expect(await test.run()).toBe(true);
    test.openDialog({ type: 'object' });
    expect(test.text).toBe('{"n": 5}');
  });

  it('refuses input that is not JSON and starts nothing', async () => {
    const { test, started } = setup();
    test.openDialog(undefined);
    test.text = '{nope';
    expect(await test.run()).toBe(false);
    expect(test.error).toMatch(/not JSON/);
    expect(started).toEqual([]);
  });

  it('saves a dirty canvas first, and runs nothing when saving fails', async () => {
    const ok = setup({ dirty: () => true });
    ok.test.openDialog(undefined);
    await ok.test.run();
    expect(ok.saves()).toBe(1);
    expect(ok.started).toHaveLength(1);

    const failing = setup({ dirty: () => true, save: async () => false });
    failing.test.openDialog(undefined);
    expect(await failing.test.run()).toBe(false);
    expect(failing.started).toEqual([]);
    expect(failing.test.open).toBe(true);
  });

  it('shows the run on the canvas and gives each step its input', async () => {
    const { test } = setup({
      watch: (id) =>
        fakeWatch(id, (listener) =>
          listener({
            data: JSON.stringify({ seq: 1, type: 'step.started', node_id: 'calc', at: new Date().toISOString(), data: { attempt: 1, input: { a: 1 } } }),
          } as MessageEvent),
        ),
    });
    expect(test.marks(0)).toBeNull();
    test.openDialog(undefined);
    await test.run();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(test.marks(Date.now())?.get('calc')?.status).toBe('running');
    expect(test.inputOf('calc')).toEqual({ found: true, value: { a: 1 } });
    expect(test.inputOf('other').found).toBe(false);
    expect(test.running).toBe(true);
    test.clear();
    expect(test.marks(0)).toBeNull();
  });

  it('finds the manual trigger input schema', () => {
    const schema = { type: 'object' };
    expect(manualInputSchema([{ data: { type: 'webhook', config: {} } }, { data: { type: 'manual', config: { input_schema: schema } } }])).toBe(schema);
  });
});

describe('EditHistory', () => {
  it('undoes and redoes, one step per burst of edits of one field', async () => {
    const { EditHistory } = await import('../src/lib/editor.svelte');
    let state = 'a';
    let time = 0;
    const history = new EditHistory(() => state, 10, () => time);
    expect(history.canUndo).toBe(false);
    history.record('name');
    state = 'ab';
    time = 500;
    expect(history.record('name')).toBe(false);
    state = 'abc';
    time = 3000;
    expect(history.record('name')).toBe(true);
    state = 'abcd';
    expect(history.canUndo).toBe(true);
    expect(history.undo()).toBe('abc');
    state = 'abc';
    expect(history.canRedo).toBe(true);
    expect(history.undo()).toBe('a');
    state = 'a';
    expect(history.canUndo).toBe(false);
    expect(history.redo()).toBe('abc');
    history.clear();
    expect(history.canUndo || history.canRedo).toBe(false);
  });
});

describe('StepClipboard', () => {
  it('copies steps with their inner edges and pastes them further each time', async () => {
    const { StepClipboard } = await import('../src/lib/editor.svelte');
    const node = (id: string, x: number) => ({
      id,
      type: 'step' as const,
      position: { x, y: 0 },
      data: { type: 'transform', name: id, config: { expression: '@' } },
    });
    const a = node('a', 0);
    const b = node('b', 100);
    const edges = [
      { id: 'a->b', source: 'a', target: 'b', data: { when: null } },
      { id: 'b->c', source: 'b', target: 'c', data: { when: null } },
    ];
    const clipboard = new StepClipboard();
    expect(clipboard.holds).toBe(false);
    expect(clipboard.paste(new Set())).toBeNull();
    expect(clipboard.copy([a, b], edges)).toBe(2);
    a.data.config.expression = 'changed';
    const first = clipboard.paste(new Set(['a', 'b', 'c']));
    expect(first?.nodes).toHaveLength(2);
    expect(first?.edges).toHaveLength(1);
    expect(first?.nodes.some((n) => n.id === 'a' || n.id === 'b')).toBe(false);
    expect(first?.nodes[0]?.data.config).toEqual({ expression: '@' });
    expect(first?.nodes[0]?.position).toEqual({ x: 40, y: 40 });
    const second = clipboard.paste(new Set(['a', 'b', 'c']));
    expect(second?.nodes[0]?.position).toEqual({ x: 80, y: 40 + 40 });
    const dup = clipboard.duplicate([b], edges, new Set(['a', 'b', 'c']));
    expect(dup?.nodes[0]?.position).toEqual({ x: 140, y: 40 });
    expect(dup?.edges).toEqual([]);
  });
});
