import { describe, expect, it } from 'vitest';
import { AuditState, instant, PAGE_SIZE, toQuery, type AuditEntry, type AuditQuery } from '../src/lib/settings/audit.svelte';
import { MembersState, type Member, type MembersPort, type Role } from '../src/lib/settings/members.svelte';
import { tokenStatus, TokensState, type NewToken, type Token, type TokensPort } from '../src/lib/settings/tokens.svelte';

const AT = '2026-01-01T00:00:00Z';

class FakeTokens implements TokensPort {
  items: Token[] = [];
  revoked: string[] = [];
  async list(): Promise<Token[]> {
    return this.items;
  }
  async create(name: string, expiresInDays: number | null): Promise<NewToken> {
    const expires = expiresInDays === null ? null : new Date(Date.now() + expiresInDays * 86_400_000).toISOString();
    return { id: `t${this.items.length}`, name, prefix: 'mh_abc', created_at: AT, expires_at: expires, last_used_at: null, revoked_at: null, token: 'mh_abc_SECRET' };
  }
  async revoke(id: string): Promise<void> {
    this.revoked.push(id);
  }
}

describe('TokensState', () => {
  it('shows a new token once and lists it without the token', async () => {
    const port = new FakeTokens();
    const model = new TokensState(port);
    await model.load();
    model.name = '  CI  ';
    expect(await model.create()).toBe(true);
    expect(model.revealed?.token).toBe('mh_abc_SECRET');
    expect(model.revealed?.name).toBe('CI');
    expect(model.name).toBe('');
    expect(JSON.stringify(model.items)).not.toContain('SECRET');
    model.dismissRevealed();
    expect(model.revealed).toBeNull();
  });

  it('asks for a name', async () => {
    const model = new TokensState(new FakeTokens());
    expect(await model.create()).toBe(false);
    expect(model.problem?.fields.name).toBeTruthy();
  });

  it('revokes after confirmation and marks the row revoked', async () => {
    const port = new FakeTokens();
    port.items = [{ id: 'a', name: 'A', prefix: 'p', created_at: AT, expires_at: null, last_used_at: null, revoked_at: null }];
    const model = new TokensState(port);
    await model.load();
    model.askRevoke(model.items[0]!);
    expect(await model.confirmRevoke()).toBe(true);
    expect(port.revoked).toEqual(['a']);
    expect(tokenStatus(model.items[0]!)).toBe('revoked');
  });

  it('tells expired from active', () => {
    const base = { id: 'a', name: 'A', prefix: 'p', created_at: AT, last_used_at: null, revoked_at: null };
    const now = new Date('2026-06-01T00:00:00Z');
    expect(tokenStatus({ ...base, expires_at: '2026-05-01T00:00:00Z' }, now)).toBe('expired');
    expect(tokenStatus({ ...base, expires_at: '2026-07-01T00:00:00Z' }, now)).toBe('active');
    expect(tokenStatus({ ...base, expires_at: null }, now)).toBe('active');
  });
});

class FakeMembers implements MembersPort {
  constructor(public items: Member[]) {}
  async list(): Promise<Member[]> {
    return this.items;
  }
  async set(email: string, role: Role): Promise<Member> {
    const member = { email, role, created_at: AT };
    this.items = [...this.items.filter((m) => m.email !== email), member];
    return member;
  }
  async remove(email: string): Promise<void> {
    this.items = this.items.filter((m) => m.email !== email);
  }
}

describe('MembersState', () => {
  const owner: Member = { email: 'o@x.io', role: 'owner', created_at: AT };
  const viewer: Member = { email: 'v@x.io', role: 'viewer', created_at: AT };

  it('invites by email with a role, owners first', async () => {
    const model = new MembersState(new FakeMembers([viewer, owner]));
    await model.load();
    expect(model.items.map((m) => m.email)).toEqual(['o@x.io', 'v@x.io']);
    model.email = ' New@X.io ';
    model.role = 'admin';
    expect(await model.invite()).toBe(true);
    expect(model.items.map((m) => `${m.email}:${m.role}`)).toEqual(['o@x.io:owner', 'new@x.io:admin', 'v@x.io:viewer']);
    expect(model.email).toBe('');
  });

  it('refuses something that is not an email, on the email field', async () => {
    const model = new MembersState(new FakeMembers([owner]));
    model.email = 'nobody';
    expect(await model.invite()).toBe(false);
    expect(model.problem?.fields.email).toBeTruthy();
  });

  it('protects the last owner from demotion and removal', async () => {
    const port = new FakeMembers([owner, viewer]);
    const model = new MembersState(port);
    await model.load();
    expect(model.protectedReason(owner)).toMatch(/last owner/);
    expect(model.protectedReason(viewer)).toBeNull();
    expect(await model.changeRole(owner, 'viewer')).toBe(false);
    expect(model.rowError?.email).toBe('o@x.io');
    model.askRemove(owner);
    expect(await model.confirmRemove()).toBe(false);
    expect(port.items).toHaveLength(2);
  });

  it('lets one of two owners step down', async () => {
    const second: Member = { email: 'p@x.io', role: 'owner', created_at: AT };
    const model = new MembersState(new FakeMembers([owner, second]));
    await model.load();
    expect(await model.changeRole(second, 'editor')).toBe(true);
    expect(model.items.find((m) => m.email === 'p@x.io')?.role).toBe('editor');
    expect(model.protectedReason(owner)).not.toBeNull();
  });

  it('removes a member after confirmation', async () => {
    const model = new MembersState(new FakeMembers([owner, viewer]));
    await model.load();
    model.askRemove(viewer);
    expect(await model.confirmRemove()).toBe(true);
    expect(model.items.map((m) => m.email)).toEqual(['o@x.io']);
  });
});

function entries(from: number, count: number): AuditEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    id: from - i,
    actor: 'a@x.io',
    action: 'secret.set',
    object_type: 'secret',
    object_id: `S${from - i}`,
    summary: {},
    request_id: null,
    created_at: AT,
  }));
}

describe('AuditState', () => {
  it('pages forward with the cursor and back again', async () => {
    const queries: AuditQuery[] = [];
    const model = new AuditState({
      page: async (query) => {
        queries.push(query);
        if (!query.cursor) return { items: entries(100, 2), next_cursor: 'c2' };
        return { items: entries(98, 1), next_cursor: null };
      },
    });
    await model.search();
    expect(model.pageNumber).toBe(1);
    expect(model.hasPrevious).toBe(false);
    expect(model.next).toBe('c2');
    await model.nextPage();
    expect(model.items.map((e) => e.id)).toEqual([98]);
    expect(model.pageNumber).toBe(2);
    expect(model.next).toBeNull();
    await model.previousPage();
    expect(model.items.map((e) => e.id)).toEqual([100, 99]);
    expect(queries.map((q) => q.cursor)).toEqual([undefined, 'c2', undefined]);
  });

  it('sends only the filters that are set, and a new search starts at page one', async () => {
    const queries: AuditQuery[] = [];
    const model = new AuditState({
      page: async (query) => {
        queries.push(query);
        return { items: [], next_cursor: query.cursor ? null : 'c2' };
      },
    });
    await model.search();
    await model.nextPage();
    model.filters.actor = ' a@x.io ';
    model.filters.action = 'secret.delete';
    await model.search();
    expect(model.pageNumber).toBe(1);
    expect(queries[2]).toEqual({ actor: 'a@x.io', action: 'secret.delete', limit: PAGE_SIZE });
  });

  it('reads local date-times as instants', () => {
    expect(instant('')).toBeUndefined();
    expect(instant('not a date')).toBeUndefined();
    expect(instant('2026-01-02T03:04')).toBe(new Date('2026-01-02T03:04').toISOString());
    const query = toQuery({ actor: '', action: '', object: 'x', since: '2026-01-02T03:04', until: '' }, 'c');
    expect(query.object).toBe('x');
    expect(query.cursor).toBe('c');
  });

  it('shows a failed page as an error', async () => {
    const model = new AuditState({
      page: async () => {
        throw new Error('down');
      },
    });
    await model.search();
    expect(model.error).toBe('down');
    expect(model.loading).toBe(false);
  });
});
