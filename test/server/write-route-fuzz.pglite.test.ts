/**
 * @module The regression guard for issue 8's security findings: every write route (POST/PUT/PATCH/DELETE)
 * listed in the OpenAPI document at run time — so routes added later are fuzzed without touching this file —
 * gets generated bad input, as the owner with a session (+ CSRF) and with an API token: wrong types, control
 * characters incl. NUL, huge and negative numbers, very long strings, unknown and prototype keys, malformed
 * bodies, and bad path ids (upper-case, invalid, too long, escaped). Required: no 5xx at all, and a refused
 * request (4xx) writes no row (every table's row count, and the audit log's successful entries, are equal
 * before and after; refusals may only add their own failure/denied audit entries and sign-in throttle rows).
 *
 * Values come from fast-check with a seed printed on failure (`PORTCULLIS_FUZZ_SEED=<n>` replays a run;
 * `PORTCULLIS_FUZZ_ONLY=/api/v1/users` narrows it to the paths starting so, to replay one failure quickly).
 * Paths with ids are tried against real objects made first (so the handlers behind validation run too) and
 * against ids that cannot exist. DELETE and sign-out routes run last so the fixtures and the session last.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER } from '../helpers/app.ts';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';

/**
 * A fixed seed by default, so CI is deterministic; `PORTCULLIS_FUZZ_SEED=random` explores. Seeds 54755965 and
 * 990052530 once left a reconcile run waiting forever: a PATCHed API key no HTTP header can carry (now refused
 * with a 400, and by the HTTP core before undici, whose pool kept a slot per refused header).
 */
const SEED =
  process.env.PORTCULLIS_FUZZ_SEED === 'random'
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(process.env.PORTCULLIS_FUZZ_SEED ?? 1406049561);
const ONLY = process.env.PORTCULLIS_FUZZ_ONLY ?? '';
/** Sampled property mutations per route and credential (on top of the fixed cases). */
const MUTATIONS_PER_ROUTE = 12;
const WRITE_METHODS = ['post', 'put', 'patch', 'delete'] as const;

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  minimum?: number;
  maximum?: number;
};
interface Operation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}
interface WriteRoute {
  method: Uppercase<(typeof WRITE_METHODS)[number]>;
  /** OpenAPI form, `/api/v1/users/{id}`. */
  path: string;
  pathParams: string[];
  body: JsonSchema | null;
}
interface Case {
  label: string;
  url: string;
  /** A raw JSON text (so `__proto__` keys and malformed bodies go out as written), or none. */
  payload?: string;
}

/** Bad values of every JSON kind; none is a URL with a host name, so no gateway check ever resolves DNS. */
const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    0,
    -1,
    -(2 ** 53) - 2,
    2 ** 53 + 2,
    1e308,
    -1e308,
    1.5,
    '',
    ' ',
    'a\u0000b',
    '\u0000',
    '\u001b[2J\u001b[31mred',
    'line\nbreak',
    'tab\tcarriage\rreturn',
    '\u007f\u0085\u009b',
    '\ud800',
    'x'.repeat(100_000),
    '0000-01-01T00:00:00Z',
    '275760-09-13T00:00:01Z',
    '%00',
    '../../etc/passwd',
    "'; drop table users; --",
    'NOT-A-UUID',
    '00000000-0000-0000-0000-00000000000G',
    [],
    [null],
    ['a\u0000'],
    [1e308, -1],
    Array.from({ length: 20_000 }, () => 'x'),
    {},
    { nested: { deeper: 'a\u0000' } },
  ),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => `${s}\u0000`),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((s) => /\p{Cc}/u.test(s)),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
  fc.double({ noNaN: true }).filter((n) => Math.abs(n) > 1e9),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.anything({ maxDepth: 1 }), { maxKeys: 3 }),
);

/** Raw bodies of the wrong shape altogether. */
const BAD_BODIES: readonly [string, string][] = [
  ['null body', 'null'],
  ['array body', '[1,2]'],
  ['string body', '"text"'],
  ['number body', '-1e308'],
  ['malformed JSON', '{"a":'],
  ['deeply nested', `${'['.repeat(5_000)}${']'.repeat(5_000)}`],
  ['__proto__ key', '{"__proto__":{"polluted":true,"isAdmin":true}}'],
  ['constructor key', '{"constructor":{"prototype":{"polluted":true}}}'],
];

const json = (value: unknown) => JSON.stringify(value) ?? 'null';

/** A plausible value for a schema (not always valid: the point is to get past the first check, not all). */
function plausible(schema: JsonSchema | undefined): unknown {
  if (!schema) return 'a';
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.anyOf?.length) return plausible(schema.anyOf.find((s) => s.type !== 'null') ?? schema.anyOf[0]);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'uuid') return randomUUID();
      if (schema.format === 'date-time') return '2030-01-01T00:00:00Z';
      if (schema.format === 'email') return 'fuzz@example.org';
      return 'a'.repeat(Math.max(1, schema.minLength ?? 1));
    case 'integer':
    case 'number':
      // An hour where allowed: an accepted grant or extension must not expire (and write) mid-run.
      return Math.max(schema.minimum ?? 1, Math.min(3600, schema.maximum ?? 3600));
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return baseBody(schema);
    default:
      return 'a';
  }
}

function baseBody(schema: JsonSchema): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const name of schema.required ?? []) body[name] = plausible(schema.properties?.[name]);
  return body;
}

function writeRoutes(doc: { paths: Record<string, Record<string, unknown>> }): WriteRoute[] {
  const routes: WriteRoute[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of WRITE_METHODS) {
      const op = item[method] as Operation | undefined;
      if (!op) continue;
      routes.push({
        method: method.toUpperCase() as WriteRoute['method'],
        path,
        pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
      });
    }
  }
  // Deletions and sign-outs last: the fixtures and the session must outlive the other routes.
  const rank = (r: WriteRoute) => (r.path.endsWith('/logout') ? 2 : r.method === 'DELETE' ? 1 : 0);
  return routes.sort((a, b) => rank(a) - rank(b));
}

let h: AccessHarness;
let session: { cookie: string; csrf: string };
/** Real object ids by the collection name that precedes them in a path (`users`, `knocs`…). */
const fixtures = new Map<string, string>();
let tableNames: string[] = [];

async function expectCreated(res: LightMyRequestResponse): Promise<string> {
  if (res.statusCode !== 201) throw new Error(`fixture: ${res.statusCode} ${res.body}`);
  return res.json().id ?? res.json().api_token?.id;
}

beforeAll(async () => {
  h = await startAccessHarness('pglite');
  const token = h.ownerToken;
  const post = (url: string, payload: unknown) => h.call({ method: 'POST', url, token, payload: payload as object });
  const siteId = await h.site();
  const gatewayId = await h.gateway(siteId);
  const user = await h.makeUser('fuzz-target', 'viewer');
  const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: 'pc_fuzz', users: [user.id] });
  const roleId = await expectCreated(await post('/api/v1/roles', { name: 'fuzz-role', permissions: ['gateway.view'] }));
  fixtures.set('sites', siteId);
  fixtures.set('gateways', gatewayId);
  fixtures.set('users', user.id);
  fixtures.set('userId', user.id);
  fixtures.set('knocs', knoc.id);
  fixtures.set('knocId', knoc.id);
  fixtures.set('roles', roleId);
  fixtures.set('groups', await expectCreated(await post('/api/v1/groups', { name: 'fuzz-group' })));
  const binding = await post('/api/v1/role-bindings', { role_id: roleId, user_id: user.id });
  fixtures.set('role-bindings', await expectCreated(binding));
  const grant = await post('/api/v1/access/grants', { knoc_id: knoc.id, ip: '192.0.2.10', reason: 'fuzz fixture' });
  fixtures.set('grants', await expectCreated(grant));
  fixtures.set('tokens', await expectCreated(await post('/api/v1/auth/tokens', { name: 'fuzz-token' })));
  session = await h.signIn(OWNER.username, OWNER.password);
  tableNames = (
    await h.store.query<{ name: string }>(
      `select table_name as name from information_schema.tables
       where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
    )
  ).map((r) => r.name);
}, 120_000);
afterAll(async () => {
  await h?.close();
});

/** Row counts of every table, with the audit log counted by its successful entries only. */
async function snapshot(): Promise<Record<string, number>> {
  const parts = tableNames
    .filter((name) => name !== 'login_throttle')
    .map((name) =>
      name === 'audit_log'
        ? `'audit_log (success)', (select count(*) from audit_log where outcome = 'success')`
        : `'${name}', (select count(*) from "${name}")`,
    );
  // A function takes at most 100 arguments: one object per 40 tables, joined.
  const objects: string[] = [];
  for (let i = 0; i < parts.length; i += 40) objects.push(`jsonb_build_object(${parts.slice(i, i + 40).join(', ')})`);
  const [row] = await h.store.query<{ counts: Record<string, number> }>(`select ${objects.join(' || ')} as counts`);
  return row?.counts ?? {};
}

/** The cases for one route: bad path ids, bad bodies, and sampled property mutations of a plausible body. */
function casesFor(route: WriteRoute, seed: number): Case[] {
  const realUrl = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const collection = name === 'id' ? route.path.split('/{id}')[0]?.split('/').pop() ?? '' : name;
    return fixtures.get(collection) ?? randomUUID();
  });
  const cases: Case[] = [];
  const body = route.body;
  const base = body ? json(baseBody(body)) : undefined;
  const withBody = (label: string, url: string, payload: string | undefined): Case =>
    payload === undefined ? { label, url } : { label, url, payload };

  if (route.pathParams.length > 0) {
    const ids: [string, string][] = [
      ['upper-case real id', realUrl.replace(/[0-9a-f-]{36}/g, (id) => id.toUpperCase())],
      ['unknown upper-case uuid', route.path.replace(/\{\w+\}/g, () => randomUUID().toUpperCase())],
      ['invalid id', route.path.replace(/\{\w+\}/g, 'not-a-uuid')],
      ['NUL id', route.path.replace(/\{\w+\}/g, '%00')],
      ['dot-dot id', route.path.replace(/\{\w+\}/g, '%2e%2e')],
      ['overlong id', route.path.replace(/\{\w+\}/g, 'f'.repeat(300))],
      ['nil uuid', route.path.replace(/\{\w+\}/g, '00000000-0000-0000-0000-000000000000')],
    ];
    for (const [label, url] of ids) cases.push(withBody(label, url, base));
  }
  if (body) {
    for (const [label, raw] of BAD_BODIES) cases.push(withBody(label, realUrl, raw));
    // Written as text: an object literal's `__proto__` would set its prototype, not send the key.
    const poisoned = '"__proto__":{"x":1},"constructor":{"prototype":{"x":1}}';
    const open = base && base !== '{}' ? `${base.slice(0, -1)},` : '{';
    cases.push(withBody('prototype keys beside a plausible body', realUrl, `${open}${poisoned}}`));
    cases.push(withBody('unknown key', realUrl, json({ ...baseBody(body), unknown_field_zz: 1 })));
    for (const name of body.required ?? []) {
      const { [name]: _dropped, ...rest } = baseBody(body);
      cases.push(withBody(`missing ${name}`, realUrl, json(rest)));
    }
    const names = Object.keys(body.properties ?? {});
    // Every property gets NUL (finding 5) and a value of the wrong JSON type; the rest is sampled.
    for (const name of names) {
      const kind = plausible(body.properties?.[name]);
      const wrongType = typeof kind === 'string' ? 12345 : Array.isArray(kind) ? { not: 'a list' } : 'a\u0000b';
      cases.push(withBody(`${name} with NUL`, realUrl, json({ ...baseBody(body), [name]: 'a\u0000b' })));
      cases.push(withBody(`${name} of the wrong type`, realUrl, json({ ...baseBody(body), [name]: wrongType })));
    }
    if (names.length > 0) {
      const samples = fc.sample(fc.tuple(fc.constantFrom(...names), badValue), {
        seed,
        numRuns: MUTATIONS_PER_ROUTE,
      });
      for (const [name, value] of samples) {
        const shown = json(value).slice(0, 40);
        cases.push(withBody(`${name} = ${shown}`, realUrl, json({ ...baseBody(body), [name]: value })));
      }
    }
  } else {
    cases.push(withBody('unexpected body', realUrl, '{"__proto__":{"x":1},"a":"\\u0000"}'));
  }
  return cases;
}

/** A request that gets no answer is a failure of its own, named, rather than a silent test timeout. */
const REQUEST_DEADLINE_MS = 20_000;

async function answeredWithin<T>(ms: number, where: string, answer: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${where}: no answer within ${ms} ms (seed ${SEED})`)), ms);
  });
  try {
    return await Promise.race([answer, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

describe('every write route from the OpenAPI document, fuzzed', () => {
  const title = 'answers generated bad input with 4xx (never 5xx) and writes nothing when it refuses';
  it(title, { timeout: 300_000 }, async () => {
    const doc = (await h.call({ method: 'GET', url: '/api/openapi.json' })).json();
    const all = writeRoutes(doc);
    expect(all.length).toBeGreaterThan(30);
    // A write route hidden from the document would escape the walk: every registered one must be listed.
    const listed = new Set(all.map((r) => `${r.method} ${r.path}`));
    const registered = h.app.declaredRoutes
      .filter((r) => (WRITE_METHODS as readonly string[]).includes(r.method.toLowerCase()))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(registered.filter((route) => !listed.has(route))).toEqual([]);
    const routes = all.filter((r) => r.path.startsWith(ONLY));
    const failures: string[] = [];
    let requests = 0;
    let seed = SEED;
    let last: Record<string, number> | undefined;
    // Printed first, so a run that hangs can be replayed too.
    console.info(`write-route fuzz: seed ${SEED} (PORTCULLIS_FUZZ_SEED=${SEED} replays it)`);
    for (const route of routes) {
      for (const credential of ['token', 'session'] as const) {
        for (const c of casesFor(route, seed++)) {
          const where = `${route.method} ${route.path} [${credential}] ${c.label}`;
          // Background work (reconcile outcomes of the fixtures) must not be counted against a request.
          await answeredWithin(REQUEST_DEADLINE_MS, `settling before ${where}`, h.settled());
          const before = last ?? (await snapshot());
          const res = await answeredWithin(REQUEST_DEADLINE_MS, where, h.app.inject({
            method: route.method,
            url: c.url,
            headers: {
              ...(credential === 'token'
                ? { authorization: `Bearer ${h.ownerToken}` }
                : { cookie: session.cookie, 'x-csrf-token': session.csrf }),
              ...(c.payload !== undefined ? { 'content-type': 'application/json' } : {}),
            },
            ...(c.payload !== undefined ? { payload: c.payload } : {}),
          }));
          requests++;
          await answeredWithin(REQUEST_DEADLINE_MS, `settling after ${where}`, h.settled());
          const after = await snapshot();
          last = after;
          // A kind the fixture gateway's vendor does not serve is refused 501 before its body is read (the
          // documented capability answer, src/server/routes/firewall-pending.ts): a refusal like a 4xx.
          const unsupported = res.statusCode === 501 && res.json().error?.code === 'PC_ERR_CAPABILITY_UNAVAILABLE';
          if (res.statusCode >= 500 && !unsupported) {
            failures.push(`${where} → ${res.statusCode} ${res.body.slice(0, 200)}`);
          } else if (res.statusCode >= 400) {
            const changed = Object.keys(after).filter((t) => after[t] !== before[t]);
            if (changed.length > 0) failures.push(`${where} → ${res.statusCode} but wrote to ${changed.join(', ')}`);
            if (res.json().error?.code === undefined) {
              failures.push(`${where} → ${res.statusCode} outside the error envelope`);
            }
          }
        }
      }
    }
    if (!ONLY) expect(requests).toBeGreaterThan(1_000);
    console.info(`write-route fuzz: ${routes.length} routes, ${requests} requests, seed ${SEED}`);
    expect(failures, `seed ${SEED} (PORTCULLIS_FUZZ_SEED=${SEED} replays it)`).toEqual([]);
  });
});
