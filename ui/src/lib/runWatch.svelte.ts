// One run watched live: the run as the API serves it, plus its event log read
// from the Server-Sent Events stream and folded per step. Events are buffered
// and applied at most ten times a second (on an animation frame), so a burst of
// hundreds of events per second costs a few updates, and the frames between
// them stay free for scrolling and panning. The browser's EventSource reconnects by
// itself and sends Last-Event-ID; a stream that closed for good (an error
// answer) is reopened after a pause, and the fold ignores repeated events.
import { api, describeError, unwrap } from './api/client';
import { applyEvents, emptyFold, seedFromSteps, TERMINAL_EVENTS, type Run, type RunEvent, type RunFold } from './runs';

export const EVENT_TYPES = [
  'run.queued',
  'run.started',
  'step.started',
  'step.succeeded',
  'step.failed',
  'step.retry_scheduled',
  'step.skipped',
  'timer.started',
  'timer.fired',
  'run.succeeded',
  'run.failed',
  'run.cancelled',
] as const;

export interface StreamSource {
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
  readonly readyState: number;
  onerror: ((event: Event) => void) | null;
  onopen: ((event: Event) => void) | null;
}

export interface WatchOptions {
  /** Opens the event stream (tests pass a fake). */
  open?: (url: string) => StreamSource;
  /** Schedules a flush (tests flush synchronously). */
  schedule?: (flush: () => void) => void;
  /** Reads the run (tests pass a fake). */
  load?: (project: string, run: string) => Promise<Run>;
  retryMs?: number;
  /** Payloads as recorded, not redacted (admin; each read is audited server side). */
  reveal?: boolean;
}

const CLOSED = 2;
/** The most often a batch of events is applied (ms between batches). */
export const FLUSH_MS = 100;

export class RunWatch {
  run = $state.raw<Run | null>(null);
  events = $state.raw<RunEvent[]>([]);
  /** Bumped on every applied batch: readers of `fold` depend on it. */
  version = $state(0);
  live = $state(false);
  error = $state<string | null>(null);
  fold: RunFold = emptyFold();

  readonly project: string;
  readonly runId: string;
  private source: StreamSource | null = null;
  private buffer: RunEvent[] = [];
  private scheduled = false;
  private stopped = false;
  private finished = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private readonly options: Required<WatchOptions>;

  constructor(project: string, runId: string, options: WatchOptions = {}) {
    this.project = project;
    this.runId = runId;
    this.options = {
      open: options.open ?? ((url) => new EventSource(url, { withCredentials: true }) as unknown as StreamSource),
      schedule:
        options.schedule ??
        ((flush) =>
          setTimeout(() => (typeof requestAnimationFrame === 'function' ? requestAnimationFrame(flush) : flush()), FLUSH_MS)),
      load:
        options.load ??
        ((project, run) =>
          unwrap(
            api.GET('/api/v1/projects/{project}/runs/{run}', {
              params: { path: { project, run }, query: options.reveal ? { reveal: true } : {} },
            }),
          )),
      retryMs: options.retryMs ?? 2000,
      reveal: options.reveal ?? false,
    };
  }

  get status(): string {
    void this.version;
    return this.fold.lastSeq > 0 ? this.fold.status : (this.run?.status ?? 'queued');
  }

  /**
   * Read the run and open its event stream, both at once; with
   * `stream: false` the caller opens it later (`connect`), e.g. once the
   * graph is drawn, so a large log does not compete with drawing it.
   */
  async start(options: { stream?: boolean } = {}): Promise<void> {
    if (options.stream !== false) this.connect();
    try {
      this.run = await this.options.load(this.project, this.runId);
    } catch (failure) {
      this.error = describeError(failure);
      this.stop();
      return;
    }
    if (this.fold.lastSeq === 0 && this.buffer.length === 0) {
      seedFromSteps(this.fold, this.run);
      this.version += 1;
    }
  }

  connect(): void {
    if (this.stopped || this.finished || this.source) return;
    const base = `/api/v1/projects/${encodeURIComponent(this.project)}/runs/${encodeURIComponent(this.runId)}/events/stream`;
    const url = this.options.reveal ? `${base}?reveal=true` : base;
    const source = this.options.open(url);
    this.source = source;
    const receive = (message: MessageEvent) => this.receive(message);
    for (const type of EVENT_TYPES) source.addEventListener(type, receive);
    source.addEventListener('message', receive);
    source.onopen = () => {
      this.live = true;
      this.error = null;
    };
    source.onerror = () => {
      this.live = false;
      if (this.finished || this.stopped) return;
      if (source.readyState === CLOSED) {
        // Refused (e.g. the server restarted mid-answer): open a new stream.
        source.close();
        this.source = null;
        this.error = 'The live stream was interrupted; reconnecting…';
        this.retry = setTimeout(() => this.connect(), this.options.retryMs);
      }
    };
  }

  private receive(message: MessageEvent): void {
    let event: RunEvent;
    try {
      event = JSON.parse(String(message.data)) as RunEvent;
    } catch {
      return;
    }
    this.buffer.push(event);
    if (TERMINAL_EVENTS.has(event.type)) {
      // The server ends the stream after this; do not let the browser reopen it.
      this.finished = true;
      this.source?.close();
      this.live = false;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      this.options.schedule(() => this.flush());
    }
  }

  /** Apply what arrived since the last frame. */
  flush(): void {
    this.scheduled = false;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    const fresh = batch.filter((event) => event.seq > this.fold.lastSeq);
    applyEvents(this.fold, fresh);
    if (fresh.length > 0) this.events = [...this.events, ...fresh];
    this.version += 1;
    if (this.finished) {
      performance.mark('meshhook:events-complete');
      void this.refresh();
    }
  }

  /** Read the run again (its output, error and times). */
  async refresh(): Promise<void> {
    try {
      this.run = await this.options.load(this.project, this.runId);
    } catch (failure) {
      this.error = describeError(failure);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.source?.close();
    this.source = null;
    this.live = false;
  }
}
