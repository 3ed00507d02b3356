// The redaction settings screen's state: the project's own patterns and each
// workflow's always-hidden JSON Pointers (admin; every change audited server side).
import type { components } from '../api/schema';
import { formProblem, type FormProblem } from './problems';

export type RedactionRules = components['schemas']['RedactionRulesOut'];
export type Pattern = components['schemas']['PatternOut'];

export interface RedactionPort {
  rules(): Promise<RedactionRules>;
  putPattern(name: string, pattern: string): Promise<Pattern>;
  removePattern(name: string): Promise<void>;
  putPointers(workflow: string, pointers: string[]): Promise<string[]>;
}

/** One pointer a line of the text area (blank lines dropped). */
export function parsePointers(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

export class RedactionState {
  rules = $state.raw<RedactionRules | null>(null);
  loading = $state(true);
  error = $state<string | null>(null);
  patternForm = $state<{ name: string; pattern: string; busy: boolean; problem: FormProblem | null } | null>(null);
  pointerForm = $state<{ workflow: string; text: string; busy: boolean; problem: FormProblem | null } | null>(null);

  constructor(private readonly port: RedactionPort) {}

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      this.rules = await this.port.rules();
    } catch (failure) {
      this.error = formProblem(failure).message;
    } finally {
      this.loading = false;
    }
  }

  startPattern(existing: Pattern | null = null): void {
    this.patternForm = { name: existing?.name ?? '', pattern: existing?.pattern ?? '', busy: false, problem: null };
  }

  startPointers(workflow = ''): void {
    const current = workflow ? (this.rules?.pointers[workflow] ?? []) : [];
    this.pointerForm = { workflow, text: current.join('\n'), busy: false, problem: null };
  }

  cancel(): void {
    this.patternForm = null;
    this.pointerForm = null;
  }

  /** Save the pattern form; true when the server took it (the form closes). */
  async savePattern(): Promise<boolean> {
    const form = this.patternForm;
    if (!form) return false;
    form.busy = true;
    form.problem = null;
    try {
      await this.port.putPattern(form.name.trim(), form.pattern);
      this.patternForm = null;
      await this.load();
      return true;
    } catch (failure) {
      form.problem = formProblem(failure);
      return false;
    } finally {
      form.busy = false;
    }
  }

  async removePattern(name: string): Promise<void> {
    try {
      await this.port.removePattern(name);
      await this.load();
    } catch (failure) {
      this.error = formProblem(failure).message;
    }
  }

  async savePointers(): Promise<boolean> {
    const form = this.pointerForm;
    if (!form) return false;
    form.busy = true;
    form.problem = null;
    try {
      await this.port.putPointers(form.workflow.trim(), parsePointers(form.text));
      this.pointerForm = null;
      await this.load();
      return true;
    } catch (failure) {
      form.problem = formProblem(failure);
      return false;
    } finally {
      form.busy = false;
    }
  }
}
