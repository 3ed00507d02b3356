// A small history-API router: the server answers every client path with
// index.html, and this maps the path to a screen.

export type Route =
  | { name: 'login' }
  | { name: 'home' }
  | { name: 'list'; project: string }
  | { name: 'editor'; project: string; workflow: string }
  | { name: 'runs'; project: string }
  | { name: 'run'; project: string; run: string }
  | { name: 'settings'; project: string; tab: SettingsTab }
  | { name: 'stats'; project: string; workflow: string | null }
  | { name: 'not-found' };

export const SETTINGS_TABS = ['secrets', 'members', 'webhooks', 'redaction', 'alerts', 'audit', 'tokens'] as const;
export type SettingsTab = (typeof SETTINGS_TABS)[number];

export function matchRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { name: 'home' };
  if (parts.length === 1 && parts[0] === 'login') return { name: 'login' };
  if (parts[0] === 'p' && parts[1]) {
    if (parts.length === 2) return { name: 'list', project: parts[1] };
    if (parts.length === 3 && parts[2] === 'runs') return { name: 'runs', project: parts[1] };
    if (parts.length === 3 && parts[2] === 'stats') return { name: 'stats', project: parts[1], workflow: null };
    if (parts.length === 5 && parts[2] === 'w' && parts[3] && parts[4] === 'stats') {
      return { name: 'stats', project: parts[1], workflow: parts[3] };
    }
    if (parts.length === 4 && parts[2] === 'runs' && parts[3]) return { name: 'run', project: parts[1], run: parts[3] };
    if (parts[2] === 'settings' && parts.length <= 4) {
      const tab = SETTINGS_TABS.find((t) => t === (parts[3] ?? 'secrets'));
      if (tab) return { name: 'settings', project: parts[1], tab };
    }
    if (parts.length === 4 && parts[2] === 'w' && parts[3]) {
      return { name: 'editor', project: parts[1], workflow: parts[3] };
    }
  }
  return { name: 'not-found' };
}

export const location = $state({
  pathname: window.location.pathname,
  search: window.location.search,
});

/** Asked before leaving the current screen; false keeps the user where they are. */
let leaveGuard: (() => boolean) | null = null;

export function setLeaveGuard(guard: (() => boolean) | null): void {
  leaveGuard = guard;
}

function sync(): void {
  location.pathname = window.location.pathname;
  location.search = window.location.search;
}

export function navigate(to: string, options: { replace?: boolean; force?: boolean } = {}): boolean {
  const url = new URL(to, window.location.origin);
  const samePath = url.pathname === window.location.pathname;
  if (!samePath && !options.force && leaveGuard && !leaveGuard()) return false;
  if (options.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  sync();
  return true;
}

/** Change the query string without leaving the screen (no guard, no new history entry). */
export function setQuery(params: Record<string, string | null>): void {
  const url = new URL(window.location.href);
  for (const [key, value] of Object.entries(params)) {
    if (value === null) url.searchParams.delete(key);
    else url.searchParams.set(key, value);
  }
  window.history.replaceState(null, '', url);
  sync();
}

let current = window.location.href;
window.addEventListener('popstate', () => {
  const target = new URL(window.location.href);
  if (target.pathname !== new URL(current).pathname && leaveGuard && !leaveGuard()) {
    window.history.pushState(null, '', current);
    return;
  }
  current = window.location.href;
  sync();
});

$effect.root(() => {
  $effect(() => {
    current = window.location.origin + location.pathname + location.search;
  });
});

/** Click handler for in-app links: ordinary clicks navigate without a reload. */
export function link(event: MouseEvent): void {
  const anchor = event.currentTarget as HTMLAnchorElement;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(anchor.getAttribute('href') ?? '/');
}

export function projectPath(project: string): string {
  return `/p/${encodeURIComponent(project)}`;
}

export function workflowPath(project: string, workflow: string): string {
  return `${projectPath(project)}/w/${encodeURIComponent(workflow)}`;
}

/** The runs list; `query` (e.g. `{ workflow: 'sync' }`) preselects its filters. */
export function runsPath(project: string, query: Record<string, string> = {}): string {
  const search = new URLSearchParams(query).toString();
  return `${projectPath(project)}/runs${search ? `?${search}` : ''}`;
}

export function runPath(project: string, run: string): string {
  return `${projectPath(project)}/runs/${encodeURIComponent(run)}`;
}

/** The project dashboard, or one workflow's Stats tab. */
export function statsPath(project: string, workflow: string | null = null): string {
  return workflow ? `${workflowPath(project, workflow)}/stats` : `${projectPath(project)}/stats`;
}

export function settingsPath(project: string, tab: SettingsTab = 'secrets'): string {
  return `${projectPath(project)}/settings/${tab}`;
}
