// The alerts screen's state: destinations (with a test alert), rules and the
// recent deliveries. Shapes come from the generated API types; the calls go
// through `AlertsPort` (ports.ts), so this class is tested with a fake.
import type { components, operations } from '../api/schema';
import { formProblem, type FormProblem } from './problems';

type Schemas = components['schemas'];
export type AlertDestination = Schemas['AlertDestinationOut'];
type JsonBody<Operation extends keyof operations> = operations[Operation] extends {
  requestBody: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;
export type AlertDestinationBody = JsonBody<'create_alert_destination'>;
export type AlertDestinationPatch = JsonBody<'update_alert_destination'>;
export type AlertRule = Schemas['AlertRuleOut'];
export type AlertRuleBody = JsonBody<'create_alert_rule'>;
export type AlertRulePatch = JsonBody<'update_alert_rule'>;
export type AlertRuleKind = AlertRuleBody['kind'];
export type AlertDelivery = Schemas['AlertDeliveryOut'];

export interface AlertsPort {
  destinations(): Promise<AlertDestination[]>;
  rules(): Promise<AlertRule[]>;
  deliveries(): Promise<AlertDelivery[]>;
  createDestination(body: AlertDestinationBody): Promise<AlertDestination>;
  updateDestination(id: string, body: AlertDestinationPatch): Promise<AlertDestination>;
  removeDestination(id: string): Promise<void>;
  test(id: string): Promise<AlertDelivery>;
  createRule(body: AlertRuleBody): Promise<AlertRule>;
  updateRule(id: string, body: AlertRulePatch): Promise<AlertRule>;
  setEnabled(id: string, enabled: boolean): Promise<AlertRule>;
  removeRule(id: string): Promise<void>;
}

export const RULE_KINDS: { kind: AlertRuleKind; label: string; threshold: string | null }[] = [
  { kind: 'run.failed', label: 'A run failed', threshold: null },
  { kind: 'run.dead_lettered', label: 'A run was dead-lettered', threshold: null },
  { kind: 'failure_rate', label: 'Failure rate above', threshold: '%' },
  { kind: 'queue_lag', label: 'Queue lag above', threshold: 'seconds' },
];

export interface DestinationForm {
  /** The destination being edited (its kind is then fixed); null for a new one. */
  editing: AlertDestination | null;
  name: string;
  kind: 'webhook' | 'slack';
  url: string;
  signingSecret: string;
  busy: boolean;
  problem: FormProblem | null;
}

export interface RuleForm {
  /** The id of the rule being edited; null for a new rule (its kind is then fixed). */
  editing: string | null;
  name: string;
  kind: AlertRuleKind;
  workflow: string;
  /** A number input's value: null (or undefined) while it is blank. */
  threshold: number | null | undefined;
  window: '1h' | '24h' | '7d' | '30d';
  minRuns: number;
  cooldownSeconds: number;
  destinations: string[];
  busy: boolean;
  problem: FormProblem | null;
}

/** Whether a destination's URL is a vault reference (shown as given) rather
 * than a literal URL (shown as its scheme and host only, so it cannot be
 * edited in place: a new one is typed instead). */
export function isSecretReference(url: string): boolean {
  return /^\{\{\s*secrets\.[^\s{}]+\s*\}\}$/.test(url.trim());
}

/** What a rule watches, in words. */
export function ruleText(rule: AlertRule): string {
  const scope = rule.workflow ? ` in ${rule.workflow}` : '';
  if (rule.kind === 'failure_rate')
    return `Failure rate above ${rule.threshold} % over ${rule.window} (at least ${rule.min_runs} runs)${scope}`;
  if (rule.kind === 'queue_lag') return `Queue lag above ${rule.threshold} s`;
  if (rule.kind === 'run.dead_lettered') return `A run was dead-lettered${scope}`;
  return `A run failed${scope}`;
}

/** A rule's state, in words. */
export function stateText(rule: AlertRule): string {
  const held = rule.state.suppressed ? ` (${rule.state.suppressed} held back by the cool-down)` : '';
  if (!rule.enabled) return 'Off';
  return (rule.state.firing ? 'Firing' : 'OK') + held;
}

/** The last attempt of a delivery, in words. */
export function attemptText(delivery: AlertDelivery): string {
  const last = delivery.attempts[delivery.attempts.length - 1];
  if (!last) return 'not sent yet';
  const answer = last.error ?? `answered ${last.status_code}`;
  return `${answer} in ${Math.round(last.latency_ms)} ms`;
}

export class AlertsState {
  destinations = $state<AlertDestination[]>([]);
  rules = $state<AlertRule[]>([]);
  deliveries = $state<AlertDelivery[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  destinationForm = $state<DestinationForm | null>(null);
  ruleForm = $state<RuleForm | null>(null);
  /** The destination a test alert is being sent to, and the answer. */
  testing = $state<{ id: string; busy: boolean; result: AlertDelivery | null; error: string | null } | null>(null);

  constructor(private readonly port: AlertsPort) {}

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      const [destinations, rules, deliveries] = await Promise.all([
        this.port.destinations(),
        this.port.rules(),
        this.port.deliveries(),
      ]);
      this.destinations = destinations;
      this.rules = rules;
      this.deliveries = deliveries;
    } catch (failure) {
      this.error = formProblem(failure).message;
    } finally {
      this.loading = false;
    }
  }

  destinationName(id: string): string {
    return this.destinations.find((item) => item.id === id)?.name ?? 'deleted destination';
  }

  startDestination(): void {
    this.destinationForm = { editing: null, name: '', kind: 'webhook', url: '', signingSecret: '', busy: false, problem: null };
  }

  /** Edit a destination: a vault reference is shown to change; a literal URL
   * (the server shows its host only) is left blank, and kept unless a new one is typed. */
  startEditDestination(destination: AlertDestination): void {
    this.destinationForm = {
      editing: destination,
      name: destination.name,
      kind: destination.kind,
      url: isSecretReference(destination.url) ? destination.url : '',
      signingSecret: destination.signing_secret ?? '',
      busy: false,
      problem: null,
    };
  }

  startRule(): void {
    this.ruleForm = {
      editing: null,
      name: '',
      kind: 'run.failed',
      workflow: '',
      threshold: null,
      window: '1h',
      minRuns: 10,
      cooldownSeconds: 900,
      destinations: this.destinations.map((item) => item.id),
      busy: false,
      problem: null,
    };
  }

  startEdit(rule: AlertRule): void {
    this.ruleForm = {
      editing: rule.id,
      name: rule.name,
      kind: rule.kind,
      workflow: rule.workflow ?? '',
      threshold: rule.threshold,
      window: rule.window,
      minRuns: rule.min_runs,
      cooldownSeconds: rule.cooldown_seconds,
      destinations: [...rule.destinations],
      busy: false,
      problem: null,
    };
  }

  cancel(): void {
    this.destinationForm = null;
    this.ruleForm = null;
  }

  async saveDestination(): Promise<boolean> {
    const form = this.destinationForm;
    if (!form) return false;
    form.busy = true;
    form.problem = null;
    try {
      const saved = form.editing ? await this.updateDestination(form, form.editing) : await this.createDestination(form);
      const others = this.destinations.filter((item) => item.id !== saved.id);
      this.destinations = [...others, saved].sort((a, b) => a.name.localeCompare(b.name));
      this.destinationForm = null;
      return true;
    } catch (failure) {
      form.busy = false;
      form.problem = formProblem(failure);
      return false;
    }
  }

  private createDestination(form: DestinationForm): Promise<AlertDestination> {
    const body: AlertDestinationBody = { name: form.name.trim(), kind: form.kind, url: form.url.trim() };
    if (form.kind === 'webhook') body.signing_secret = form.signingSecret.trim();
    return this.port.createDestination(body);
  }

  /** Only what changed is sent; a blank URL keeps the stored one. */
  private updateDestination(form: DestinationForm, old: AlertDestination): Promise<AlertDestination> {
    const body: AlertDestinationPatch = {};
    const name = form.name.trim();
    const url = form.url.trim();
    if (name !== old.name) body.name = name;
    if (url && url !== old.url) body.url = url;
    if (old.kind === 'webhook' && form.signingSecret.trim() !== (old.signing_secret ?? '')) {
      body.signing_secret = form.signingSecret.trim();
    }
    return this.port.updateDestination(old.id, body);
  }

  async saveRule(): Promise<boolean> {
    const form = this.ruleForm;
    if (!form) return false;
    const kind = RULE_KINDS.find((item) => item.kind === form.kind);
    const threshold = typeof form.threshold === 'number' && Number.isFinite(form.threshold) ? form.threshold : null;
    if (kind?.threshold && threshold === null) {
      form.problem = { message: 'Enter the threshold.', fields: { threshold: `A number of ${kind.threshold}.` } };
      return false;
    }
    form.busy = true;
    form.problem = null;
    const body: AlertRuleBody = {
      name: form.name.trim(),
      kind: form.kind,
      workflow: form.workflow.trim() || null,
      threshold: kind?.threshold ? threshold : null,
      window: form.window,
      min_runs: form.minRuns,
      cooldown_seconds: form.cooldownSeconds,
      destinations: form.destinations,
      enabled: true,
    };
    try {
      let saved: AlertRule;
      if (form.editing) {
        const { kind: _kind, enabled: _enabled, ...changes } = body;
        saved = await this.port.updateRule(form.editing, changes);
      } else {
        saved = await this.port.createRule(body);
      }
      const others = this.rules.filter((item) => item.id !== saved.id);
      this.rules = [...others, saved].sort((a, b) => a.name.localeCompare(b.name));
      this.ruleForm = null;
      return true;
    } catch (failure) {
      form.busy = false;
      form.problem = formProblem(failure);
      return false;
    }
  }

  async toggle(rule: AlertRule): Promise<void> {
    try {
      const changed = await this.port.setEnabled(rule.id, !rule.enabled);
      this.rules = this.rules.map((item) => (item.id === changed.id ? changed : item));
    } catch (failure) {
      this.error = formProblem(failure).message;
    }
  }

  async removeRule(rule: AlertRule): Promise<void> {
    try {
      await this.port.removeRule(rule.id);
      this.rules = this.rules.filter((item) => item.id !== rule.id);
    } catch (failure) {
      this.error = formProblem(failure).message;
    }
  }

  async removeDestination(destination: AlertDestination): Promise<void> {
    try {
      await this.port.removeDestination(destination.id);
      this.destinations = this.destinations.filter((item) => item.id !== destination.id);
      // Rules drop a deleted destination (the server did the same).
      this.rules = this.rules.map((rule) => ({
        ...rule,
        destinations: rule.destinations.filter((id) => id !== destination.id),
      }));
      this.deliveries = this.deliveries.filter((item) => item.destination_id !== destination.id);
    } catch (failure) {
      this.error = formProblem(failure).message;
    }
  }

  /** Send a test alert now; the delivery (with its first attempt) joins the log. */
  async test(destination: AlertDestination): Promise<AlertDelivery | null> {
    const testing = { id: destination.id, busy: true, result: null, error: null };
    this.testing = testing;
    try {
      const delivery = await this.port.test(destination.id);
      this.testing = { ...testing, busy: false, result: delivery };
      this.deliveries = [delivery, ...this.deliveries.filter((item) => item.id !== delivery.id)];
      return delivery;
    } catch (failure) {
      this.testing = { ...testing, busy: false, error: formProblem(failure).message };
      return null;
    }
  }
}
