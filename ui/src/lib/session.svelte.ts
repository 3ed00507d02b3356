// Who is signed in, and their projects. The session itself is an HttpOnly
// cookie; the CSRF token is read from its companion cookie on each write.
import { api, unwrap } from './api/client';
import type { Me } from './api/types';
import { DraftStore } from './drafts';

export const session = $state<{ me: Me | null; checked: boolean }>({ me: null, checked: false });

export async function loadSession(): Promise<Me | null> {
  try {
    session.me = await unwrap(api.GET('/api/v1/me'));
  } catch {
    session.me = null;
  }
  session.checked = true;
  return session.me;
}

export async function login(email: string, password: string): Promise<Me> {
  const result = await unwrap(api.POST('/api/v1/auth/login', { body: { email, password } }));
  session.me = result.user;
  session.checked = true;
  return result.user;
}

export async function logout(): Promise<void> {
  try {
    await unwrap(api.POST('/api/v1/auth/logout'));
  } finally {
    session.me = null;
    // Unsaved drafts hold workflow content: they do not outlive the session on a shared device.
    try {
      new DraftStore(window.localStorage).clearAll();
    } catch {
      // Storage disabled: nothing was kept.
    }
  }
}

export function roleIn(project: string): string | null {
  return session.me?.projects.find((p) => p.key === project)?.role ?? null;
}

const RANKS = ['viewer', 'editor', 'admin', 'owner'];

export function canEdit(project: string): boolean {
  return RANKS.indexOf(roleIn(project) ?? '') >= 1;
}

export function isAdmin(project: string): boolean {
  return RANKS.indexOf(roleIn(project) ?? '') >= 2;
}

export function isOwner(project: string): boolean {
  return roleIn(project) === 'owner';
}
