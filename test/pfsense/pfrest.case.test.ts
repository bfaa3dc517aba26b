/**
 * @module The shared pfRest v2 conformance suite (docs/reference/prior-art.md §5.8): every test states the contract section it
 * checks (`docs/reference/pfrest-contract.md §n`). Run it against an implementation with `runPfRestContract({ name, start })`
 * from a short per-implementation file; a real pfSense can run it too, skipping the tests that need lab hooks.
 */
import { Agent, request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

export interface PfRestTarget {
  url: string;
  /** A key of an admin (`page-all`) user; KeyAuth must be enabled. */
  apiKey: string;
  /** PEM that trusts the target's certificate. */
  caPem: string;
  /** Local admin credentials for BasicAuth. */
  basic: { user: string; password: string };
  /** Back to a box with no aliases and one rule. */
  reset(): Promise<void>;
  /** A key for a user holding exactly these privileges. */
  keyWith(privileges: string[]): Promise<string>;
  /** Turns the REST API off/on (GUI action on a real box). */
  setEnabled(enabled: boolean): Promise<void>;
  close(): Promise<void>;
}

export interface ContractOptions {
  name: string;
  start(opts: { applyDelayMs: number }): Promise<PfRestTarget>;
  /** Tests to skip, each group with the reason (a skip without a reason is rejected). */
  skip?: Array<{ reason: string; tests: string[] }>;
}

interface Call {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: { code: number; status: string; response_id: string; message: string; data: unknown } & Record<
    string,
    unknown
  >;
}

export function runPfRestContract(opts: ContractOptions): void {
  const skipped = new Set<string>();
  for (const group of opts.skip ?? []) {
    if (group.reason.trim() === '') throw new Error('every skipped pfRest contract test needs a reason');
    for (const t of group.tests) skipped.add(t);
  }
  const test = (name: string, fn: () => Promise<void>) =>
    skipped.has(name) ? it.skip(name, fn) : it(name, fn);

  let t: PfRestTarget;
  let agent: Agent;

  async function call(
    method: string,
    path: string,
    o: {
      query?: string;
      json?: unknown;
      body?: string;
      headers?: Record<string, string>;
      /** `key` (the test key), `basic`, `none`, or any other text: sent as the API key. */
      auth?: string;
    } = {},
  ): Promise<Call> {
    const headers: Record<string, string> = { ...o.headers };
    const auth = o.auth ?? 'key';
    if (auth === 'key') headers['x-api-key'] = t.apiKey;
    else if (auth === 'basic')
      headers.authorization = `Basic ${Buffer.from(`${t.basic.user}:${t.basic.password}`).toString('base64')}`;
    else if (auth !== 'none') headers['x-api-key'] = auth;
    let body = o.body;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['content-type'] ??= 'application/json';
    }
    const res = await request(`${t.url}${path}${o.query ? `?${o.query}` : ''}`, {
      method: method as 'GET',
      headers,
      dispatcher: agent,
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.body.text();
    let parsed: Call['body'];
    try {
      parsed = JSON.parse(text) as Call['body'];
    } catch {
      parsed = { code: 0, status: '', response_id: '', message: '', data: null };
    }
    return { status: res.statusCode, headers: res.headers, text, body: parsed };
  }

  const createAlias = (fields: Record<string, unknown>) =>
    call('POST', '/api/v2/firewall/alias', { json: fields });
  const idOf = (c: Call) => (c.body.data as { id: number }).id;

  describe(`pfRest v2 contract: ${opts.name}`, () => {
    beforeAll(async () => {
      t = await opts.start({ applyDelayMs: 0 });
      agent = new Agent({ connect: { ca: t.caPem } });
    });
    afterAll(async () => {
      await agent.close();
      await t.close();
    });
    beforeEach(async () => {
      await t.reset();
    });

    describe('§1 transport and decoding', () => {
      test('§1 an URL without an endpoint gets nginx HTML 404, not the envelope', async () => {
        const r = await call('GET', '/api/v2/firewall/nothing_here');
        expect(r.status).toBe(404);
        expect(r.text).toContain('<html>');
        expect(r.body.response_id).toBe('');
      });

      test('§1 trailing slash is optional', async () => {
        expect((await call('GET', '/api/v2/system/version/')).status).toBe(200);
      });

      test('§1 an Accept list (axios default) → 406 CONTENT_HANDLER_ENCODE_NOT_FOUND', async () => {
        const r = await call('GET', '/api/v2/system/version', {
          headers: { accept: 'application/json, text/plain, */*' },
        });
        expect([r.status, r.body.response_id]).toEqual([406, 'CONTENT_HANDLER_ENCODE_NOT_FOUND']);
      });

      test('§1 Accept empty, */* or with parameters is JSON', async () => {
        for (const accept of ['*/*', 'application/json; charset=utf-8', 'APPLICATION/JSON']) {
          expect((await call('GET', '/api/v2/system/version', { headers: { accept } })).status).toBe(200);
        }
      });

      test('§1 Accept application/octet-stream on a JSON endpoint → 406 with a JSON body (test 22)', async () => {
        const r = await call('GET', '/api/v2/firewall/aliases', {
          headers: { accept: 'application/octet-stream' },
        });
        expect(r.status).toBe(406);
        expect(r.body.code).toBe(406);
      });

      test('§1 Content-Type: application/json on GET makes the server ignore the query → MODEL_REQUIRES_ID', async () => {
        await createAlias({ name: 'web', type: 'host' });
        const r = await call('GET', '/api/v2/firewall/alias', {
          query: 'id=0',
          headers: { 'content-type': 'application/json' },
        });
        expect([r.status, r.body.response_id]).toEqual([400, 'MODEL_REQUIRES_ID']);
        expect((await call('GET', '/api/v2/firewall/alias', { query: 'id=0' })).status).toBe(200);
      });

      test('§1 urlencoded values are type-inferred: a port sent as address[]=80 arrives as int → FIELD_INVALID_TYPE', async () => {
        const r = await call('POST', '/api/v2/firewall/alias', {
          body: 'name=ports&type=port&address[]=80',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        expect([r.status, r.body.response_id]).toEqual([400, 'FIELD_INVALID_TYPE']);
      });

      test('§1 urlencoded POST creates (test 14)', async () => {
        const r = await call('POST', '/api/v2/firewall/alias', {
          body: 'name=test_alias&type=host&descr=made+by+form',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        expect(r.status).toBe(200);
        expect(r.body.data).toEqual({
          id: 0,
          name: 'test_alias',
          type: 'host',
          descr: 'made by form',
          address: [],
          detail: [],
        });
      });

      test('§1 invalid JSON → 400 JSON_CONTENT_HANDLER_COULD_NOT_DECODE_JSON; other content type → 415', async () => {
        const bad = await call('POST', '/api/v2/firewall/alias', {
          body: '{nope',
          headers: { 'content-type': 'application/json' },
        });
        expect([bad.status, bad.body.response_id]).toEqual([
          400,
          'JSON_CONTENT_HANDLER_COULD_NOT_DECODE_JSON',
        ]);
        const xml = await call('POST', '/api/v2/firewall/alias', {
          body: '<a/>',
          headers: { 'content-type': 'text/xml' },
        });
        expect([xml.status, xml.body.response_id]).toEqual([415, 'CONTENT_HANDLER_DECODE_NOT_FOUND']);
      });

      test('§1 OPTIONS is not a usable preflight: 500 ENDPOINT_RECEIVED_UNEXPECTED_ERROR', async () => {
        const r = await call('OPTIONS', '/api/v2/firewall/alias', { auth: 'none' });
        expect([r.status, r.body.response_id]).toEqual([500, 'ENDPOINT_RECEIVED_UNEXPECTED_ERROR']);
      });
    });

    describe('§2 envelope', () => {
      test('§2 success: exactly code, status, response_id, message, data; HTTP 200; `/` escaped; newline', async () => {
        const r = await call('GET', '/api/v2/system/version');
        expect(r.status).toBe(200);
        expect(Object.keys(r.body)).toEqual(['code', 'status', 'response_id', 'message', 'data']);
        expect(r.body).toMatchObject({ code: 200, status: 'ok', response_id: 'SUCCESS', message: '' });
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.text.endsWith('\n')).toBe(true);
        const bad = await call('GET', '/api/v2/firewall/aliases', { headers: { accept: 'text/html' } });
        expect(bad.text).toContain('text\\/html');
      });

      test('§2 creates answer 200 (never 201) with the stored object', async () => {
        const r = await createAlias({
          name: 'web_servers',
          type: 'host',
          address: ['10.0.0.5', 'www.example.com'],
          detail: ['web1', 'web2'],
        });
        expect(r.status).toBe(200);
        expect(r.body.data).toEqual({
          id: 0,
          name: 'web_servers',
          type: 'host',
          descr: '',
          address: ['10.0.0.5', 'www.example.com'],
          detail: ['web1', 'web2'],
        });
      });

      test('§2 quotes in messages become backticks; errors carry data []', async () => {
        await createAlias({ name: 'dup', type: 'host' });
        const r = await createAlias({ name: 'dup', type: 'host' });
        expect(r.body).toEqual({
          code: 400,
          status: 'bad request',
          response_id: 'FIELD_MUST_BE_UNIQUE',
          message: 'Field `name` must be unique. Value is in use by object with ID `0`.',
          data: [],
        });
      });
    });

    describe('§3 pipeline order and §4 auth', () => {
      test('§4 no credentials → 401 AUTH_AUTHENTICATION_FAILED (test 9)', async () => {
        const r = await call('GET', '/api/v2/system/version', { auth: 'none' });
        expect(r.body).toEqual({
          code: 401,
          status: 'unauthorized',
          response_id: 'AUTH_AUTHENTICATION_FAILED',
          message: 'Authentication failed.',
          data: [],
        });
      });

      test('§4 a wrong X-API-Key → 401 (test 49)', async () => {
        expect((await call('GET', '/api/v2/system/version', { auth: 'badtoken' })).status).toBe(401);
      });

      test('§4 BasicAuth with the local admin authenticates; a wrong password → 401 with WWW-Authenticate', async () => {
        expect((await call('GET', '/api/v2/system/version', { auth: 'basic' })).status).toBe(200);
        const r = await call('GET', '/api/v2/system/version', {
          auth: 'none',
          headers: { authorization: `Basic ${Buffer.from(`${t.basic.user}:wrong`).toString('base64')}` },
        });
        expect(r.status).toBe(401);
        expect(r.headers['www-authenticate']).toBe('Basic realm="Login for pfSense REST API"');
      });

      test('§4 authenticated without the privilege → 403 AUTH_AUTHORIZATION_FAILED; with it → 200 (test 48)', async () => {
        const key = await t.keyWith(['api-v2-firewall-aliases-get']);
        expect((await call('GET', '/api/v2/firewall/aliases', { auth: key })).status).toBe(200);
        const r = await call('GET', '/api/v2/firewall/alias', { auth: key, query: 'id=0' });
        expect([r.status, r.body.response_id]).toEqual([403, 'AUTH_AUTHORIZATION_FAILED']);
      });

      test('§3 privileges are checked for the requested method before 405: PUT on the singular → 403 for a non-admin', async () => {
        const key = await t.keyWith(['api-v2-firewall-alias-get']);
        expect((await call('PUT', '/api/v2/firewall/alias', { auth: key, json: {} })).status).toBe(403);
        const admin = await call('PUT', '/api/v2/firewall/alias', { json: {} });
        expect(admin.body).toMatchObject({ code: 405, response_id: 'ENDPOINT_METHOD_NOT_ALLOWED' });
        expect(admin.body.message).toBe(
          'Resource at /api/v2/firewall/alias does not support the requested HTTP method `PUT`',
        );
      });

      test('§4 keys are issued by POST /auth/key with BasicAuth only, shown once, and act as their owner', async () => {
        const byKey = await call('POST', '/api/v2/auth/key', { json: { descr: 'x' } });
        expect([byKey.status, byKey.body.response_id]).toEqual([401, 'AUTH_AUTHENTICATION_FAILED']);
        const issued = await call('POST', '/api/v2/auth/key', {
          auth: 'basic',
          json: { descr: 'portcullis', hash_algo: 'sha512' },
        });
        expect(issued.status).toBe(200);
        const {
          key,
          username,
          length_bytes: lengthBytes,
        } = issued.body.data as { key: string; username: string; length_bytes: number };
        expect([username, lengthBytes]).toEqual([t.basic.user, 24]);
        expect(key).toMatch(/^[0-9a-f]{48}$/);
        expect((await call('GET', '/api/v2/system/version', { auth: key })).status).toBe(200);
        const listed = await call('GET', '/api/v2/auth/keys', { auth: 'basic' });
        expect(listed.text).not.toContain(key);
        const bad = await call('POST', '/api/v2/auth/key', { auth: 'basic', json: { length_bytes: 20 } });
        expect([bad.status, bad.body.response_id]).toEqual([400, 'FIELD_INVALID_CHOICE']);
      });

      test('§4 JWTAuth: once enabled, POST /auth/jwt (BasicAuth) issues a Bearer token; a tampered token → 401', async () => {
        const settings = await call('PATCH', '/api/v2/system/restapi/settings', {
          json: { auth_methods: ['BasicAuth', 'KeyAuth', 'JWTAuth'] },
        });
        expect(settings.status).toBe(200);
        const issued = await call('POST', '/api/v2/auth/jwt', { auth: 'basic' });
        const token = (issued.body.data as { token: string }).token;
        expect(token.split('.')).toHaveLength(3);
        const bearer = (value: string) =>
          call('GET', '/api/v2/system/version', {
            auth: 'none',
            headers: { authorization: `bearer ${value}` },
          });
        expect((await bearer(token)).status).toBe(200);
        const [head, , signature] = token.split('.');
        const forged = Buffer.from(JSON.stringify({ data: 'admin', exp: 4_102_444_800 })).toString(
          'base64url',
        );
        expect((await bearer(`${head}.${forged}.${signature}`)).status).toBe(401);
        await call('PATCH', '/api/v2/system/restapi/settings', {
          json: { auth_methods: ['BasicAuth', 'KeyAuth'] },
        });
      });

      test('§3 auth comes before Accept: no credentials and a bad Accept → 401', async () => {
        const r = await call('GET', '/api/v2/system/version', {
          auth: 'none',
          headers: { accept: 'text/plain, */*' },
        });
        expect(r.status).toBe(401);
      });

      test('§3 API disabled → 503 ENDPOINT_REST_API_IS_NOT_ENABLED before auth (test 10)', async () => {
        await t.setEnabled(false);
        const r = await call('GET', '/api/v2/system/version', { auth: 'none' });
        await t.setEnabled(true);
        expect(r.body).toMatchObject({
          code: 503,
          response_id: 'ENDPOINT_REST_API_IS_NOT_ENABLED',
          message: 'The REST API is currently not enabled.',
        });
        expect(r.headers['retry-after']).toBeDefined();
      });
    });

    describe('§5 control parameters and queries', () => {
      beforeEach(async () => {
        const r = await call('PUT', '/api/v2/firewall/aliases', {
          json: [
            { name: 'web_a', type: 'host', address: ['10.0.0.5'] },
            { name: 'net_b', type: 'network', address: ['10.0.0.0/24', '10.1.0.0/16'] },
            { name: 'web_c', type: 'host', address: ['10.0.0.7', 'web_a'], descr: 'nested' },
            { name: 'ports_d', type: 'port', address: ['80', '443'] },
          ],
        });
        expect(r.status).toBe(200);
      });

      const names = (c: Call) => (c.body.data as Array<{ name: string }>).map((a) => a.name);

      test('§5 filters: exact, startswith, contains on arrays, endswith on arrays, regex with delimiters', async () => {
        expect(names(await call('GET', '/api/v2/firewall/aliases', { query: 'type=host' }))).toEqual([
          'web_a',
          'web_c',
        ]);
        expect(
          names(await call('GET', '/api/v2/firewall/aliases', { query: 'name__startswith=web_' })),
        ).toEqual(['web_a', 'web_c']);
        expect(
          names(await call('GET', '/api/v2/firewall/aliases', { query: 'address__contains=10.0.0.5' })),
        ).toEqual(['web_a']);
        expect(
          names(await call('GET', '/api/v2/firewall/aliases', { query: 'address__endswith=web_a' })),
        ).toEqual(['web_c']);
        expect(
          names(
            await call('GET', '/api/v2/firewall/aliases', {
              query: `name__regex=${encodeURIComponent('/^(net|ports)_/')}`,
            }),
          ),
        ).toEqual(['net_b', 'ports_d']);
      });

      test('§5 a key naming no field is ignored; an unknown filter → 404 QUERY_FILTER_NOT_FOUND', async () => {
        expect(names(await call('GET', '/api/v2/firewall/aliases', { query: 'nmae=web_a' }))).toHaveLength(4);
        const r = await call('GET', '/api/v2/firewall/aliases', { query: 'name__like=web' });
        expect([r.status, r.body.response_id]).toEqual([404, 'QUERY_FILTER_NOT_FOUND']);
      });

      test('§5 ids stay the original positions under a query; query → page (test 31)', async () => {
        const r = await call('GET', '/api/v2/firewall/aliases', { query: 'type=host&limit=1&offset=1' });
        expect(r.body.data).toMatchObject([{ id: 2, name: 'web_c' }]);
      });

      test('§5 reverse without a query happens before paging (test 18)', async () => {
        expect(
          names(await call('GET', '/api/v2/firewall/aliases', { query: 'reverse=true&limit=2' })),
        ).toEqual(['ports_d', 'web_c']);
      });

      test('§5 sort_by keeps ids; sort_by id is not a field; bad sort_order (tests 23, 24, 34)', async () => {
        const r = await call('GET', '/api/v2/firewall/aliases', { query: 'sort_by=name' });
        expect((r.body.data as Array<{ id: number; name: string }>).map((a) => [a.name, a.id])).toEqual([
          ['net_b', 1],
          ['ports_d', 3],
          ['web_a', 0],
          ['web_c', 2],
        ]);
        expect(
          (await call('GET', '/api/v2/firewall/aliases', { query: 'sort_by=id' })).body.response_id,
        ).toBe('ENDPOINT_SORT_BY_FIELD_NON_EXISTENT_FIELD');
        expect(
          (
            await call('GET', '/api/v2/firewall/aliases', {
              query: 'sort_by=name&sort_order=unknown_sort_order',
            })
          ).body.response_id,
        ).toBe('ENDPOINT_SORT_ORDER_FIELD_UNKNOWN_SORT_ORDER');
      });

      test('§5 wrong control types → ENDPOINT_*_FIELD_INVALID_TYPE (test 13)', async () => {
        for (const [param, id] of [
          ['limit=invalid', 'ENDPOINT_LIMIT_FIELD_INVALID_TYPE'],
          ['offset=invalid', 'ENDPOINT_OFFSET_FIELD_INVALID_TYPE'],
          ['async=invalid', 'ENDPOINT_ASYNC_FIELD_INVALID_TYPE'],
          ['reverse=maybe', 'ENDPOINT_REVERSE_FIELD_INVALID_TYPE'],
        ]) {
          const r = await call('GET', '/api/v2/firewall/aliases', { query: param });
          expect([r.status, r.body.response_id]).toEqual([400, id]);
        }
      });

      test('§5 dry_run validates without storing; dry run on GET → 400 (test 26)', async () => {
        const dry = await createAlias({ name: 'dry_one', type: 'host', dry_run: true });
        expect(dry.body.data).toMatchObject({ id: 4, name: 'dry_one' });
        expect(names(await call('GET', '/api/v2/firewall/aliases'))).not.toContain('dry_one');
        const get = await call('GET', '/api/v2/firewall/aliases', { headers: { prefer: 'dry-run' } });
        expect([get.status, get.body.response_id]).toEqual([400, 'ENDPOINT_DRY_RUN_NOT_SUPPORTED_ON_GET']);
      });

      test('§6 DELETE plural needs a query; returns the deleted in ascending order with old ids (tests 16, 30)', async () => {
        expect((await call('DELETE', '/api/v2/firewall/aliases')).body.response_id).toBe(
          'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS',
        );
        const r = await call('DELETE', '/api/v2/firewall/aliases', { query: 'type=host' });
        expect((r.body.data as Array<{ id: number; name: string }>).map((a) => [a.id, a.name])).toEqual([
          [0, 'web_a'],
          [2, 'web_c'],
        ]);
        expect(names(await call('GET', '/api/v2/firewall/aliases'))).toEqual(['net_b', 'ports_d']);
      });
    });

    describe('§6 and §8 aliases', () => {
      test('§6 ids are positions: after deleting id 0 the next alias becomes id 0 (tests 14, 28)', async () => {
        await createAlias({ name: 'first', type: 'host' });
        await createAlias({ name: 'second', type: 'host' });
        const del = await call('DELETE', '/api/v2/firewall/alias', { query: 'id=0' });
        expect(del.body.data).toMatchObject({ id: 0, name: 'first' });
        expect((await call('GET', '/api/v2/firewall/alias', { query: 'id=0' })).body.data).toMatchObject({
          id: 0,
          name: 'second',
        });
        expect((await call('GET', '/api/v2/firewall/alias', { query: 'id=1' })).body).toMatchObject({
          code: 404,
          response_id: 'MODEL_OBJECT_NOT_FOUND',
          message: 'Object with ID `1` does not exist.',
        });
      });

      test('§6 id missing: GET/PATCH → 400 MODEL_REQUIRES_ID, DELETE → 500 MODEL_ID_REQUIRED_FOR_REFRESH', async () => {
        expect((await call('GET', '/api/v2/firewall/alias')).body.response_id).toBe('MODEL_REQUIRES_ID');
        expect(
          (await call('PATCH', '/api/v2/firewall/alias', { json: { descr: 'x' } })).body.response_id,
        ).toBe('MODEL_REQUIRES_ID');
        const del = await call('DELETE', '/api/v2/firewall/alias');
        expect([del.status, del.body.response_id]).toEqual([500, 'MODEL_ID_REQUIRED_FOR_REFRESH']);
      });

      test('§6 placement inserts at the index (test 29)', async () => {
        for (const name of ['a1', 'a2', 'a3']) await createAlias({ name, type: 'host' });
        expect(idOf(await createAlias({ name: 'a_new', type: 'host', placement: 1 }))).toBe(1);
      });

      test('§6 PATCH merges fields; an array sent replaces; append / remove (tests 19, 20)', async () => {
        await createAlias({ name: 'lst', type: 'host', descr: 'keep me', address: ['127.0.0.1'] });
        const appended = await call('PATCH', '/api/v2/firewall/alias', {
          json: { id: 0, address: ['127.0.0.2'], append: true },
        });
        expect(appended.body.data).toMatchObject({ descr: 'keep me', address: ['127.0.0.1', '127.0.0.2'] });
        await call('PATCH', '/api/v2/firewall/alias', {
          json: { id: 0, address: ['127.0.0.1', '127.0.0.2', '127.0.0.3'] },
        });
        const removed = await call('PATCH', '/api/v2/firewall/alias', {
          json: { id: 0, address: ['127.0.0.2'], remove: true },
        });
        expect(removed.body.data).toMatchObject({ address: ['127.0.0.1', '127.0.0.3'] });
      });

      test('§8 the name is immutable → FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE', async () => {
        await createAlias({ name: 'fixed', type: 'host' });
        const r = await call('PATCH', '/api/v2/firewall/alias', { json: { id: 0, name: 'renamed' } });
        expect([r.status, r.body.response_id]).toEqual([400, 'FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE']);
        expect(
          (
            await call('PATCH', '/api/v2/firewall/alias', {
              json: { id: 0, name: 'fixed', descr: 'same name is fine' },
            })
          ).status,
        ).toBe(200);
      });

      test('§8 more details than addresses → TOO_MANY_ALIAS_DETAILS, on create and when a PATCH shortens address only (test 5)', async () => {
        const r = await createAlias({
          name: 'd',
          type: 'host',
          address: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'],
          detail: ['1', '2', '3', '4', '5'],
        });
        expect(r.body.response_id).toBe('TOO_MANY_ALIAS_DETAILS');
        await createAlias({ name: 'd', type: 'host', address: ['1.1.1.1', '1.1.1.2'], detail: ['1', '2'] });
        expect(
          (await call('PATCH', '/api/v2/firewall/alias', { json: { id: 0, address: ['1.1.1.1'] } })).body
            .response_id,
        ).toBe('TOO_MANY_ALIAS_DETAILS');
        const both = await call('PATCH', '/api/v2/firewall/alias', {
          json: { id: 0, address: ['1.1.1.1'], detail: ['1'] },
        });
        expect(both.body.data).toMatchObject({ address: ['1.1.1.1'], detail: ['1'] });
      });

      test('§8 fewer details than addresses are stored exactly as sent', async () => {
        const r = await createAlias({
          name: 'short_d',
          type: 'host',
          address: ['1.1.1.1', '1.1.1.2'],
          detail: ['only one'],
        });
        expect(r.body.data).toMatchObject({ detail: ['only one'] });
      });

      test('§8 type choices are host, network, port', async () => {
        const r = await createAlias({ name: 'u', type: 'url' });
        expect(r.body).toMatchObject({
          response_id: 'FIELD_INVALID_CHOICE',
          message: 'Field `type` must be one of [host, network, port]',
        });
      });

      test('§6 PUT plural: an object → INDEXED_ARRAY error; a list may reference earlier entries (tests 6, 15)', async () => {
        expect(
          (await call('PUT', '/api/v2/firewall/aliases', { json: { name: 'x', type: 'host' } })).body
            .response_id,
        ).toBe('ENDPOINT_REQUEST_DATA_MUST_BE_INDEXED_ARRAY');
        const ok = await call('PUT', '/api/v2/firewall/aliases', {
          json: [
            { name: 'inner', type: 'host', address: ['10.9.9.9'] },
            { name: 'outer', type: 'host', address: ['inner'] },
          ],
        });
        expect(ok.status).toBe(200);
      });
    });

    describe('§8 alias name rules', () => {
      it.each([
        ['dash rejected', 'bad-name', 'FILTER_NAME_VALIDATOR_INVALID_CHARACTERS'],
        ['dot rejected', 'bad.name', 'FILTER_NAME_VALIDATOR_INVALID_CHARACTERS'],
        ['reserved table sshguard (test 1)', 'sshguard', 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED'],
        ['reserved IPsec (test 1)', 'IPsec', 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED'],
        ['pf keyword pass', 'pass', 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED'],
        ['pf keyword syncookies', 'syncookies', 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED'],
        ['pf fuzzy token returnicmp6', 'returnicmp6', 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED'],
        ['interface id upper-cased', 'WAN', 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED'],
        ['interface network name', 'LAN__NETWORK', 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED'],
        ['pkg_ prefix (test 1)', 'pkg_anything', 'FILTER_NAME_VALIDATOR_CANNOT_START_WITH_PKG'],
        ['numeric', '123', 'FILTER_NAME_VALIDATOR_CANNOT_BE_NUMERICAL'],
        ['numeric exponent', '1e5', 'FILTER_NAME_VALIDATOR_CANNOT_BE_NUMERICAL'],
        ['interface id', 'wan', 'FILTER_NAME_VALIDATOR_NAME_IN_USE_BY_INTERFACE'],
        ['longer than 31', 'a'.repeat(32), 'LENGTH_VALIDATOR_MAXIMUM_CONSTRAINT'],
        ['service name', 'https', 'INVALID_FIREWALL_ALIAS_NAME'],
        ['protocol name', 'tcp', 'INVALID_FIREWALL_ALIAS_NAME'],
        ['only underscores', '___', 'INVALID_FIREWALL_ALIAS_NAME'],
      ])('§8 %s: %s → %s', async (_label, name, id) => {
        const r = await createAlias({ name, type: 'host' });
        expect([r.status, r.body.response_id]).toEqual([400, id]);
      });

      it.each([
        ['31 characters', 'a'.repeat(31)],
        ['mixed case with digits and underscore', 'Jit_Users_2'],
        ['const (not in $pf_reserved_keywords)', 'const'],
        ['persist (not in $pf_reserved_keywords)', 'persist'],
        ['self (not in $pf_reserved_keywords)', 'self'],
        ['enc0 (an interface name, not a reserved word)', 'enc0'],
      ])('§8 accepted: %s', async (_label, name) => {
        expect((await createAlias({ name, type: 'host' })).status).toBe(200);
      });

      it('§6 is_validaliasname runs after the other fields: a bad type is reported before a service name', async () => {
        const r = await createAlias({ name: 'https', type: 'url' });
        expect([r.status, r.body.response_id]).toEqual([400, 'FIELD_INVALID_CHOICE']);
      });
    });

    describe('§8 alias address rules per type', () => {
      it.each([
        ['host: IPv4', 'host', '10.0.0.5', 200],
        ['host: IPv6', 'host', '2001:db8::5', 200],
        ['host: link-local IPv6 with scope', 'host', 'fe80::1%em0', 200],
        ['host: FQDN', 'host', 'dns.google', 200],
        ['host: CIDR rejected', 'host', '10.0.0.0/24', 'INVALID_HOST_ALIAS_ADDRESS'],
        ['host: garbage rejected (test 2)', 'host', '!@# Not a host!', 'INVALID_HOST_ALIAS_ADDRESS'],
        ['network: CIDR', 'network', '10.0.0.0/24', 200],
        ['network: IPv6 CIDR', 'network', '2001:db8::/32', 200],
        ['network: bare IP rejected', 'network', '10.0.0.5', 'INVALID_NETWORK_ALIAS_ADDRESS'],
        ['network: prefix too long', 'network', '10.0.0.0/33', 'INVALID_NETWORK_ALIAS_ADDRESS'],
        ['port: number as string', 'port', '443', 200],
        ['port: range with colon', 'port', '8000:8080', 200],
        ['port: service name', 'port', 'http', 200],
        ['port: dash range rejected', 'port', '80-90', 'INVALID_PORT_ALIAS_ADDRESS'],
        ['port: 0 rejected', 'port', '0', 'INVALID_PORT_ALIAS_ADDRESS'],
      ])('§8 %s', async (_label, type, address, expected) => {
        const r = await createAlias({ name: 'addr_test', type, address: [address] });
        if (expected === 200) expect(r.status).toBe(200);
        else expect([r.status, r.body.response_id]).toEqual([400, expected]);
      });

      test('§8 entries must be strings and address must be a list', async () => {
        expect((await createAlias({ name: 'p', type: 'port', address: [80] })).body.response_id).toBe(
          'FIELD_INVALID_TYPE',
        );
        expect((await createAlias({ name: 'p', type: 'host', address: '10.0.0.1' })).body.response_id).toBe(
          'FIELD_INVALID_MANY_VALUE',
        );
      });
    });

    describe('§6.1 and §7.3 apply', () => {
      const status = async () => (await call('GET', '/api/v2/firewall/apply')).body.data;

      test('§6.1 an alias write marks `aliases` pending; apply async:false clears it (applied:true)', async () => {
        await createAlias({ name: 'pend', type: 'host' });
        expect(await status()).toEqual({ applied: false, pending_subsystems: ['aliases'] });
        const r = await call('POST', '/api/v2/firewall/apply', { json: { async: false } });
        expect(r.body.data).toEqual({ applied: true, pending_subsystems: [] });
        expect(await status()).toEqual({ applied: true, pending_subsystems: [] });
      });

      test('§6.1 apply:true on the write leaves nothing pending', async () => {
        await createAlias({ name: 'now', type: 'host', apply: true });
        expect(await status()).toEqual({ applied: true, pending_subsystems: [] });
      });

      test('§6.1 a rule write marks nothing pending', async () => {
        const r = await call('POST', '/api/v2/firewall/rule', {
          json: {
            type: 'block',
            interface: ['wan'],
            ipprotocol: 'inet',
            protocol: 'tcp',
            source: 'any',
            destination: 'wan:ip',
            destination_port: '22',
          },
        });
        expect(r.status).toBe(200);
        expect(await status()).toEqual({ applied: true, pending_subsystems: [] });
      });

      test('§7.8 the live pf table holds the applied contents, not the configured ones', async () => {
        await createAlias({ name: 'live', type: 'host', address: ['192.0.2.1'], apply: true });
        await call('PATCH', '/api/v2/firewall/alias', { json: { id: 0, address: ['192.0.2.2'] } });
        const before = await call('GET', '/api/v2/diagnostics/table', { query: 'id=live' });
        expect(before.body.data).toEqual({ id: 'live', entries: ['192.0.2.1'], name: 'live' });
        await call('POST', '/api/v2/firewall/apply', { json: { async: false } });
        expect(
          (await call('GET', '/api/v2/diagnostics/table', { query: 'id=live' })).body.data,
        ).toMatchObject({ entries: ['192.0.2.2'] });
      });
    });

    describe('§7 other endpoints', () => {
      test('§7.1 version: base is the version up to the first dash (test 53)', async () => {
        const data = (await call('GET', '/api/v2/system/version')).body.data as Record<string, string>;
        expect(Object.keys(data)).toEqual(['version', 'base', 'patch', 'buildtime']);
        expect(data.base).toBe(data.version?.split('-')[0]);
      });

      test('§9 a rule may reference a host alias; a port alias as address → FILTER_ADDRESS_FIELD_INVALID; !any rejected', async () => {
        await createAlias({ name: 'admins', type: 'host', address: ['198.51.100.1'] });
        await createAlias({ name: 'web_ports', type: 'port', address: ['443'] });
        const base = {
          type: 'pass',
          interface: ['wan'],
          ipprotocol: 'inet',
          protocol: 'tcp',
          destination: 'wan:ip',
          destination_port: 'web_ports',
        };
        const ok = await call('POST', '/api/v2/firewall/rule', { json: { ...base, source: 'admins' } });
        expect(ok.body.data).toMatchObject({
          source: 'admins',
          destination_port: 'web_ports',
          floating: false,
          quick: null,
        });
        expect(
          (await call('POST', '/api/v2/firewall/rule', { json: { ...base, source: 'web_ports' } })).body
            .response_id,
        ).toBe('FILTER_ADDRESS_FIELD_INVALID');
        expect(
          (await call('POST', '/api/v2/firewall/rule', { json: { ...base, source: '!any' } })).body
            .response_id,
        ).toBe('FILTER_RULE_ADDRESS_FIELD_WITH_INVERT_ANY');
      });

      test('§9 several interfaces need floating (test 38)', async () => {
        const rule = {
          type: 'pass',
          interface: ['wan', 'lan'],
          ipprotocol: 'inet',
          source: 'any',
          destination: 'any',
        };
        expect((await call('POST', '/api/v2/firewall/rule', { json: rule })).body.response_id).toBe(
          'FIREWALL_RULE_MULTIPLE_INTERFACE_WITHOUT_FLOATING',
        );
        expect(
          (await call('POST', '/api/v2/firewall/rule', { json: { ...rule, floating: true } })).status,
        ).toBe(200);
      });

      test('§9 deleting the last rule → 403 MODEL_MANY_MINIMUM_REACHED', async () => {
        const rules = (await call('GET', '/api/v2/firewall/rules')).body.data as unknown[];
        expect(rules).toHaveLength(1);
        expect((await call('DELETE', '/api/v2/firewall/rule', { query: 'id=0' })).body.response_id).toBe(
          'MODEL_MANY_MINIMUM_REACHED',
        );
      });

      test('§7.6 states/size: maximum, default and current; maximumstates below 10 → 400', async () => {
        const size = (await call('GET', '/api/v2/firewall/states/size')).body.data as Record<string, unknown>;
        expect(Object.keys(size)).toEqual(['maximumstates', 'defaultmaximumstates', 'currentstates']);
        expect(typeof size.currentstates).toBe('number');
        expect(
          (await call('PATCH', '/api/v2/firewall/states/size', { json: { maximumstates: 5 } })).status,
        ).toBe(400);
      });

      test('§7.7 status/interfaces: live rows named by interface id with counters as integers', async () => {
        const rows = (await call('GET', '/api/v2/status/interfaces')).body.data as Array<
          Record<string, unknown>
        >;
        expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['wan', 'lan']));
        for (const r of rows) {
          expect(typeof r.mtu).toBe('string');
          expect(Number.isInteger(r.inbytes)).toBe(true);
          expect(typeof r.enable).toBe('boolean');
        }
      });

      test('§7.6 states: DELETE without a query → 400; the list is readable', async () => {
        expect((await call('DELETE', '/api/v2/firewall/states')).body.response_id).toBe(
          'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS',
        );
        expect(Array.isArray((await call('GET', '/api/v2/firewall/states')).body.data)).toBe(true);
      });
    });
  });
}
