// The audit log: filters and cursor paging (newest first), with a way back.
import { formProblem } from './problems';

export interface AuditEntry {
  id: number;
  actor: string;
  action: string;
  object_type: string;
  object_id: string;
  summary: Record<string, unknown>;
  request_id: string | null;
  created_at: string;
}

export interface AuditFilters {
  actor: string;
  action: string;
  object: string;
  since: string;
  until: string;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  object?: string;
  since?: string;
  until?: string;
  cursor?: string;
  limit: number;
}

export interface AuditPort {
  page(query: AuditQuery): Promise<{ items: AuditEntry[]; next_cursor?: string | null }>;
}

export const PAGE_SIZE = 50;

/** A `datetime-local` value as an ISO instant in the browser's zone, or undefined. */
export function instant(local: string): string | undefined {
  if (!local) return undefined;
  const parsed = new Date(local);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed.toISOString();
}

export function toQuery(filters: AuditFilters, cursor: string | null): AuditQuery {
  return {
    actor: filters.actor.trim() || undefined,
    action: filters.action.trim() || undefined,
    object: filters.object.trim() || undefined,
    since: instant(filters.since),
    until: instant(filters.until),
    cursor: cursor ?? undefined,
    limit: PAGE_SIZE,
  };
}

export class AuditState {
  filters = $state<AuditFilters>({ actor: '', action: '', object: '', since: '', until: '' });
  items = $state<AuditEntry[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  /** Cursors of the pages shown so far: the last one is the current page's. */
  private trail = $state<(string | null)[]>([null]);
  next = $state<string | null>(null);
  private ticket = 0;

  constructor(private readonly port: AuditPort) {}

  get pageNumber(): number {
    return this.trail.length;
  }

  get hasPrevious(): boolean {
    return this.trail.length > 1;
  }

  /** Apply the filters: back to the first page. */
  async search(): Promise<void> {
    this.trail = [null];
    await this.fetch();
  }

  async nextPage(): Promise<void> {
    if (!this.next) return;
    this.trail = [...this.trail, this.next];
    await this.fetch();
  }

  async previousPage(): Promise<void> {
    if (!this.hasPrevious) return;
    this.trail = this.trail.slice(0, -1);
    await this.fetch();
  }

  private async fetch(): Promise<void> {
    const ticket = ++this.ticket;
    this.loading = true;
    this.error = null;
    try {
      const page = await this.port.page(toQuery(this.filters, this.trail[this.trail.length - 1] ?? null));
      if (ticket !== this.ticket) return;
      this.items = page.items;
      this.next = page.next_cursor ?? null;
    } catch (failure) {
      if (ticket === this.ticket) this.error = formProblem(failure).message;
    } finally {
      if (ticket === this.ticket) this.loading = false;
    }
  }
}
