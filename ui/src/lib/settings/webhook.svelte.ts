// One workflow's webhook: its URL, how requests are signed, rotation, a test
// delivery and the recent deliveries (the API calls: ports.ts, webhookPort).
import { formProblem } from './problems';

export interface WebhookInfo {
  url: string;
  methods?: string[];
  target?: unknown;
  signing?: { scheme?: string; header?: string; enabled?: boolean; [key: string]: unknown } | string | null;
}

export interface Delivery {
  id?: string | number;
  received_at?: string;
  at?: string;
  created_at?: string;
  method?: string;
  status?: number | string;
  run_id?: string | null;
  error?: string | { message?: string } | null;
  /** The check that refused the request (4xx), as the API names it. */
  failure?: string | null;
}

export interface TestResult {
  status?: number | string;
  run_id?: string | null;
  [key: string]: unknown;
}

export interface WebhookPort {
  get(): Promise<WebhookInfo>;
  rotate(): Promise<WebhookInfo>;
  deliveries(): Promise<Delivery[]>;
  test(body: unknown): Promise<TestResult>;
}

// The API's `signing`: which check a request must pass (docs/webhooks.md).
const SCHEMES: Record<string, string> = {
  none: 'Not signed: anyone who knows the URL can call it.',
  hmac: 'HMAC-SHA256: header X-MeshHook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">',
  jwt: 'JWT: header Authorization: Bearer <token> (exp required; iss and aud checked when set)',
};

/** A sentence describing how requests must be signed. */
export function signingText(signing: WebhookInfo['signing']): string {
  if (!signing) return 'Not signed: anyone who knows the URL can call it.';
  if (typeof signing === 'string') return SCHEMES[signing] ?? signing;
  if (signing.scheme === 'none' || signing.enabled === false) return 'Not signed: anyone who knows the URL can call it.';
  const scheme = signing.scheme ?? 'hmac-sha256';
  const header = signing.header ?? 'X-MeshHook-Signature';
  return `${scheme}: header ${header}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`;
}

export function deliveryTime(delivery: Delivery): string | null {
  return delivery.received_at ?? delivery.at ?? delivery.created_at ?? null;
}

export function deliveryError(delivery: Delivery): string | null {
  if (delivery.failure) return delivery.failure;
  if (!delivery.error) return null;
  return typeof delivery.error === 'string' ? delivery.error : (delivery.error.message ?? null);
}

export class WebhookState {
  info = $state<WebhookInfo | null>(null);
  deliveries = $state<Delivery[]>([]);
  loading = $state(true);
  /** Set when the server has no webhook for this workflow (or no webhook API). */
  missing = $state<string | null>(null);
  error = $state<string | null>(null);
  busy = $state(false);
  rotating = $state(false);
  testBody = $state('{\n  "hello": "world"\n}');
  testProblem = $state<{ message: string; fields: Record<string, string> } | null>(null);
  testResult = $state<TestResult | null>(null);

  constructor(private readonly port: WebhookPort) {}

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    this.missing = null;
    try {
      this.info = await this.port.get();
      this.deliveries = await this.port.deliveries().catch(() => []);
    } catch (failure) {
      const status = (failure as { status?: number }).status;
      if (status === 404) this.missing = formProblem(failure).message;
      else this.error = formProblem(failure).message;
    } finally {
      this.loading = false;
    }
  }

  async rotate(): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      this.info = await this.port.rotate();
      this.rotating = false;
      return true;
    } catch (failure) {
      this.error = formProblem(failure).message;
      return false;
    } finally {
      this.busy = false;
    }
  }

  async sendTest(): Promise<boolean> {
    let body: unknown;
    try {
      body = this.testBody.trim() ? JSON.parse(this.testBody) : {};
    } catch (failure) {
      this.testProblem = { message: 'The test body is not JSON.', fields: { body: String(failure) } };
      return false;
    }
    this.busy = true;
    this.testProblem = null;
    this.testResult = null;
    try {
      this.testResult = await this.port.test({ body });
      this.deliveries = await this.port.deliveries().catch(() => this.deliveries);
      return true;
    } catch (failure) {
      this.testProblem = formProblem(failure);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
