/**
 * @module The lab's start/register decisions on a real store (PGlite) with the real emulator: registers once on a
 * store without gateways (site, pinned gateway, demo knoc for the owner); comes back with the same key,
 * certificate and gateway on the next start; follows a taken port by updating the gateway URL; stays off when
 * told, when a real gateway exists, or when its own gateway was deleted. The process-level check (npm start,
 * the gateway test endpoint) is test/e2e/lab.test.ts.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeFingerprint } from '../../src/adapters/http.ts';
import { deleteKnoc, getKnoc, listKnocs } from '../../src/access/service/knocs.ts';
import { createGateway, deleteGateway, getGateway, listGateways } from '../../src/firewall/gateways.ts';
import { ensureOwner } from '../../src/identity/bootstrap.ts';
import { createSite } from '../../src/identity/sites.ts';
import { labPaths, readLabRecord } from '../../src/lab/emulator.ts';
import { LAB_ALIAS, LAB_KNOC, labGatewayName, type RunningLab, startLab } from '../../src/lab/index.ts';
import { LAB_EMULATORS } from '../../src/lab/vendors.ts';

const LAB_GATEWAY = labGatewayName('pfsense');
const box = (lab: RunningLab | null) => lab?.boxes[0] as RunningLab['boxes'][number];
import { EMPTY_ALLOW_LIST, parseHostAllowList } from '../../src/net/ssrf.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import type { OpenedStore } from '../../src/store/open.ts';
import { freshPglite, testContext } from '../helpers/store.ts';

const quiet = { info() {}, warn() {} };

describe('startLab', () => {
  let store: OpenedStore;
  let keyring: Keyring;
  let dataDir: string;
  let ownerId: string;
  const running: RunningLab[] = [];

  const start = async (env: NodeJS.ProcessEnv = {}) => {
    const lab = await startLab({ db: store.db, keyring, dataDir, allowHosts: EMPTY_ALLOW_LIST, env, log: quiet });
    if (lab) running.push(lab);
    return lab;
  };

  beforeEach(async () => {
    store = await freshPglite();
    keyring = Keyring.ephemeral();
    dataDir = mkdtempSync(join(tmpdir(), 'portcullis-lab-'));
    const boot = await ensureOwner({ db: store.db, keyring, env: { PORTCULLIS_BOOTSTRAP_ADMIN: 'owner:owner password 123' } });
    if (!boot.created) throw new Error('expected a fresh owner');
    ownerId = boot.userId;
  });

  afterEach(async () => {
    for (const lab of running.splice(0)) await lab.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers a pinned gateway and the demo knoc for the owner on a store without gateways', async () => {
    const lab = await start();
    expect(lab).not.toBeNull();
    const ctx = testContext(store, { keyring });
    const gateway = await getGateway(ctx, lab?.gatewayId as string);
    expect(gateway).toMatchObject({
      name: LAB_GATEWAY,
      url: box(lab).url,
      fingerprintSha256: normalizeFingerprint(box(lab).fingerprint),
      hasCredentials: true,
    });
    const knocs = await listKnocs(ctx, { scope: 'all' });
    expect(knocs).toEqual([
      expect.objectContaining({ name: LAB_KNOC, gatewayId: gateway.id, aliasName: LAB_ALIAS, mode: 'active' }),
    ]);
    const knoc = await getKnoc(ctx, (knocs[0] as { id: string }).id);
    expect(knoc.users).toEqual([ownerId]);
    expect(lab?.banner).toContain(box(lab).url);
    expect(statSync(labPaths(dataDir).record).mode & 0o777).toBe(0o600);
  });

  it('comes back on the next start with the same key, certificate, port and gateway — registered once', async () => {
    const first = (await start()) as RunningLab;
    const { url, fingerprint } = box(first);
    const credentials = readLabRecord(labPaths(dataDir))?.boxes.pfsense?.credentials;
    expect(credentials?.api_key).toMatch(/^[0-9a-f]{48}$/);
    await first.close();
    running.splice(0);
    const second = (await start()) as RunningLab;
    expect(second.gatewayId).toBe(first.gatewayId);
    expect(box(second)).toMatchObject({ url, fingerprint });
    expect(readLabRecord(labPaths(dataDir))?.boxes.pfsense?.credentials).toEqual(credentials);
    const ctx = testContext(store, { keyring });
    expect(await listGateways(ctx, { scope: 'all' })).toHaveLength(1);
    expect(await listKnocs(ctx, { scope: 'all' })).toHaveLength(1);
  });

  it('moves to a free port when its port is taken, and the gateway URL follows', async () => {
    const first = (await start()) as RunningLab;
    const port = box(first).port;
    await first.close();
    running.splice(0);
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const second = (await start()) as RunningLab;
      expect(box(second).port).not.toBe(port);
      const gateway = await getGateway(testContext(store, { keyring }), second.gatewayId);
      expect(gateway.url).toBe(box(second).url);
      expect(readLabRecord(labPaths(dataDir))?.boxes.pfsense?.port).toBe(box(second).port);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('allows exactly its own endpoint on top of the deployment allow-list', async () => {
    const lab = (await startLab({
      db: store.db,
      keyring,
      dataDir,
      allowHosts: parseHostAllowList('192.0.2.0/24'),
      env: {},
      log: quiet,
    })) as RunningLab;
    running.push(lab);
    expect([...(lab.allowHosts.endpoints ?? [])]).toEqual([`127.0.0.1:${box(lab).port}`]);
    expect(lab.allowHosts.ranges).toHaveLength(1);
  });

  it.each([
    { row: 'PORTCULLIS_LAB=off', env: { PORTCULLIS_LAB: 'off' } },
    { row: 'PORTCULLIS_LAB=false', env: { PORTCULLIS_LAB: 'false' } },
  ])('stays off with $row', async ({ env }) => {
    expect(await start(env)).toBeNull();
    expect(readLabRecord(labPaths(dataDir))).toBeNull();
  });

  it('stays off when a real gateway is configured', async () => {
    const ctx = testContext(store, { keyring });
    const site = await createSite(ctx, { name: 'hq' });
    await createGateway(
      ctx,
      { name: 'fw', vendor: 'pfsense', url: 'https://192.0.2.1', api_key: 'k', site_id: site.id },
      { allowHosts: EMPTY_ALLOW_LIST },
    );
    expect(await start()).toBeNull();
  });

  it('stays off once its gateway was deleted, and does not register again', async () => {
    const first = (await start()) as RunningLab;
    await first.close();
    running.splice(0);
    const ctx = testContext(store, { keyring });
    for (const knoc of await listKnocs(ctx, { scope: 'all' })) await deleteKnoc(ctx, knoc.id);
    await deleteGateway(ctx, first.gatewayId);
    expect(await start()).toBeNull();
    expect(await listGateways(ctx, { scope: 'all' })).toEqual([]);
  });

  it('reads PORTCULLIS_LAB_VENDORS: the default is the first lab emulator; an unknown vendor is refused by name', async () => {
    expect(LAB_EMULATORS[0]?.vendor).toBe('pfsense');
    await expect(start({ PORTCULLIS_LAB_VENDORS: 'nosuchwall' })).rejects.toThrow(/no lab emulator for vendor "nosuchwall".*known: pfsense/);
    const lab = await start({ PORTCULLIS_LAB_VENDORS: 'pfsense' });
    expect(lab?.boxes.map((b) => b.vendor)).toEqual(['pfsense']);
  });

  it('takes over the one-box lab.json of earlier versions (same key, same gateway)', async () => {
    const first = (await start()) as RunningLab;
    await first.close();
    running.splice(0);
    const now = readLabRecord(labPaths(dataDir))?.boxes.pfsense as NonNullable<ReturnType<typeof readLabRecord>>['boxes'][string];
    const { credentials, ...rest } = now;
    writeFileSync(labPaths(dataDir).record, JSON.stringify({ ...rest, apiKey: credentials.api_key }), { mode: 0o600 });
    const second = (await start()) as RunningLab;
    expect(second.gatewayId).toBe(first.gatewayId);
    expect(readLabRecord(labPaths(dataDir))?.boxes.pfsense?.credentials).toEqual(credentials);
    expect(await listGateways(testContext(store, { keyring }), { scope: 'all' })).toHaveLength(1);
  });
});
