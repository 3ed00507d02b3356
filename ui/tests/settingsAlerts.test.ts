import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/api/client';
import {
  AlertsState,
  attemptText,
  isSecretReference,
  ruleText,
  stateText,
  type AlertDelivery,
  type AlertDestination,
  type AlertDestinationBody,
  type AlertDestinationPatch,
  type AlertRule,
  type AlertRuleBody,
  type AlertRulePatch,
  type AlertsPort,
} from '../src/lib/settings/alerts.svelte';

const AT = '2026-12-03T12:00:00Z';

function rule(body: AlertRuleBody, id: string): AlertRule {
  return {
    id,
    name: body.name,
    kind: body.kind,
    workflow: body.workflow ?? null,
    threshold: body.threshold ?? null,
    window: body.window ?? '1h',
    min_runs: body.min_runs ?? 10,
    cooldown_seconds: body.cooldown_seconds ?? 900,
    destinations: body.destinations ?? [],
    enabled: body.enabled ?? true,
    state: { firing: false, last_fired_at: null, suppressed: 0 },
    created_at: AT,
    created_by: 'a@x.io',
    updated_at: AT,
    updated_by: 'a@x.io',
  };
}

class FakeAlerts implements AlertsPort {
  stored: AlertDestination[] = [];
  saved: AlertRule[] = [];
  sent: AlertDelivery[] = [];
  bodies: AlertRuleBody[] = [];
  answer = 200;
  fail: unknown = null;
  async destinations() {
    return [...this.stored];
  }
  async rules() {
    return this.saved.map((item) => ({ ...item }));
  }
  async deliveries() {
    return [...this.sent];
  }
  async createDestination(body: AlertDestinationBody) {
    if (this.fail) throw this.fail;
    const created: AlertDestination = {
      id: `d${this.stored.length + 1}`,
      name: body.name,
      kind: body.kind,
      url: body.url,
      signing_secret: body.signing_secret ?? null,
      created_at: AT,
      created_by: 'a@x.io',
      updated_at: AT,
      updated_by: 'a@x.io',
    };
    this.stored.push(created);
    return created;
  }
  destinationPatches: AlertDestinationPatch[] = [];
  async updateDestination(id: string, body: AlertDestinationPatch) {
    if (this.fail) throw this.fail;
    this.destinationPatches.push(body);
    const found = this.stored.find((item) => item.id === id)!;
    Object.assign(found, {
      name: body.name ?? found.name,
      url: body.url ? (body.url.startsWith('{{') ? body.url : `${new URL(body.url).origin}/…`) : found.url,
      signing_secret: body.signing_secret ?? found.signing_secret,
    });
    return { ...found };
  }
  async removeDestination(id: string) {
    this.stored = this.stored.filter((item) => item.id !== id);
  }
  async test(id: string) {
    const ok = this.answer < 300;
    const delivery: AlertDelivery = {
      id: `t${this.sent.length + 1}`,
      destination_id: id,
      rule_id: null,
      event: 'alert.test',
      status: ok ? 'delivered' : 'pending',
      attempts: [{ at: AT, status_code: this.answer, latency_ms: 12.4, error: ok ? null : `answered ${this.answer}` }],
      next_attempt_at: ok ? null : AT,
      created_at: AT,
      delivered_at: ok ? AT : null,
      payload: { type: 'alert.test' },
    };
    this.sent.unshift(delivery);
    return delivery;
  }
  async createRule(body: AlertRuleBody) {
    if (this.fail) throw this.fail;
    this.bodies.push(body);
    const created = rule(body, `r${this.saved.length + 1}`);
    this.saved.push(created);
    return created;
  }
  patches: AlertRulePatch[] = [];
  async updateRule(id: string, body: AlertRulePatch) {
    this.patches.push(body);
    const found = this.saved.find((item) => item.id === id)!;
    Object.assign(found, {
      name: body.name ?? found.name,
      threshold: body.threshold ?? found.threshold,
      cooldown_seconds: body.cooldown_seconds ?? found.cooldown_seconds,
    });
    return { ...found };
  }
  async setEnabled(id: string, enabled: boolean) {
    const found = this.saved.find((item) => item.id === id)!;
    found.enabled = enabled;
    return { ...found };
  }
  async removeRule(id: string) {
    this.saved = this.saved.filter((item) => item.id !== id);
  }
}

describe('AlertsState', () => {
  it('adds a signed webhook destination and sends it a test alert', async () => {
    const port = new FakeAlerts();
    const model = new AlertsState(port);
    await model.load();
    model.startDestination();
    model.destinationForm!.name = 'ops';
    model.destinationForm!.url = 'https://ops.example.com/in';
    model.destinationForm!.signingSecret = '{{ secrets.ALERT_KEY }}';
    expect(await model.saveDestination()).toBe(true);
    expect(port.stored[0]!.signing_secret).toBe('{{ secrets.ALERT_KEY }}');
    const delivery = await model.test(model.destinations[0]!);
    expect(delivery?.status).toBe('delivered');
    expect(model.deliveries.map((item) => item.id)).toEqual(['t1']);
    expect(attemptText(model.deliveries[0]!)).toBe('answered 200 in 12 ms');
    port.answer = 500;
    await model.test(model.destinations[0]!);
    expect(model.testing?.result?.status).toBe('pending');
    expect(attemptText(model.testing!.result!)).toBe('answered 500 in 12 ms');
  });

  it('does not send a signing secret for a Slack destination', async () => {
    const port = new FakeAlerts();
    const model = new AlertsState(port);
    model.startDestination();
    Object.assign(model.destinationForm!, { name: 'chat', kind: 'slack', url: '{{ secrets.SLACK_URL }}', signingSecret: 'x' });
    await model.saveDestination();
    expect(port.stored[0]!.signing_secret).toBeNull();
  });

  it('needs a threshold for rate and lag rules and sends none for event rules', async () => {
    const port = new FakeAlerts();
    const model = new AlertsState(port);
    await port.createDestination({ name: 'ops', kind: 'slack', url: 'https://x.io/h' });
    await model.load();
    model.startRule();
    expect(model.ruleForm!.destinations).toEqual(['d1']);
    Object.assign(model.ruleForm!, { name: 'rate', kind: 'failure_rate', threshold: null });
    expect(await model.saveRule()).toBe(false);
    expect(model.ruleForm!.problem?.fields.threshold).toContain('%');
    model.ruleForm!.threshold = 25;
    expect(await model.saveRule()).toBe(true);
    expect(port.bodies[0]).toMatchObject({ kind: 'failure_rate', threshold: 25, window: '1h', workflow: null });
    model.startRule();
    Object.assign(model.ruleForm!, { name: 'fails', kind: 'run.failed', threshold: 5, workflow: 'orders' });
    await model.saveRule();
    expect(port.bodies[1]).toMatchObject({ kind: 'run.failed', threshold: null, workflow: 'orders' });
    expect(model.rules.map((item) => item.name)).toEqual(['fails', 'rate']);
    expect(ruleText(model.rules[1]!)).toBe('Failure rate above 25 % over 1h (at least 10 runs)');
    expect(ruleText(model.rules[0]!)).toBe('A run failed in orders');
  });

  it('shows the server problem next to the field it names', async () => {
    const port = new FakeAlerts();
    port.fail = new ApiError(422, {
      type: 'x',
      title: 'Validation failed',
      status: 422,
      detail: 'alerts may not be sent to a private or loopback address',
      errors: [{ path: '/url', code: 'alert.invalid', message: 'refused', severity: 'error' }],
    }, 'failed');
    const model = new AlertsState(port);
    model.startDestination();
    Object.assign(model.destinationForm!, { name: 'x', url: 'http://127.0.0.1/', signingSecret: '{{ secrets.K }}' });
    expect(await model.saveDestination()).toBe(false);
    expect(model.destinationForm!.problem?.fields.url).toBe('refused');
    expect(model.destinationForm!.busy).toBe(false);
  });

  it('turns rules off and says whether they fire, and drops a deleted destination everywhere', async () => {
    const port = new FakeAlerts();
    const model = new AlertsState(port);
    const destination = await port.createDestination({ name: 'ops', kind: 'slack', url: 'https://x.io/h' });
    await port.createRule({ name: 'fails', kind: 'run.failed', destinations: [destination.id] });
    port.saved[0]!.state = { firing: true, last_fired_at: AT, suppressed: 3 };
    await port.test(destination.id);
    await model.load();
    expect(stateText(model.rules[0]!)).toBe('Firing (3 held back by the cool-down)');
    await model.toggle(model.rules[0]!);
    expect(stateText(model.rules[0]!)).toBe('Off');
    await model.removeDestination(model.destinations[0]!);
    expect(model.rules[0]!.destinations).toEqual([]);
    expect(model.deliveries).toEqual([]);
    expect(model.destinationName('d1')).toBe('deleted destination');
  });

  it('edits a rule in place, keeping its kind and sending no kind', async () => {
    const port = new FakeAlerts();
    await port.createRule({ name: 'rate', kind: 'failure_rate', threshold: 25, destinations: [] });
    const model = new AlertsState(port);
    await model.load();
    model.startEdit(model.rules[0]!);
    expect(model.ruleForm).toMatchObject({ editing: 'r1', kind: 'failure_rate', threshold: 25, cooldownSeconds: 900 });
    model.ruleForm!.cooldownSeconds = 300;
    model.ruleForm!.threshold = 40;
    expect(await model.saveRule()).toBe(true);
    expect(port.patches[0]).not.toHaveProperty('kind');
    expect(port.patches[0]).toMatchObject({ cooldown_seconds: 300, threshold: 40 });
    expect(model.rules).toHaveLength(1);
    expect(model.rules[0]!.cooldown_seconds).toBe(300);
    expect(ruleText(model.rules[0]!)).toContain('above 40 %');
  });

  it('edits a destination: a new URL is sent, a blank one keeps the stored one', async () => {
    const port = new FakeAlerts();
    await port.createDestination({ name: 'ops', kind: 'webhook', url: 'https://old.example.com/…', signing_secret: '{{ secrets.K }}' });
    const model = new AlertsState(port);
    await model.load();
    model.startEditDestination(model.destinations[0]!);
    expect(model.destinationForm).toMatchObject({ name: 'ops', kind: 'webhook', url: '', signingSecret: '{{ secrets.K }}' });
    model.destinationForm!.name = 'pager';
    expect(await model.saveDestination()).toBe(true);
    expect(port.destinationPatches[0]).toEqual({ name: 'pager' });
    model.startEditDestination(model.destinations[0]!);
    model.destinationForm!.url = 'https://new.example.com/in?key=1';
    model.destinationForm!.signingSecret = '{{ secrets.K2 }}';
    expect(await model.saveDestination()).toBe(true);
    expect(port.destinationPatches[1]).toEqual({ url: 'https://new.example.com/in?key=1', signing_secret: '{{ secrets.K2 }}' });
    expect(model.destinations).toHaveLength(1);
    expect(model.destinations[0]).toMatchObject({ name: 'pager', url: 'https://new.example.com/…' });
  });

  it('shows a vault reference to edit, and the server problem of an edit at its field', async () => {
    const port = new FakeAlerts();
    await port.createDestination({ name: 'chat', kind: 'slack', url: '{{ secrets.SLACK_URL }}' });
    const model = new AlertsState(port);
    await model.load();
    expect(isSecretReference(model.destinations[0]!.url)).toBe(true);
    expect(isSecretReference('https://x.io/…')).toBe(false);
    model.startEditDestination(model.destinations[0]!);
    expect(model.destinationForm!.url).toBe('{{ secrets.SLACK_URL }}');
    model.destinationForm!.url = 'ftp://x.io';
    port.fail = new ApiError(422, {
      type: 'x',
      title: 'Validation failed',
      status: 422,
      detail: 'use an http(s) URL',
      errors: [{ path: '/url', code: 'alert.invalid', message: 'use an http(s) URL', severity: 'error' }],
    }, 'failed');
    expect(await model.saveDestination()).toBe(false);
    expect(model.destinationForm!.problem?.fields.url).toBe('use an http(s) URL');
    expect(model.destinations[0]!.url).toBe('{{ secrets.SLACK_URL }}');
  });
});
