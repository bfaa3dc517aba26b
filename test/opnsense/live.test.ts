/**
 * @module OPNsense live reads and writes through the descriptor (src/adapters/live.ts, live-write.ts), against the
 * upstream-answer double: reads normalise, writes round-trip their before-images, a batch applies once per
 * subsystem, unavailable reads are refused with their reason, and entry details round-trip through the alias
 * description record (docs/adr/0185-opnsense-entry-details.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LivePortForwardBody, LiveRuleBody, LiveSourceNatBody } from '../../src/adapters/live-write.ts';
import { decodeEntries, encodeDescription, UNKNOWN_GRANT_DETAIL } from '../../src/adapters/opnsense/details.ts';
import { opnsenseVendor } from '../../src/adapters/opnsense/index.ts';
import { findVendor } from '../../src/adapters/vendors.ts';
import { type OpnSenseDouble, startDouble } from './device-double.ts';

describe('entry details in the alias description', () => {
  it('round-trips details keyed by address and keeps the operator text', () => {
    const entries = [
      { address: '192.0.2.1', detail: 'admin, laptop' },
      { address: '192.0.2.2', detail: 'portcullis:g-1' },
      { address: 'host.example', detail: '' },
    ];
    const d = encodeDescription('VPN users', entries);
    expect(d.startsWith('VPN users {{pc:')).toBe(true);
    expect(Buffer.byteLength(d)).toBeLessThanOrEqual(255);
    expect(decodeEntries(d, entries.map((e) => e.address))).toEqual({ descr: 'VPN users', entries });
  });

  it('overflows to a record of the manual entries; ours read back as portcullis:*', () => {
    const ours = Array.from({ length: 40 }, (_, i) => ({
      address: `198.51.100.${i + 1}`,
      detail: `portcullis:0f8e${String(i).padStart(4, '0')}-aaaa-4bbb-8ccc-0123456789ab`,
    }));
    const entries = [{ address: '192.0.2.1', detail: 'admin' }, ...ours];
    const d = encodeDescription('knoc', entries);
    expect(Buffer.byteLength(d)).toBeLessThanOrEqual(255);
    const back = decodeEntries(d, entries.map((e) => e.address));
    expect(back.descr).toBe('knoc');
    expect(back.entries[0]).toEqual({ address: '192.0.2.1', detail: 'admin' });
    expect(back.entries.slice(1).every((e) => e.detail === UNKNOWN_GRANT_DETAIL)).toBe(true);
  });

  it('an alias without a record reads every entry as manual', () => {
    expect(decodeEntries('plain', ['192.0.2.1']).entries).toEqual([{ address: '192.0.2.1', detail: '' }]);
  });
});

describe('OPNsense live reads and writes', () => {
  let dev: OpnSenseDouble;
  beforeAll(async () => {
    dev = await startDouble({ version: '26.7' });
  });
  afterAll(async () => {
    await dev.close();
  });
  const vendor = () => {
    const v = findVendor('opnsense');
    expect(v).toBe(opnsenseVendor);
    return opnsenseVendor;
  };
  const adapter = () =>
    vendor().createAdapter({
      url: dev.url,
      credentials: dev.credentials,
      tls: { mode: 'system' },
      lookup: (_host, _opts, cb) => {
        (cb as (e: null, a: string, f: number) => void)(null, '127.0.0.1', 4);
      },
    });

  it('the registry has OPNsense with key_secret credentials, the OPN family and its flags', () => {
    const v = vendor();
    expect(v.credentials).toBe('key_secret');
    expect(v.errors.family).toBe('OPN');
    expect(v.capabilities['read.ids_alerts']).toBe(true);
    expect(v.capabilities.native_expiry).toBe(false);
    expect(findVendor('pfsense')?.capabilities['read.ids_alerts']).toBe(false);
    for (const [flag, on] of Object.entries(v.capabilities)) {
      if (flag.startsWith('read.') && !on) expect(v.live?.unavailable[flag as keyof typeof v.capabilities], flag).toBeTruthy();
    }
  });

  it('reads status, rules, NAT, aliases, interfaces, states, services, firewall log and IDS alerts', async () => {
    const ad = adapter();
    const live = vendor().live?.open(ad);
    if (!live) throw new Error('no live view');
    dev.states.push({ src: '203.0.113.5:5000', dst: '10.0.0.2:22' });
    dev.firewallLog.push({ __timestamp__: '2026-12-07T03:00:00', action: 'block', interface: 'igb0', dir: 'in', ipversion: '4', protoname: 'tcp', src: '203.0.113.9', srcport: '1234', dst: '10.0.0.1', dstport: '22', rid: 'abc', reason: 'match', length: '60' });
    dev.idsAlerts.push({ timestamp: '2026-12-07T03:01:00.000000+0000', flow_id: 123, alert: 'ET SCAN Nmap', alert_sid: 2000537, alert_action: 'allowed', src_ip: '203.0.113.9', src_port: 4444, dest_ip: '10.0.0.1', dest_port: 22, proto: 'TCP', filepos: 10, fileid: null });
    expect((await live.status()).product_version).toBe('26.7');
    expect((await live.interfaces()).items[0]).toMatchObject({ id: 'wan', device: 'igb0', ipv4: '198.51.100.2/24' });
    expect((await live.connections(10)).items[0]).toMatchObject({ source: '203.0.113.5:5000', destination: '10.0.0.2:22' });
    expect((await live.services()).items[0]).toMatchObject({ name: 'configd', running: true });
    const log = await live.firewallLog(10);
    expect(log.items[0]).toMatchObject({ action: 'block', source_ip: '203.0.113.9', dest_port: 22, vendor_rule_id: 'abc' });
    const alerts = await live.idsAlerts?.(10);
    expect(alerts?.items[0]).toMatchObject({ signature: 'ET SCAN Nmap', signature_id: 2000537, action_taken: 'alert', source_ip: '203.0.113.9' });
    await expect(live.arp()).rejects.toMatchObject({ code: 'OPN300' });
    await ad.close();
  });

  it('writes a rule, a port forward, a source NAT and an alias; before-images round-trip; one apply per subsystem', async () => {
    const ad = adapter();
    const w = vendor().writes?.open(ad);
    const live = vendor().live?.open(ad);
    if (!w || !live) throw new Error('no writer');
    const rule: LiveRuleBody = { action: 'deny', interface: 'wan', ip_version: 'inet', protocol: 'tcp', source_address: '203.0.113.0/24', source_port: null, dest_address: 'any', dest_port: '22', description: 'no ssh', is_enabled: true, log_enabled: true };
    const r = await w.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule });
    expect(await w.read('firewall_rule', r.target as string)).toEqual(rule);
    await w.write({ kind: 'firewall_rule', op: 'toggle', target: r.target as string, body: { is_enabled: false } });
    expect((await w.read('firewall_rule', r.target as string))?.is_enabled).toBe(false);
    await w.write({ kind: 'firewall_rule', op: 'update', target: r.target as string, body: rule });
    expect(await w.read('firewall_rule', r.target as string)).toEqual(rule);

    const pf: LivePortForwardBody = { interface: 'wan', protocol: 'tcp', source_address: 'any', dest_address: 'wanip', dest_port: '8443', target_address: '10.0.0.5', target_port: '443', description: 'web', is_enabled: true };
    const p = await w.write({ kind: 'port_forward', op: 'create', target: null, body: pf });
    expect(await w.read('port_forward', p.target as string)).toEqual(pf);
    await w.write({ kind: 'port_forward', op: 'toggle', target: p.target as string, body: { is_enabled: false } });
    expect((await w.read('port_forward', p.target as string))?.is_enabled).toBe(false);

    const sn: LiveSourceNatBody = { interface: 'wan', protocol: 'any', source_address: '10.0.0.0/24', dest_address: 'any', target_address: 'wanip', description: 'out', is_enabled: true };
    const s = await w.write({ kind: 'source_nat', op: 'create', target: null, body: sn });
    expect(await w.read('source_nat', s.target as string)).toEqual(sn);

    await w.write({ kind: 'alias', op: 'create', target: null, body: { name: 'managed', type: 'host', description: 'm', entries: [{ address: '192.0.2.7', detail: 'ops' }] } });
    expect(await w.read('alias', 'managed')).toEqual({ name: 'managed', type: 'host', description: 'm', entries: [{ address: '192.0.2.7', detail: 'ops' }] });

    expect((await w.pendingSubsystems()).sort()).toEqual(['alias', 'd_nat', 'filter', 'source_nat']);
    const before = dev.requests.length;
    await w.apply();
    const applies = dev.requests.slice(before).map((q) => q.path);
    expect(applies).toEqual(['/api/firewall/alias/reconfigure', '/api/firewall/d_nat/apply', '/api/firewall/source_nat/apply', '/api/firewall/filter/apply']);
    expect(await w.pendingSubsystems()).toEqual([]);

    const nat = await live.natRules();
    expect(nat.port_forwards[0]).toMatchObject({ write_target: p.target, is_enabled: false });
    expect((await live.firewallRules()).items[0]).toMatchObject({ vendor_rule_id: r.target, action: 'deny' });
    expect((await live.aliases()).items.find((a) => a.name === 'managed')?.entries).toEqual([{ address: '192.0.2.7', detail: 'ops' }]);

    await w.write({ kind: 'firewall_rule', op: 'delete', target: r.target as string, body: {} });
    expect(await w.read('firewall_rule', r.target as string)).toBeNull();
    await ad.close();
  });
});
