// Hand-typed client for the workflow webhook routes, kept in this one file
// until they are in the OpenAPI spec (then `schema.d.ts` types replace these).
import { ApiError, csrfToken } from '../api/client';
import type { ProblemDetails } from '../api/types';
import type { Delivery, TestResult, WebhookInfo, WebhookPort } from './webhook.svelte';

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') {
    const token = csrfToken();
    if (token) headers['X-CSRF-Token'] = token;
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, null, `the server could not be reached (${String(error)})`);
  }
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const problem = parsed && typeof parsed === 'object' && 'status' in parsed ? (parsed as ProblemDetails) : null;
    throw new ApiError(response.status, problem, `${response.status} ${response.statusText}`);
  }
  return parsed as T;
}

export function webhookPort(project: string, workflow: string): WebhookPort {
  const base = `/api/v1/projects/${encodeURIComponent(project)}/workflows/${encodeURIComponent(workflow)}/webhook`;
  return {
    get: () => call<WebhookInfo>('GET', base),
    rotate: () => call<WebhookInfo>('POST', `${base}/rotate`, {}),
    deliveries: () =>
      call<{ items: Delivery[] } | Delivery[]>('GET', `${base}/deliveries?limit=20`).then((page) =>
        Array.isArray(page) ? page : page.items,
      ),
    test: (body) => call<TestResult>('POST', `${base}/test`, body),
  };
}
