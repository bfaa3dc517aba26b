/**
 * @module IDS alerts of an OPNsense gateway reach `firewall_ids_alerts` through the sync (vendors with the
 * `read.ids_alerts` flag), once each: a second sync stores nothing twice. Against the OPNsense emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpnSenseAdapter, opnsenseVendor } from '../../src/adapters/opnsense/index.ts';
import { startOpnsenseEmulator, type OpnsenseEmulator } from '../../src/emulators/opnsense/index.ts';
import { listIdsAlerts } from '../../src/firewall/ids.ts';
import { syncGateway } from '../../src/firewall/sync.ts';
import type { OpenedStore } from '../../src/store/open.ts';
import { gateways } from '../../src/store/schema/access.ts';
import { DEFAULT_ORG_ID, sites } from '../../src/store/schema/tenancy.ts';
import { freshPglite, testContext } from '../helpers/store.ts';

describe('IDS alerts ingested by sync (OPNsense emulator, PGlite)', () => {
  let store: OpenedStore;
  let emu: OpnsenseEmulator;
  let adapter: OpnSenseAdapter;
  let gatewayId: string;
  beforeAll(async () => {
    store = await freshPglite();
    emu = await startOpnsenseEmulator({ version: '26.7' });
    adapter = new OpnSenseAdapter({
      url: emu.url,
      apiKey: emu.credentials.key,
      apiSecret: emu.credentials.secret,
      tls: { mode: 'fingerprint', sha256: emu.fingerprint },
    });
    const [site] = await store.db.insert(sites).values({ orgId: DEFAULT_ORG_ID, name: 'ids-site' }).returning();
    const [gw] = await store.db
      .insert(gateways)
      .values({ orgId: DEFAULT_ORG_ID, siteId: site?.id as string, name: 'opn', vendor: 'opnsense', url: emu.url })
      .returning();
    gatewayId = gw?.id as string;
  }, 60_000);
  afterAll(async () => {
    await adapter.close();
    await emu.close();
    await store.close();
  });

  it('stores each alert once, with signature, addresses and action', async () => {
    emu.addAlerts([
      // Suricata eve.json records; the emulator flattens them as queryAlertLog.py does (docs/reference/opnsense-api.md §6).
      { timestamp: '2026-12-07T03:01:00.000000+0000', flow_id: 1, event_type: 'alert', alert: { signature: 'ET SCAN Nmap', signature_id: 2000537, action: 'blocked', severity: 2, category: 'Attempted Information Leak' }, src_ip: '203.0.113.9', src_port: 4444, dest_ip: '10.0.0.1', dest_port: 22, proto: 'TCP' },
    ]);
    const ctx = testContext(store);
    const live = opnsenseVendor.live?.open(adapter);
    if (!live) throw new Error('no live view');
    const open = async () => ({ vendor: opnsenseVendor, live });
    await syncGateway(ctx, null, gatewayId, open, { fullSync: false });
    await syncGateway(ctx, null, gatewayId, open, { fullSync: false });
    const rows = await store.query<Record<string, unknown>>('select * from firewall_ids_alerts where device_id = $1', [gatewayId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ signature: 'ET SCAN Nmap', signature_id: 2000537, action_taken: 'blocked', source_ip: '203.0.113.9', dest_port: 22 });
    const listed = await listIdsAlerts(ctx, { scope: 'all', deviceId: gatewayId, limit: 10 });
    expect(JSON.stringify(listed)).toContain('ET SCAN Nmap');
  });
});
