// The settings screens' state classes talk to these adapters over the typed
// client, so the classes can be tested with in-memory fakes.
import { api, unwrap } from '../api/client';
import type { AlertsPort } from './alerts.svelte';
import type { AuditPort } from './audit.svelte';
import type { Member, MembersPort } from './members.svelte';
import type { RedactionPort } from './redaction.svelte';
import type { SecretsPort } from './secrets.svelte';
import type { SessionsPort } from './sessions.svelte';
import type { TokensPort } from './tokens.svelte';
import type { WebhookPort } from './webhook.svelte';

export function secretsPort(project: string): SecretsPort {
  return {
    list: () => unwrap(api.GET('/api/v1/projects/{project}/secrets', { params: { path: { project } } })),
    put: (name, value, description, hosts) =>
      unwrap(
        api.PUT('/api/v1/projects/{project}/secrets/{name}', {
          params: { path: { project, name } },
          body: hosts === undefined ? { value, description } : { value, description, allowed_hosts: hosts },
        }),
      ),
    remove: async (name) => {
      await unwrap(api.DELETE('/api/v1/projects/{project}/secrets/{name}', { params: { path: { project, name } } }));
    },
  };
}

export function tokensPort(): TokensPort {
  return {
    list: () => unwrap(api.GET('/api/v1/me/tokens')),
    create: (name, expiresInDays) =>
      unwrap(api.POST('/api/v1/me/tokens', { body: { name, expires_in_days: expiresInDays } })),
    revoke: async (id) => {
      await unwrap(api.DELETE('/api/v1/me/tokens/{token_id}', { params: { path: { token_id: id } } }));
    },
  };
}

export function membersPort(project: string): MembersPort {
  return {
    list: async () =>
      (await unwrap(api.GET('/api/v1/projects/{project}/members', { params: { path: { project } } }))) as Member[],
    set: async (email, role) =>
      (await unwrap(
        api.PUT('/api/v1/projects/{project}/members/{email}', {
          params: { path: { project, email } },
          body: { role },
        }),
      )) as Member,
    remove: async (email) => {
      await unwrap(
        api.DELETE('/api/v1/projects/{project}/members/{email}', { params: { path: { project, email } } }),
      );
    },
  };
}

export function auditPort(project: string): AuditPort {
  return {
    page: (query) =>
      unwrap(api.GET('/api/v1/projects/{project}/audit', { params: { path: { project }, query } })),
  };
}

export function sessionsPort(): SessionsPort {
  return {
    list: () => unwrap(api.GET('/api/v1/me/sessions')),
    revoke: async (id) => {
      await unwrap(api.DELETE('/api/v1/me/sessions/{session_id}', { params: { path: { session_id: id } } }));
    },
    revokeOthers: async () => {
      await unwrap(api.DELETE('/api/v1/me/sessions'));
    },
  };
}

export function webhookPort(project: string, workflow: string): WebhookPort {
  const path = { params: { path: { project, workflow } } };
  return {
    get: () => unwrap(api.GET('/api/v1/projects/{project}/workflows/{workflow}/webhook', path)),
    rotate: () =>
      unwrap(api.POST('/api/v1/projects/{project}/workflows/{workflow}/webhook/rotate', { ...path, body: {} })),
    deliveries: async () =>
      (await unwrap(api.GET('/api/v1/projects/{project}/workflows/{workflow}/webhook/deliveries', path))).items,
    test: (body) =>
      unwrap(
        api.POST('/api/v1/projects/{project}/workflows/{workflow}/webhook/test', {
          ...path,
          body: body as { body?: unknown },
        }),
      ),
  };
}

export function redactionPort(project: string): RedactionPort {
  return {
    rules: () => unwrap(api.GET('/api/v1/projects/{project}/redaction', { params: { path: { project } } })),
    putPattern: (name, pattern) =>
      unwrap(
        api.PUT('/api/v1/projects/{project}/redaction/patterns/{name}', {
          params: { path: { project, name } },
          body: { pattern },
        }),
      ),
    removePattern: async (name) => {
      await unwrap(
        api.DELETE('/api/v1/projects/{project}/redaction/patterns/{name}', { params: { path: { project, name } } }),
      );
    },
    putPointers: async (workflow, pointers) =>
      (
        await unwrap(
          api.PUT('/api/v1/projects/{project}/workflows/{workflow}/redaction', {
            params: { path: { project, workflow } },
            body: { pointers },
          }),
        )
      ).pointers,
  };
}

export function alertsPort(project: string): AlertsPort {
  const path = { params: { path: { project } } };
  const one = (id: string) => ({ params: { path: { project, destination: id } } });
  const rule = (id: string) => ({ params: { path: { project, rule: id } } });
  return {
    destinations: () => unwrap(api.GET('/api/v1/projects/{project}/alerts/destinations', path)),
    rules: () => unwrap(api.GET('/api/v1/projects/{project}/alerts/rules', path)),
    deliveries: async () =>
      (await unwrap(api.GET('/api/v1/projects/{project}/alerts/deliveries', path))).items,
    createDestination: (body) =>
      unwrap(api.POST('/api/v1/projects/{project}/alerts/destinations', { ...path, body })),
    updateDestination: (id, body) =>
      unwrap(api.PATCH('/api/v1/projects/{project}/alerts/destinations/{destination}', { ...one(id), body })),
    removeDestination: async (id) => {
      await unwrap(api.DELETE('/api/v1/projects/{project}/alerts/destinations/{destination}', one(id)));
    },
    test: (id) => unwrap(api.POST('/api/v1/projects/{project}/alerts/destinations/{destination}/test', one(id))),
    createRule: (body) => unwrap(api.POST('/api/v1/projects/{project}/alerts/rules', { ...path, body })),
    updateRule: (id, body) =>
      unwrap(api.PATCH('/api/v1/projects/{project}/alerts/rules/{rule}', { ...rule(id), body })),
    setEnabled: (id, enabled) =>
      unwrap(api.PATCH('/api/v1/projects/{project}/alerts/rules/{rule}', { ...rule(id), body: { enabled } })),
    removeRule: async (id) => {
      await unwrap(api.DELETE('/api/v1/projects/{project}/alerts/rules/{rule}', rule(id)));
    },
  };
}
