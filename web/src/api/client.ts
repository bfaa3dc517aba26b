/**
 * The typed API client (openapi-fetch over the generated `api.d.ts`). The CSRF token lives in this module's
 * memory only — never in browser storage — and goes out as `X-CSRF-Token` on every change; after a reload it
 * comes back from `GET /api/v1/auth/me` (ADR 0133). The session itself is the HttpOnly cookie.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './api';
import { ApiProblem } from './problem';

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (!SAFE_METHODS.has(request.method) && csrfToken) request.headers.set('x-csrf-token', csrfToken);
    return request;
  },
};

export const api = createClient<paths>({
  baseUrl: globalThis.location?.origin ?? '',
  credentials: 'same-origin',
});
api.use(csrfMiddleware);

/** The data of an openapi-fetch answer, or an `ApiProblem` built from the error envelope. */
export async function must<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) throw ApiProblem.from(response.status, error);
  return data as T;
}
