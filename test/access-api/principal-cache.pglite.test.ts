/**
 * @module Cached principals are dropped at the right depth (ADR 0096): a grant POST keeps them, a change to
 * identity or rights drops them. The probe is a token revoked behind the server's back (straight in the
 * store): a request still passing with it proves the cached principal was kept; a 401 proves it was dropped.
 * The cache TTL is set far above the test's length so only invalidation can drop an entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeApiToken } from '../../src/identity/tokens.ts';
import { testContext } from '../helpers/store.ts';
import { type AccessHarness, startAccessHarness } from './harness.ts';

let h: AccessHarness;
let knocId: string;

beforeAll(async () => {
  h = await startAccessHarness('pglite', {}, { config: { authCacheTtlSeconds: 300 } });
  const siteId = await h.site();
  const gatewayId = await h.gateway(siteId);
  knocId = (await h.knoc({ gateway_id: gatewayId, site_id: siteId })).id;
});
afterAll(async () => {
  await h?.close();
});

/** A viewer whose token is cached by the server, then revoked in the store without telling the server. */
async function cachedThenRevokedBehindTheBack(username: string): Promise<string> {
  const user = await h.makeUser(username, 'viewer');
  const mine = await h.call({ method: 'GET', url: '/api/v1/auth/tokens', token: user.token });
  expect(mine.statusCode, mine.body).toBe(200);
  const [token] = mine.json().items as { id: string }[];
  await revokeApiToken(testContext(h.store, { keyring: h.keyring }), (token as { id: string }).id);
  return user.token;
}

const probe = (token: string) => h.call({ method: 'GET', url: '/api/v1/access/grants', token });

describe('principal cache invalidation', () => {
  it('keeps cached principals across grant writes', async () => {
    const token = await cachedThenRevokedBehindTheBack('cache-kept');
    const granted = await h.call({
      method: 'POST',
      url: '/api/v1/access/grants',
      token: h.ownerToken,
      payload: { knoc_id: knocId, ip: '198.51.100.7', reason: 'cache test' },
    });
    expect(granted.statusCode, granted.body).toBe(201);
    expect((await probe(token)).statusCode).toBe(200);
  });

  it.each([
    { row: 'a group is created', method: 'POST', url: '/api/v1/groups', payload: { name: 'cache-group' } },
    { row: 'a site is created', method: 'POST', url: '/api/v1/sites', payload: { name: 'cache-site' } },
  ] as const)('drops cached principals when $row', async ({ method, url, payload }) => {
    const token = await cachedThenRevokedBehindTheBack(`cache-dropped-${url.split('/').at(-1)}`);
    expect((await probe(token)).statusCode).toBe(200);
    const change = await h.call({ method, url, token: h.ownerToken, payload });
    expect(change.statusCode, change.body).toBe(201);
    expect((await probe(token)).statusCode).toBe(401);
  });
});
