/**
 * @module The firewall module under test: a real app on a real store (test/helpers/app.ts) with helpers that
 * make sites and gateways through the services (no device is contacted) and call the API with a token.
 */
import type { LightMyRequestResponse } from 'fastify';
import { createGateway } from '../../src/firewall/gateways.ts';
import { createSite } from '../../src/identity/sites.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import type { StoreKind } from '../../src/store/db.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { testContext } from '../helpers/store.ts';

export interface FirewallHarness extends TestApp {
  site(name?: string): Promise<string>;
  gateway(siteId: string, name?: string): Promise<string>;
  /** Calls as the owner unless a token is given; fails the test on an unexpected status. */
  ok(method: string, url: string, payload?: unknown, status?: number, token?: string): Promise<any>;
}

export async function startFirewallHarness(kind: StoreKind = 'pglite'): Promise<FirewallHarness> {
  const base = await startTestApp(kind);
  const ctx = testContext(base.store, { keyring: base.keyring });
  let counter = 0;
  const expectStatus = (res: LightMyRequestResponse, status: number) => {
    if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
    return res.statusCode === 204 ? null : res.json();
  };
  return {
    ...base,
    async site(name = `site-${++counter}`) {
      return (await createSite(ctx, { name })).id;
    },
    async gateway(siteId, name = `gw-${++counter}`) {
      const gw = await createGateway(
        ctx,
        // A documentation address: passes the SSRF guard without an allow-list and is never contacted here.
        { name, site_id: siteId, url: `https://192.0.2.${(counter % 250) + 1}`, api_key: `key-${name}` },
        { allowHosts: parseHostAllowList('') },
      );
      return gw.id;
    },
    async ok(method, url, payload, status = 200, token = base.ownerToken) {
      return expectStatus(
        await base.call({ method: method, url, token, ...(payload !== undefined ? { payload: payload as object } : {}) }),
        status,
      );
    },
  };
}
