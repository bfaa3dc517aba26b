/**
 * @module Shared suite: HTTP conventions. The one error envelope on bad requests (wrong types, unknown
 * fields, over-long strings, malformed JSON, oversized bodies, 404/409), request ids, health and readiness,
 * metrics and the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreKind } from '../../src/store/db.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

interface BadRequest {
  row: string;
  method: 'POST' | 'PATCH' | 'GET';
  url: string;
  body?: string | Record<string, unknown>;
  contentType?: string;
  status: number;
  code: string;
  field?: string | null;
}

const BAD_REQUESTS: BadRequest[] = [
  {
    row: 'wrong type',
    method: 'POST',
    url: '/api/v1/groups',
    body: { name: 42 },
    status: 400,
    code: 'PC_ERR_VALIDATION',
    field: 'name',
  },
  {
    row: 'missing field',
    method: 'POST',
    url: '/api/v1/users',
    body: { username: 'no-password' },
    status: 400,
    code: 'PC_ERR_VALIDATION',
    field: 'password',
  },
  {
    row: 'unknown field on create',
    method: 'POST',
    url: '/api/v1/sites',
    body: { name: 'x', colour: 'red' },
    status: 400,
    code: 'PC_ERR_VALIDATION',
    field: 'colour',
  },
  {
    row: 'unknown nested field',
    method: 'POST',
    url: '/api/v1/auth/tokens',
    body: { name: 'n', permissions: ['audit.view'], extra: { a: 1 } },
    status: 400,
    code: 'PC_ERR_VALIDATION',
    field: 'extra',
  },
  {
    row: 'over-long string',
    method: 'POST',
    url: '/api/v1/groups',
    body: { name: 'g'.repeat(101) },
    status: 400,
    code: 'PC_ERR_VALIDATION',
    field: 'name',
  },
  {
    row: 'bad array item',
    method: 'POST',
    url: '/api/v1/roles',
    body: { name: 'r', permissions: ['users.manage', 7] },
    status: 400,
    code: 'PC_ERR_VALIDATION',
    field: 'permissions.1',
  },
  {
    row: 'unknown permission code (service check)',
    method: 'POST',
    url: '/api/v1/roles',
    body: { name: 'r2', permissions: ['users.manage', 'nope.nope'] },
    status: 400,
    code: 'PC_ERR_VALIDATION',
    field: 'permissions.1',
  },
  {
    row: 'bad email format',
    method: 'POST',
    url: '/api/v1/users',
    body: { username: 'mail', password: 'long-enough-password', email: 'not-mail' },
    status: 400,
    code: 'PC_ERR_VALIDATION',
    field: 'email',
  },
  {
    row: 'empty patch',
    method: 'PATCH',
    url: '/api/v1/groups/00000000-0000-4000-8000-00000000abcd',
    body: {},
    status: 400,
    code: 'PC_ERR_VALIDATION',
    field: 'body',
  },
  {
    row: 'bad query value',
    method: 'GET',
    url: '/api/v1/users?limit=0',
    status: 400,
    code: 'PC_ERR_VALIDATION',
    field: 'limit',
  },
  {
    row: 'unknown query parameter',
    method: 'GET',
    url: '/api/v1/users?colour=red',
    status: 400,
    code: 'PC_ERR_VALIDATION',
    field: 'colour',
  },
  {
    row: 'malformed JSON',
    method: 'POST',
    url: '/api/v1/groups',
    body: '{"name": "x",',
    contentType: 'application/json',
    status: 400,
    code: 'PC_ERR_MALFORMED_JSON',
    field: null,
  },
  {
    row: 'not JSON at all',
    method: 'POST',
    url: '/api/v1/groups',
    body: 'name=x',
    contentType: 'text/plain',
    status: 415,
    code: 'PC_ERR_UNSUPPORTED_MEDIA_TYPE',
    field: null,
  },
  {
    row: 'oversized body',
    method: 'POST',
    url: '/api/v1/groups',
    body: JSON.stringify({ name: 'x', description: 'd'.repeat(1_100_000) }),
    contentType: 'application/json',
    status: 413,
    code: 'PC_ERR_PAYLOAD_TOO_LARGE',
    field: null,
  },
  {
    row: 'unknown object id',
    method: 'GET',
    url: '/api/v1/users/00000000-0000-4000-8000-00000000abcd',
    status: 404,
    code: 'PC_ERR_NOT_FOUND',
    field: null,
  },
  {
    row: 'id that is not a UUID',
    method: 'GET',
    url: '/api/v1/groups/not-a-uuid',
    status: 404,
    code: 'PC_ERR_NOT_FOUND',
    field: null,
  },
  {
    row: 'unknown route',
    method: 'GET',
    url: '/api/v1/nothing-here',
    status: 404,
    code: 'PC_ERR_NOT_FOUND',
    field: null,
  },
  {
    row: 'short password (service rule)',
    method: 'POST',
    url: '/api/v1/users',
    body: { username: 'shorty', password: 'short' },
    status: 400,
    code: 'PC_ERR_VALIDATION',
    field: 'password',
  },
];

export function runConventionsSuite(kind: StoreKind): void {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('error envelope', () => {
    it.each(BAD_REQUESTS)(
      '$row → $status $code',
      async ({ method, url, body, contentType, status, code, field }) => {
        const before = await t.store.query<{ n: number }>('select count(*)::int as n from audit_log');
        const res = await t.call({
          method,
          url,
          token: t.ownerToken,
          ...(body !== undefined ? { payload: body } : {}),
          ...(contentType ? { headers: { 'content-type': contentType } } : {}),
        });
        expect(res.statusCode).toBe(status);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        const { error } = res.json();
        expect(Object.keys(error).sort()).toEqual(['code', 'field', 'message', 'request_id']);
        expect(error.code).toBe(code);
        if (field !== undefined) expect(error.field).toBe(field);
        if (field) expect(error.message).toContain(field.split('.')[0]);
        expect(error.request_id).toBe(res.headers['x-request-id']);
        // Nothing was written: a rejected change leaves no row, not even an audit entry.
        const after = await t.store.query<{ n: number }>('select count(*)::int as n from audit_log');
        expect(after[0]?.n).toBe(before[0]?.n);
      },
    );

    it('answers a conflict with 409 naming the field', async () => {
      const first = await t.call({
        method: 'POST',
        url: '/api/v1/groups',
        token: t.ownerToken,
        payload: { name: 'twice' },
      });
      expect(first.statusCode).toBe(201);
      const second = await t.call({
        method: 'POST',
        url: '/api/v1/groups',
        token: t.ownerToken,
        payload: { name: 'twice' },
      });
      expect(second.statusCode).toBe(409);
      expect(second.json().error).toMatchObject({ code: 'PC_ERR_CONFLICT', field: 'name' });
    });

    it('refuses to change a built-in role with 409', async () => {
      const roles = (await t.call({ method: 'GET', url: '/api/v1/roles', token: t.ownerToken })).json().items;
      const owner = roles.find((r: { name: string }) => r.name === 'owner');
      const res = await t.call({
        method: 'PATCH',
        url: `/api/v1/roles/${owner.id}`,
        token: t.ownerToken,
        payload: { description: 'x' },
      });
      expect(res.statusCode).toBe(409);
    });

    it('hides internal failures behind a generic 500 with the request id', async () => {
      const broken = await startTestApp(kind);
      await broken.store.query('alter table groups rename to groups_gone');
      try {
        const res = await broken.call({ method: 'GET', url: '/api/v1/groups', token: broken.ownerToken });
        expect(res.statusCode).toBe(500);
        expect(res.json().error).toMatchObject({
          code: 'PC_ERR_INTERNAL',
          message: 'Internal server error.',
          field: null,
        });
        expect(res.body).not.toMatch(/groups|relation|select/i);
      } finally {
        await broken.store.query('alter table groups_gone rename to groups');
        await broken.close();
      }
    });
  });

  describe('request ids', () => {
    it('generates a request id when none is sent', async () => {
      const res = await t.call({ method: 'GET', url: '/healthz' });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('keeps a sane incoming X-Request-Id and replaces an unsafe one', async () => {
      const kept = await t.call({
        method: 'GET',
        url: '/healthz',
        headers: { 'x-request-id': 'edge-proxy:1234' },
      });
      expect(kept.headers['x-request-id']).toBe('edge-proxy:1234');
      const replaced = await t.call({
        method: 'GET',
        url: '/healthz',
        headers: { 'x-request-id': 'evil\tvalue<script>' },
      });
      expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('operations endpoints', () => {
    it('reports liveness and readiness with the applied migrations', async () => {
      expect((await t.call({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
      const ready = await t.call({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ status: 'ready', store: kind });
      expect(ready.json().migrations).toBeGreaterThan(0);
    });

    it('reports not ready (503) when the store is unreachable', async () => {
      const down = await startTestApp(kind);
      await down.store.close();
      try {
        const res = await down.call({ method: 'GET', url: '/readyz' });
        expect(res.statusCode).toBe(503);
        expect(res.json().error.code).toBe('PC_ERR_UNAVAILABLE');
        expect((await down.call({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      } finally {
        await down.app.close();
      }
    });

    it('exposes Prometheus metrics with the HTTP histogram by route and status', async () => {
      await t.call({ method: 'GET', url: '/api/v1/users', token: t.ownerToken });
      const res = await t.call({ method: 'GET', url: '/metrics' });
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toMatch(
        /portcullis_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/users",status_code="200"\} \d+/,
      );
      expect(res.body).toContain('process_cpu_user_seconds_total');
    });

    it('publishes an OpenAPI 3.1 document with named components and every API route', async () => {
      const res = await t.call({ method: 'GET', url: '/api/openapi.json' });
      expect(res.statusCode).toBe(200);
      const doc = res.json();
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.components.schemas)).toEqual(
        expect.arrayContaining(['User', 'ErrorEnvelope', 'Role', 'AuditEntry']),
      );
      expect(JSON.stringify(doc)).not.toContain('def-0');
      const apiRoutes = new Set(
        t.app.declaredRoutes
          .filter((r) => r.url.startsWith('/api/v1/') && r.method !== 'HEAD')
          .map((r) => r.url.replace(/:([A-Za-z_]+)/g, '{$1}')),
      );
      expect(
        Object.keys(doc.paths)
          .filter((p) => p.startsWith('/api/v1/'))
          .sort(),
      ).toEqual([...apiRoutes].sort());
      expect(
        doc.paths['/api/v1/users'].post.requestBody.content['application/json'].schema.additionalProperties,
      ).toBe(false);
    });

    it('serves the docs UI as HTML at /api/docs/', async () => {
      const res = await t.call({ method: 'GET', url: '/api/docs/' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
    });

    it('sets nosniff and a self-only Content-Security-Policy on every response', async () => {
      const res = await t.call({ method: 'GET', url: '/healthz' });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    });
  });
}
