import { describe, expect, it } from 'vitest';
import { SessionsState, type UiSession } from '../src/lib/settings/sessions.svelte';

const AT = '2026-01-01T00:00:00Z';

function session(id: string, current = false): UiSession {
  return { id, created_at: AT, expires_at: null, last_used_at: null, current };
}

describe('SessionsState', () => {
  it('ends one other session, never this one', async () => {
    const revoked: string[] = [];
    const model = new SessionsState({
      list: async () => [session('me', true), session('laptop')],
      revoke: async (id) => void revoked.push(id),
      revokeOthers: async () => {},
    });
    await model.load();
    expect(model.others).toBe(1);
    expect(await model.revoke(model.items[0]!)).toBe(false);
    expect(await model.revoke(model.items[1]!)).toBe(true);
    expect(revoked).toEqual(['laptop']);
    expect(model.items.map((s) => s.id)).toEqual(['me']);
  });

  it('signs out everywhere else and keeps this session', async () => {
    let called = 0;
    const model = new SessionsState({
      list: async () => [session('a'), session('me', true), session('b')],
      revoke: async () => {},
      revokeOthers: async () => void called++,
    });
    await model.load();
    expect(await model.revokeOthers()).toBe(true);
    expect(called).toBe(1);
    expect(model.items.map((s) => s.id)).toEqual(['me']);
    expect(model.others).toBe(0);
  });

  it('shows a refusal and keeps the list', async () => {
    const model = new SessionsState({
      list: async () => [session('me', true), session('b')],
      revoke: async () => Promise.reject(new Error('offline')),
      revokeOthers: async () => {},
    });
    await model.load();
    expect(await model.revoke(model.items[1]!)).toBe(false);
    expect(model.error).toBe('offline');
    expect(model.items).toHaveLength(2);
    expect(model.busy).toBe(false);
  });
});
