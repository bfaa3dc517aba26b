/**
 * @module The lab with `PORTCULLIS_LAB_VENDORS=openwrt` (src/lab/openwrt.ts): registers a pinned `lab-openwrt`
 * gateway and the demo knoc on a store without gateways, the least-privilege `portcullis` login it keeps answers
 * through the OpenWrt descriptor, and the next start brings the same login, certificate and gateway back.
 */
import { lookup } from 'node:dns';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeFingerprint } from '../../src/adapters/http.ts';
import { findVendor } from '../../src/adapters/vendors.ts';
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
const env = { PORTCULLIS_LAB_VENDORS: 'openwrt' };

describe('lab: openwrt', () => {
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
    dataDir = mkdtempSync(join(tmpdir(), 'portcullis-lab-owrt-'));
    await ensureOwner({ db: store.db, keyring, env: { PORTCULLIS_BOOTSTRAP_ADMIN: 'owner:owner password 123' } });
  });

  afterEach(async () => {
    for (const lab of running.splice(0)) await lab.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers a pinned lab-openwrt gateway whose portcullis login answers, and comes back the same', async () => {
    const first = await start();
    const box = first.boxes[0] as RunningLab['boxes'][number];
    expect(first.boxes.map((b) => b.vendor)).toEqual(['openwrt']);
    const ctx = testContext(store, { keyring });
    expect(await getGateway(ctx, first.gatewayId)).toMatchObject({
      name: labGatewayName('openwrt'),
      vendor: 'openwrt',
      url: box.url,
      fingerprintSha256: normalizeFingerprint(box.fingerprint),
      hasCredentials: true,
    });
    expect(await listKnocs(ctx, { scope: 'all' })).toEqual([expect.objectContaining({ gatewayId: first.gatewayId, aliasName: LAB_ALIAS })]);

    const credentials = readLabRecord(labPaths(dataDir))?.boxes.openwrt?.credentials;
    expect(credentials?.username).toBe('portcullis');
    const vendor = findVendor('openwrt');
    if (vendor === undefined || credentials === undefined) throw new Error('openwrt is not registered');
    expect(vendor.listNaming.check(LAB_ALIAS)).toEqual({ ok: true });
    const adapter = vendor.createAdapter({ url: box.url, credentials, tls: { mode: 'fingerprint', sha256: box.fingerprint }, lookup });
    try {
      expect((await vendor.testConnection(adapter)).product).toContain('OpenWrt');
      await adapter.createAlias(LAB_ALIAS, 'host', 'lab');
      await adapter.setAliasEntries(LAB_ALIAS, [{ address: '198.51.100.9', detail: 'portcullis:lab', expiresAt: Date.now() + 60_000 }]);
      expect((await adapter.getAlias(LAB_ALIAS))?.entries.map((e) => e.address)).toEqual(['198.51.100.9']);
    } finally {
      await adapter.close();
    }

    await first.close();
    running.splice(0);
    const second = await start();
    expect(second.gatewayId).toBe(first.gatewayId);
    expect(second.boxes[0]).toMatchObject({ url: box.url, fingerprint: box.fingerprint });
    expect(readLabRecord(labPaths(dataDir))?.boxes.openwrt?.credentials).toEqual(credentials);
    expect(await listGateways(testContext(store, { keyring }), { scope: 'all' })).toHaveLength(1);
  });
});
