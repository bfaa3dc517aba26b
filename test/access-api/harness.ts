/**
 * @module The access API under test: a real app on a real store (PGlite or PostgreSQL) with the access runtime
 * configured by settings (the emulator's loopback host allow-listed, short backoff and timeouts), next to a
 * real pfRest emulator over HTTPS on loopback. Helpers create a site, a gateway and knocs through the API.
 */
import type { LightMyRequestResponse } from 'fastify';
import type { AccessSettings } from '../../src/access/service/runtime.ts';
import type { ServerConfig } from '../../src/config.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import type { StoreKind } from '../../src/store/db.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

export const ALIAS = 'pc_jit';

export function testSettings(overrides: Partial<AccessSettings> = {}): AccessSettings {
  return {
    allowHosts: parseHostAllowList('127.0.0.1,localhost'),
    trustedProxies: [],
    reconcileIntervalMs: null,
    backoff: { initialMs: 30, maxMs: 200, factor: 2, jitter: 0 },
    adapter: {
      timeouts: { connectMs: 1_000, headersMs: 700, bodyMs: 1_000 },
      apply: { mode: 'async', deadlineMs: 5_000, pollIntervalMs: 20 },
      retries: 0,
      breakerThreshold: 1_000,
    },
    ...overrides,
  };
}

export interface AccessHarness extends TestApp {
  emulator: PfRestEmulator;
  site(name?: string): Promise<string>;
  gateway(siteId: string, name?: string): Promise<string>;
  knoc(body: Record<string, unknown>): Promise<Record<string, unknown> & { id: string }>;
  /** Waits until no reconcile run is queued or in flight and outcomes are stored. */
  settled(): Promise<void>;
  applied(alias?: string): string[];
}

export async function startAccessHarness(
  kind: StoreKind = 'pglite',
  settings: Partial<AccessSettings> = {},
  options: {
    applyDelayMs?: number;
    emulator?: PfRestEmulator;
    config?: Partial<ServerConfig>;
  } = {},
): Promise<AccessHarness> {
  const emulator =
    options.emulator ?? (await startPfRestEmulator({ applyDelayMs: options.applyDelayMs ?? 20 }));
  const base = await startTestApp(kind, options.config, {
    accessSettings: testSettings(settings),
    debugLevel: 'debug',
  });
  const { app, call, ownerToken } = base;
  let counter = 0;
  const expectStatus = (res: LightMyRequestResponse, status: number) => {
    if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
    return res.json();
  };

  return {
    ...base,
    emulator,
    async site(name = `site-${++counter}`) {
      return expectStatus(
        await call({ method: 'POST', url: '/api/v1/sites', token: ownerToken, payload: { name } }),
        201,
      ).id;
    },
    async gateway(siteId, name = `gw-${++counter}`) {
      const res = await call({
        method: 'POST',
        url: '/api/v1/firewall/gateways',
        token: ownerToken,
        payload: {
          name,
          site_id: siteId,
          vendor: 'pfsense',
          url: emulator.url,
          api_key: emulator.apiKey,
          ca_pem: emulator.caPem,
        },
      });
      return expectStatus(res, 201).id;
    },
    async knoc(body) {
      const res = await call({
        method: 'POST',
        url: '/api/v1/access/knocs',
        token: ownerToken,
        payload: { name: `knoc-${++counter}`, alias_name: ALIAS, create_alias_if_missing: true, ...body },
      });
      return expectStatus(res, 201);
    },
    settled: () => app.access.settled(),
    applied: (alias = ALIAS) => emulator.state().tables[alias] ?? [],
    async close() {
      await base.close();
      if (!options.emulator) await emulator.close();
    },
  };
}
