import { describe, expect, it } from 'vitest';
import { RunWatch, type StreamSource } from '../src/lib/runWatch.svelte';
import type { Run } from '../src/lib/runs';

class FakeSource implements StreamSource {
  listeners = new Map<string, ((event: MessageEvent) => void)[]>();
  readyState = 1;
  closed = false;
  onerror: ((event: Event) => void) | null = null;
  onopen: ((event: Event) => void) | null = null;
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  emit(seq: number, type: string, node: string | null = null, data: Record<string, unknown> = {}): void {
    const payload = { seq, type, node_id: node, at: new Date(1_000 + seq).toISOString(), data };
    for (const listener of this.listeners.get(type) ?? []) listener({ data: JSON.stringify(payload) } as MessageEvent);
  }
}

const RUN = { id: 'r1', status: 'running', steps: [] } as unknown as Run;

function setup() {
  const sources: FakeSource[] = [];
  const flushes: (() => void)[] = [];
  let loads = 0;
  const watch = new RunWatch('p', 'r1', {
    open: (url) => {
      const source = new FakeSource(url);
      sources.push(source);
      return source;
    },
    schedule: (flush) => flushes.push(flush),
    load: async () => {
      loads += 1;
      return RUN;
    },
    retryMs: 0,
  });
  return { watch, sources, flushes, loads: () => loads };
}

describe('RunWatch', () => {
  it('applies a burst of events in one batch per frame', async () => {
    const { watch, sources, flushes } = setup();
    await watch.start();
    expect(sources[0]!.url).toBe('/api/v1/projects/p/runs/r1/events/stream');
    sources[0]!.emit(1, 'run.started');
    for (let i = 0; i < 50; i += 1) sources[0]!.emit(2 + i, 'step.started', `n${i}`, { attempt: 1 });
    expect(flushes).toHaveLength(1);
    expect(watch.events).toHaveLength(0);
    flushes[0]!();
    expect(watch.events).toHaveLength(51);
    expect(watch.fold.steps.size).toBe(50);
    expect(watch.status).toBe('running');
  });

  it('drops repeated events after a reconnection', async () => {
    const { watch, sources, flushes } = setup();
    await watch.start();
    sources[0]!.emit(1, 'run.started');
    sources[0]!.emit(2, 'step.started', 'a', { attempt: 1 });
    flushes[0]!();
    sources[0]!.emit(2, 'step.started', 'a', { attempt: 1 });
    sources[0]!.emit(3, 'step.succeeded', 'a', { attempt: 1 });
    flushes[1]!();
    expect(watch.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('closes the stream after the terminal event and reads the run again', async () => {
    const { watch, sources, flushes, loads } = setup();
    await watch.start();
    sources[0]!.emit(1, 'run.succeeded');
    expect(sources[0]!.closed).toBe(true);
    flushes[0]!();
    await Promise.resolve();
    expect(loads()).toBe(2);
    expect(watch.status).toBe('succeeded');
  });

  it('reopens a stream the server closed before the end', async () => {
    const { watch, sources } = setup();
    await watch.start();
    sources[0]!.readyState = 2;
    sources[0]!.onerror?.(new Event('error'));
    expect(watch.error).toMatch(/reconnecting/);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sources).toHaveLength(2);
    watch.stop();
    expect(sources[1]!.closed).toBe(true);
  });
});

describe('RunWatch without the stream at start', () => {
  it('seeds the steps from the served run and streams only when asked', async () => {
    const sources: StreamSource[] = [];
    const watch = new RunWatch('p', 'r1', {
      open: () => {
        const source = { readyState: 1, onerror: null, onopen: null, addEventListener() {}, close() {} };
        sources.push(source);
        return source;
      },
      schedule: (flush) => flush(),
      load: async () =>
        ({
          id: 'r1',
          status: 'failed',
          started_at: null,
          finished_at: null,
          steps: [{ node_id: 'a', status: 'failed', attempts: 2, started_at: null, finished_at: null, output: null, error: null }],
        }) as unknown as Run,
    });
    await watch.start({ stream: false });
    expect(sources).toHaveLength(0);
    expect(watch.fold.steps.get('a')?.status).toBe('failed');
    expect(watch.status).toBe('failed');
    watch.connect();
    watch.connect();
    expect(sources).toHaveLength(1);
  });

  it('asks the stream for payloads as recorded when an admin reveals the run', async () => {
    const urls: string[] = [];
    const watch = new RunWatch('p', 'r1', {
      open: (url) => {
        urls.push(url);
        return new FakeSource(url);
      },
      schedule: () => {},
      load: async () => RUN,
      reveal: true,
    });
    await watch.start();
    expect(urls).toEqual(['/api/v1/projects/p/runs/r1/events/stream?reveal=true']);
  });
});
