// "Where you are signed in": your UI sessions, ending one or all the others.
import { formProblem } from './problems';

export interface UiSession {
  id: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  current: boolean;
}

export interface SessionsPort {
  list(): Promise<UiSession[]>;
  revoke(id: string): Promise<void>;
  revokeOthers(): Promise<void>;
}

export class SessionsState {
  items = $state<UiSession[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  busy = $state(false);

  constructor(private readonly port: SessionsPort) {}

  get others(): number {
    return this.items.filter((item) => !item.current).length;
  }

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

  /** End one other session (this one is ended by signing out). */
  async revoke(session: UiSession): Promise<boolean> {
    if (session.current) return false;
    return this.run(async () => {
      await this.port.revoke(session.id);
      this.items = this.items.filter((item) => item.id !== session.id);
    });
  }

  async revokeOthers(): Promise<boolean> {
    return this.run(async () => {
      await this.port.revokeOthers();
      this.items = this.items.filter((item) => item.current);
    });
  }

  private async run(action: () => Promise<void>): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      await action();
      return true;
    } catch (failure) {
      this.error = formProblem(failure).message;
      return false;
    } finally {
      this.busy = false;
    }
  }
}
