// "My API tokens": create (the token is shown once), list, revoke.
import { formProblem, type FormProblem } from './problems';

export interface Token {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface NewToken extends Token {
  token: string;
}

export interface TokensPort {
  list(): Promise<Token[]>;
  create(name: string, expiresInDays: number | null): Promise<NewToken>;
  revoke(id: string): Promise<void>;
}

export const EXPIRY_CHOICES = [
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 365, label: '1 year' },
  { days: null, label: 'Never' },
] as const;

export type TokenStatus = 'active' | 'expired' | 'revoked';

export function tokenStatus(token: Token, now: Date = new Date()): TokenStatus {
  if (token.revoked_at) return 'revoked';
  if (token.expires_at && new Date(token.expires_at) <= now) return 'expired';
  return 'active';
}

export class TokensState {
  items = $state<Token[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  name = $state('');
  expiresInDays = $state<number | null>(30);
  busy = $state(false);
  problem = $state<FormProblem | null>(null);
  /** The token just created: shown once, gone when dismissed. */
  revealed = $state<NewToken | null>(null);
  revoking = $state<{ token: Token; busy: boolean; error: string | null } | null>(null);

  constructor(private readonly port: TokensPort) {}

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      this.items = await this.port.list();
    } catch (failure) {
      this.error = formProblem(failure).message;
    } finally {
      this.loading = false;
    }
  }

  async create(): Promise<boolean> {
    const name = this.name.trim();
    if (!name) {
      this.problem = { message: 'Give the token a name.', fields: { name: 'A name is required.' } };
      return false;
    }
    this.busy = true;
    this.problem = null;
    try {
      const made = await this.port.create(name, this.expiresInDays);
      this.revealed = made;
      const { token: _secret, ...listed } = made;
      void _secret;
      this.items = [listed, ...this.items];
      this.name = '';
      return true;
    } catch (failure) {
      this.problem = formProblem(failure);
      return false;
    } finally {
      this.busy = false;
    }
  }

  dismissRevealed(): void {
    this.revealed = null;
  }

  askRevoke(token: Token): void {
    this.revoking = { token, busy: false, error: null };
  }

  async confirmRevoke(): Promise<boolean> {
    const target = this.revoking;
    if (!target) return false;
    target.busy = true;
    try {
      await this.port.revoke(target.token.id);
      const at = new Date().toISOString();
      this.items = this.items.map((item) => (item.id === target.token.id ? { ...item, revoked_at: at } : item));
      this.revoking = null;
      return true;
    } catch (failure) {
      target.busy = false;
      target.error = formProblem(failure).message;
      return false;
    }
  }
}
