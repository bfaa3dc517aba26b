/**
 * @module The lab with `PORTCULLIS_LAB_VENDORS=opnsense` (src/lab/opnsense.ts) on a real store (PGlite) with the real
 * OPNsense emulator: registers a pinned `lab-opnsense` gateway with key_secret credentials and the demo knoc, the
 * gateway's own adapter (built from the registry descriptor) talks to the box, and the next start brings back the same
 * key, secret, certificate and gateway.
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
const ENV = { PORTCULLIS_LAB_VENDORS: 'opnsense' };

describe('the lab with PORTCULLIS_LAB_VENDORS=opnsense', () => {
  let store: OpenedStore;
  let keyring: Keyring;
  let dataDir: string;
  const running: RunningLab[] = [];

  const start = async () => {
    const lab = await startLab({ db: store.db, keyring, dataDir, allowHosts: EMPTY_ALLOW_LIST, env: ENV, log: quiet });
    if (lab) running.push(lab);
    return lab as RunningLab;
  };

  beforeEach(async () => {
    store = await freshPglite();
    keyring = Keyring.ephemeral();
    dataDir = mkdtempSync(join(tmpdir(), 'portcullis-lab-opn-'));
    await ensureOwner({ db: store.db, keyring, env: { PORTCULLIS_BOOTSTRAP_ADMIN: 'owner:owner password 123' } });
  });

  afterEach(async () => {
    for (const lab of running.splice(0)) await lab.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers a pinned OPNsense gateway the adapter can talk to, and comes back as the same box', async () => {
    const first = await start();
    expect(first.boxes.map((b) => b.vendor)).toEqual(['opnsense']);
    const box = first.boxes[0] as RunningLab['boxes'][number];
    const ctx = testContext(store, { keyring });
    const gateway = await getGateway(ctx, first.gatewayId);
    expect(gateway).toMatchObject({
      name: labGatewayName('opnsense'),
      vendor: 'opnsense',
      url: box.url,
      fingerprintSha256: normalizeFingerprint(box.fingerprint),
      hasCredentials: true,
    });
    expect(await listKnocs(ctx, { scope: 'all' })).toEqual([
      expect.objectContaining({ gatewayId: gateway.id, aliasName: LAB_ALIAS, mode: 'active' }),
    ]);
    const credentials = readLabRecord(labPaths(dataDir))?.boxes.opnsense?.credentials;
    expect(credentials?.api_key).toHaveLength(80);
    expect(credentials?.api_secret).toHaveLength(80);

    const vendor = findVendor('opnsense');
    if (vendor === undefined) throw new Error('opnsense is not registered');
    const adapter = vendor.createAdapter({
      url: box.url,
      credentials: credentials ?? {},
      tls: { mode: 'fingerprint', sha256: box.fingerprint },
      lookup,
    });
    try {
      expect(adapter.vendor).toBe('opnsense');
      expect((await adapter.version()).product).toMatch(/^\d+\.\d+/);
    } finally {
      await adapter.close();
    }

    await first.close();
    running.splice(0);
    const second = await start();
    expect(second.gatewayId).toBe(first.gatewayId);
    expect(second.boxes[0]).toMatchObject({ url: box.url, fingerprint: box.fingerprint });
    expect(readLabRecord(labPaths(dataDir))?.boxes.opnsense?.credentials).toEqual(credentials);
    expect(await listGateways(ctx, { scope: 'all' })).toHaveLength(1);
  });
});
