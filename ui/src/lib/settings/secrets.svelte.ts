// The secrets screen's state. A secret's value passes through `save` on its way
// to the server and is never kept: not in this object, not in the page.
import { formProblem, type FormProblem } from './problems';

export interface Secret {
  name: string;
  description: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
  last_used_at: string | null;
  /** Hosts the value may be sent to; null: any host. */
  allowed_hosts?: string[] | null;
}

export interface SecretsPort {
  list(): Promise<Secret[]>;
  /** `hosts` undefined keeps a replaced secret's list (a new one gets any host). */
  put(name: string, value: string, description: string, hosts?: string[]): Promise<Secret>;
  remove(name: string): Promise<void>;
}

export interface SecretForm {
  mode: 'add' | 'replace';
  name: string;
  description: string;
  /** Comma- or space-separated hosts, for a new secret; blank: any host. */
  hosts: string;
  busy: boolean;
  problem: FormProblem | null;
}

/** The hosts typed in a form field, or undefined when it is blank. */
export function parseHosts(text: string): string[] | undefined {
  const hosts = text.split(/[\s,]+/).filter(Boolean);
  return hosts.length ? hosts : undefined;
}

export function hostsText(secret: Secret): string {
  if (secret.allowed_hosts === null || secret.allowed_hosts === undefined) return 'any host';
  return secret.allowed_hosts.length ? secret.allowed_hosts.join(', ') : 'no host';
}

export class SecretsState {
  items = $state<Secret[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  form = $state<SecretForm | null>(null);
  deleting = $state<{ name: string; busy: boolean; error: string | null } | null>(null);

  constructor(private readonly port: SecretsPort) {}

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      this.items = (await this.port.list()).sort((a, b) => a.name.localeCompare(b.name));
    } catch (failure) {
      this.error = formProblem(failure).message;
    } finally {
      this.loading = false;
    }
  }

  startAdd(): void {
    this.form = { mode: 'add', name: '', description: '', hosts: '', busy: false, problem: null };
  }

  startReplace(secret: Secret): void {
    this.form = {
      mode: 'replace',
      name: secret.name,
      description: secret.description,
      // Shown only: a replaced value keeps its list.
      hosts: hostsText(secret),
      busy: false,
      problem: null,
    };
  }

  cancel(): void {
    this.form = null;
  }

  /** Send the value; true when stored. The caller clears its field either way. */
  async save(value: string): Promise<boolean> {
    const form = this.form;
    if (!form) return false;
    const name = form.name.trim();
    if (!value) {
      form.problem = { message: 'Enter the value to store.', fields: { value: 'A value is required.' } };
      return false;
    }
    if (form.mode === 'add' && this.items.some((item) => item.name === name)) {
      form.problem = {
        message: `A secret named ${name} exists: use Replace on its row to change its value.`,
        fields: { name: 'This name is taken.' },
      };
      return false;
    }
    form.busy = true;
    form.problem = null;
    try {
      const hosts = form.mode === 'add' ? parseHosts(form.hosts) : undefined;
      const stored = await this.port.put(name, value, form.description, hosts);
      const others = this.items.filter((item) => item.name !== stored.name);
      this.items = [...others, stored].sort((a, b) => a.name.localeCompare(b.name));
      this.form = null;
      return true;
    } catch (failure) {
      form.busy = false;
      form.problem = formProblem(failure);
      return false;
    }
  }

  askDelete(name: string): void {
    this.deleting = { name, busy: false, error: null };
  }

  async confirmDelete(): Promise<boolean> {
    const target = this.deleting;
    if (!target) return false;
    target.busy = true;
    try {
      await this.port.remove(target.name);
      this.items = this.items.filter((item) => item.name !== target.name);
      this.deleting = null;
      return true;
    } catch (failure) {
      target.busy = false;
      target.error = formProblem(failure).message;
      return false;
    }
  }
}
