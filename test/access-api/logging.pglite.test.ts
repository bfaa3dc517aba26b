/**
 * @module No access secret reaches a log line, at the most verbose level: the gateway API key (create, test,
 * reconcile failures) and the EDL feed key (header or `?key=`). Reconcile failures are logged with
 * `(error PFSnnn)`.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { ensureOwner } from '../../src/identity/bootstrap.ts';
import { createApiToken } from '../../src/identity/tokens.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import { buildApp } from '../../src/server/app.ts';
import type { OpenedStore } from '../../src/store/open.ts';
import { freshPglite, testContext } from '../helpers/store.ts';
import { testSettings } from './harness.ts';

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});
let store: OpenedStore;
let emulator: PfRestEmulator;
let app: Awaited<ReturnType<typeof buildApp>>;
let token: string;

beforeAll(async () => {
  emulator = await startPfRestEmulator();
  store = await freshPglite();
  const keyring = Keyring.ephemeral();
  const boot = await ensureOwner({
    db: store.db,
    keyring,
    env: { PORTCULLIS_BOOTSTRAP_ADMIN: 'logger:log-test-password-123' },
  });
  if (!boot.created) throw new Error('expected a fresh store');
  token = (await createApiToken(testContext(store, { keyring }), { userId: boot.userId, name: 'log' })).token;
  app = await buildApp({
    store,
    keyring,
    config: loadConfig({}, { logLevel: 'trace' }),
    logger: { level: 'trace', stream: sink },
    accessSettings: testSettings(),
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await store?.close();
  await emulator?.close();
});

const call = (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = {}) =>
  app.inject({
    method,
    url,
    ...(payload ? { payload } : {}),
    headers: { authorization: `Bearer ${token}`, ...headers },
  });

it('keeps the gateway key and the feed key out of every line; failures carry (error PFSnnn)', async () => {
  const site = (await call('POST', '/api/v1/sites', { name: 'log-site' })).json().id;
  const gateway = await call('POST', '/api/v1/firewall/gateways', {
    name: 'log-gw',
    site_id: site,
    url: emulator.url,
    api_key: emulator.apiKey,
    ca_pem: emulator.caPem,
  });
  expect(gateway.statusCode, gateway.body).toBe(201);
  await call('POST', '/api/v1/firewall/gateways/test', { url: emulator.url, api_key: emulator.apiKey });
  const knoc = await call('POST', '/api/v1/access/knocs', {
    name: 'log-knoc',
    gateway_id: gateway.json().id,
    alias_name: 'pc_log',
    create_alias_if_missing: false,
  });
  await call('POST', '/api/v1/access/grants', { knoc_id: knoc.json().id, ip: '192.0.2.1', reason: 'log' });
  await app.access.settled();
  const passive = (
    await call('POST', '/api/v1/access/knocs', {
      name: 'log-feed',
      gateway_id: gateway.json().id,
      alias_name: 'pc_feed',
      mode: 'passive',
    })
  ).json();
  expect(
    (await app.inject({ method: 'GET', url: `/edl/${passive.feed_token}.txt?key=${passive.feed_key}` }))
      .statusCode,
  ).toBe(200);
  expect(
    (
      await app.inject({
        method: 'GET',
        url: `/edl/${passive.feed_token}.txt`,
        headers: { 'x-api-key': passive.feed_key },
      })
    ).statusCode,
  ).toBe(200);

  // Security finding 6: a percent-encoded query name still opens the feed, and its value is still redacted.
  for (const name of ['%6bey', '%6B%65%79', 'k%65y']) {
    const encoded = await app.inject({ method: 'GET', url: `/edl/${passive.feed_token}.txt?${name}=${passive.feed_key}` });
    expect(encoded.statusCode, name).toBe(200);
  }

  const all = lines.join('\n');
  expect(all).toContain('?%6bey=[redacted]');
  expect(all).toContain('(error PFS103)');
  expect(all).toContain('?key=[redacted]');
  expect(all).not.toContain(emulator.apiKey);
  expect(all).not.toContain(passive.feed_key);
});
