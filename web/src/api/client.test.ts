import { afterEach, describe, expect, it } from 'vitest';
import { csrfMiddleware, setCsrfToken } from './client';
import { ApiProblem } from './problem';

type OnRequest = NonNullable<typeof csrfMiddleware.onRequest>;
const send = (method: string) =>
  (csrfMiddleware.onRequest as OnRequest)({
    request: new Request('http://127.0.0.1/api/v1/groups', { method }),
  } as Parameters<OnRequest>[0]) as Request;

afterEach(() => setCsrfToken(null));

describe('CSRF header', () => {
  it('goes out on every change, never on a read', () => {
    setCsrfToken('csrf-123');
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(send(method).headers.get('x-csrf-token')).toBe('csrf-123');
    for (const method of ['GET', 'HEAD']) expect(send(method).headers.get('x-csrf-token')).toBeNull();
  });

  it('is absent when signed out (the token is forgotten)', () => {
    setCsrfToken('csrf-123');
    setCsrfToken(null);
    expect(send('POST').headers.get('x-csrf-token')).toBeNull();
  });
});

describe('API errors', () => {
  const envelope = (field: string | null) => ({
    error: { code: 'PC_ERR_VALIDATION', message: 'bad', field, request_id: 'req-1' },
  });

  it('reads code, message, field and request id from the envelope', () => {
    const p = ApiProblem.from(400, envelope('alias_name'));
    expect(p).toMatchObject({ status: 400, code: 'PC_ERR_VALIDATION', message: 'bad', field: 'alias_name', requestId: 'req-1' });
  });

  it('a body that is not the envelope becomes a generic problem with the status', () => {
    const p = ApiProblem.from(502, '<html>bad gateway</html>');
    expect(p).toMatchObject({ status: 502, code: 'PC_ERR_HTTP', field: null });
  });

  it('maps a dotted field to the nearest field the form has, or to none', () => {
    const fields = ['name', 'site_ids', 'allowed_sources'];
    expect(ApiProblem.from(400, envelope('site_ids.2')).fieldIn(fields)).toBe('site_ids');
    expect(ApiProblem.from(400, envelope('name')).fieldIn(fields)).toBe('name');
    expect(ApiProblem.from(400, envelope('ttl_seconds')).fieldIn(fields)).toBeNull();
    expect(ApiProblem.from(400, envelope(null)).fieldIn(fields)).toBeNull();
  });
});
