// The typed API client: openapi-fetch over the generated OpenAPI types, plus
// the session's CSRF header on writes and one error type for every failure.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';
import type { ProblemDetails } from './types';

const CSRF_COOKIE = 'meshhook_csrf';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The CSRF token the server set next to the session cookie (readable by design). */
export function csrfToken(cookies: string = document.cookie): string | null {
  for (const part of cookies.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join('='));
  }
  return null;
}

/** A failed request: the status and, when the server sent one, its problem details. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: ProblemDetails | null;

  constructor(status: number, problem: ProblemDetails | null, fallback: string) {
    super(problem?.detail ?? fallback);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

let onUnauthorized: () => void = () => {};

/** Called when any request answers 401 (the session expired): the app shows the login. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

const middleware: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method)) {
      const token = csrfToken();
      if (token) request.headers.set('X-CSRF-Token', token);
    }
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && !request.url.endsWith('/auth/login')) onUnauthorized();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(middleware);

interface Outcome<T> {
  data?: T;
  // Every operation declares its 4XX/5XX answers as `Problem`; a proxy in
  // between may still answer with something else, hence the check below.
  error?: components['schemas']['Problem'] | string;
  response: Response;
}

/** The data of a successful call, or an ApiError carrying the problem details. */
export async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>;
  try {
    outcome = await call;
  } catch (error) {
    throw new ApiError(0, null, `the server could not be reached (${String(error)})`);
  }
  const { data, error, response } = outcome;
  if (response.ok) return data as T;
  const problem = typeof error === 'object' && typeof error.status === 'number' ? error : null;
  throw new ApiError(response.status, problem, `${response.status} ${response.statusText}`);
}

/** A human sentence for any error thrown by a call. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const first = error.problem?.errors?.[0];
    return first ? `${error.message}: ${first.message}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
