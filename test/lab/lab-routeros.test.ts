/**
 * @module `PORTCULLIS_LAB_VENDORS=routeros`: the lab starts the RouterOS emulator (src/lab/routeros.ts), registers a
 * pinned `routeros` gateway and the demo knoc, the stored username/password work against the box through the
 * RouterOS adapter, and the next start comes back as the same box (credentials, certificate, gateway registered once).
 */
import { lookup } from 'node:dns';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeFingerprint } from '../../src/adapters/http.ts';
import { routerOsVendor } from '../../src/adapters/routeros/index.ts';
import { listKnocs } from '../../src/access/service/knocs.ts';
import { getGateway, listGateways } from '../../src/firewall/gateways.ts';
import { ensureOwner } from '../../src/identity/bootstrap.ts';
import { labPaths, readLabRecord } from '../../src/lab/emulator.ts';
import { LAB_ALIAS, labGatewayName, type RunningLab, startLab } from '../../src/lab/index.ts';
import { EMPTY_ALLOW_LIST } from '../../src/net/ssrf.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import type { OpenedStore } from '../../src/store/open.ts';
import { freshPglite, testContext } from '../helpers/store.ts';

const quiet = { info() {}, warn() {} };
const env = { PORTCULLIS_LAB_VENDORS: 'routeros' };

describe('lab with PORTCULLIS_LAB_VENDORS=routeros', () => {
  let store: OpenedStore;
  let keyring: Keyring;
  let dataDir: string;
  const running: RunningLab[] = [];

  const start = async () => {
    const lab = await startLab({ db: store.db, keyring, dataDir, allowHosts: EMPTY_ALLOW_LIST, env, log: quiet });
    if (lab) running.push(lab);
    return lab as RunningLab;
  };

  beforeEach(async () => {
    store = await freshPglite();
    keyring = Keyring.ephemeral();
    dataDir = mkdtempSync(join(tmpdir(), 'portcullis-lab-ros-'));
    const boot = await ensureOwner({ db: store.db, keyring, env: { PORTCULLIS_BOOTSTRAP_ADMIN: 'owner:owner password 123' } });
    if (!boot.created) throw new Error('expected a fresh owner');
  });

  afterEach(async () => {
    for (const lab of running.splice(0)) await lab.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the RouterOS emulator as a pinned routeros gateway with the demo knoc; its credentials work', async () => {
    const lab = await start();
    expect(lab.boxes.map((b) => b.vendor)).toEqual(['routeros']);
    const box = lab.boxes[0] as RunningLab['boxes'][number];
    expect(box.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ctx = testContext(store, { keyring });
    expect(await getGateway(ctx, box.gatewayId)).toMatchObject({
      name: labGatewayName('routeros'),
      vendor: 'routeros',
      url: box.url,
      fingerprintSha256: normalizeFingerprint(box.fingerprint),
      hasCredentials: true,
    });
    expect(await listKnocs(ctx, { scope: 'all' })).toEqual([
      expect.objectContaining({ gatewayId: box.gatewayId, aliasName: LAB_ALIAS }),
    ]);
    const credentials = readLabRecord(labPaths(dataDir))?.boxes.routeros?.credentials ?? {};
    expect(credentials).toMatchObject({ username: 'admin', password: expect.any(String) });
    const adapter = routerOsVendor.createAdapter({
      url: box.url,
      credentials,
      tls: { mode: 'fingerprint', sha256: box.fingerprint },
      lookup,
    });
    try {
      expect((await routerOsVendor.testConnection(adapter)).product).toMatch(/^RouterOS 7\./);
    } finally {
      await adapter.close();
    }
  });

  it('comes back on the next start as the same box, registered once', async () => {
    const first = await start();
    const { url, fingerprint, gatewayId } = first.boxes[0] as RunningLab['boxes'][number];
    const credentials = readLabRecord(labPaths(dataDir))?.boxes.routeros?.credentials;
    await first.close();
    running.splice(0);
    const second = await start();
    expect(second.boxes[0]).toMatchObject({ vendor: 'routeros', url, fingerprint, gatewayId });
    expect(readLabRecord(labPaths(dataDir))?.boxes.routeros?.credentials).toEqual(credentials);
    expect(await listGateways(testContext(store, { keyring }), { scope: 'all' })).toHaveLength(1);
  });
});
