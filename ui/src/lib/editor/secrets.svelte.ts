// "Store as secret" for a literal credential in a step's field: an admin
// stores the value as a project secret; an editor is told to ask an admin.
// Either way the field then refers to the secret (`{{ secrets.NAME }}`).
import { splitCredential, suggestSecretName } from '../credentials';
import type { Notify } from './document.svelte';

export interface StoreTarget {
  nodeId: string;
  parts: string[];
  value: string;
  busy: boolean;
  error: string | null;
}

export interface SecretStoreDeps {
  /** Only admins may list and store secrets. */
  admin: boolean;
  /** The project's secret names (for admins). */
  list: () => Promise<string[]>;
  /** Store a secret; the error detail when refused. */
  put: (name: string, value: string) => Promise<{ ok: boolean; detail: string }>;
  /** The field at `parts` of step `nodeId` still holds `value`: write `reference` instead. */
  replace: (nodeId: string, parts: string[], value: string, reference: string) => void;
  notify: Notify;
}

export class SecretStore {
  /** Secret names for sensitive fields (null when they cannot be listed). */
  names = $state<string[] | null>(null);
  target = $state<StoreTarget | null>(null);
  private readonly deps: SecretStoreDeps;

  constructor(deps: SecretStoreDeps) {
    this.deps = deps;
  }

  get admin(): boolean {
    return this.deps.admin;
  }

  async load(): Promise<void> {
    if (!this.deps.admin) return;
    try {
      this.names = await this.deps.list();
    } catch {
      this.names = null;
    }
  }

  open(nodeId: string, parts: string[], value: string): void {
    this.target = { nodeId, parts, value, busy: false, error: null };
  }

  close(): void {
    this.target = null;
  }

  get suggested(): string {
    return this.target ? suggestSecretName(this.target.nodeId, this.target.parts) : '';
  }

  /** Store the literal as `name` (admins) and make the field refer to it; true when done. */
  async store(name: string): Promise<boolean> {
    const target = this.target;
    if (!target) return false;
    const split = splitCredential(target.value);
    if (this.deps.admin) {
      this.target = { ...target, busy: true, error: null };
      const { ok, detail } = await this.deps.put(name, split.secret);
      if (!ok) {
        this.target = { ...target, busy: false, error: detail };
        return false;
      }
      this.names = [...new Set([...(this.names ?? []), name])].sort();
      this.deps.notify(`Secret ${name} stored; the field now refers to it`, 'success');
    } else {
      this.deps.notify(`The field now refers to secret ${name}: ask an admin of this project to create it`, 'info', 10000);
    }
    this.target = null;
    this.deps.replace(target.nodeId, target.parts, target.value, split.reference(name));
    return true;
  }
}
