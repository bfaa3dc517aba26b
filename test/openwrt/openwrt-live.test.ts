/**
 * @module OpenWrt live reads and writes against the OpenWrt emulator: every read the descriptor flags, and round
 * trips of rules, port forwards, source NAT and aliases through UCI staging applied with the device's rollback
 * (docs/adr/0201-openwrt-live-writes-apply-rollback.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OpenWrtError,
  openwrtLiveView,
  openwrtLiveWriter,
  openwrtVendor,
} from '../../src/adapters/openwrt/index.ts';
import type { LiveGateway } from '../../src/adapters/live.ts';
import { CAPABILITIES, NO_REASON, unavailableReason } from '../../src/adapters/registry.ts';
import type { LiveRuleBody } from '../../src/adapters/live-write.ts';
import { pair } from './adapter-harness.ts';

let h: Awaited<ReturnType<typeof pair>>;
let view: LiveGateway;
beforeAll(async () => {
  h = await pair();
  view = openwrtLiveView(h.adapter);
});
afterAll(async () => {
  await h.close();
});

const section = (name: string) =>
  h.emu.state().config.firewall?.sections.find((s) => s.name === name) ?? null;

describe('the descriptor', () => {
  it('is registered as openwrt and its adapter passes the connection test over a pinned certificate', async () => {
    const { findVendor } = await import('../../src/adapters/vendors.ts');
    const vendor = findVendor('openwrt');
    expect(vendor?.errors.family).toBe('OWRT');
    expect(vendor?.credentials).toBe('username_password');
    const login = h.emu.users.find((u) => u.username === 'portcullis') ?? h.emu.credentials;
    const adapter = vendor?.createAdapter({
      url: h.emu.url,
      credentials: { username: login.username, password: login.password },
      tls: { mode: 'fingerprint', sha256: h.emu.fingerprint ?? '' },
      lookup: (await import('node:dns')).lookup,
    });
    if (adapter === undefined) throw new Error('no adapter');
    expect((await vendor?.testConnection(adapter))?.product).toMatch(/OpenWrt/);
    expect(adapter.warnings).toEqual([]);
    await adapter.close();
  });
});

describe('live reads', () => {
  it('every read flag the descriptor sets has a reason when off', () => {
    const caps = openwrtVendor.capabilities;
    const off = Object.entries(caps)
      .filter(([flag, on]) => flag.startsWith('read.') && !on)
      .map(([flag]) => flag)
      .sort();
    expect(Object.keys(openwrtVendor.live?.unavailable ?? {}).sort()).toEqual(off);
  });

  it('every flag that is off states its own reason (docs/vendors.md), citing the reference', () => {
    for (const flag of CAPABILITIES.filter((f) => !openwrtVendor.capabilities[f])) {
      const why = unavailableReason(openwrtVendor, flag);
      expect(why, flag).not.toBe(NO_REASON);
      expect(why, flag).toMatch(/docs\/(reference\/(openwrt-api|brain-l3)|openwrt)\.md/);
    }
    expect(Object.keys(openwrtVendor.unavailable ?? {}).every((f) => !f.startsWith('read.'))).toBe(true);
  });

  it('status from system.board and system.info', async () => {
    const s = await view.status();
    expect(s.product_version).toMatch(/OpenWrt/);
    expect(s.uptime).toMatch(/ s$/);
    expect(s.vendor_data).toHaveProperty('board');
  });

  it('rules in UCI order with section names as ids, NAT, interfaces', async () => {
    const rules = (await view.firewallRules()).items;
    expect(rules.map((r) => r.position)).toEqual(rules.map((_, i) => i + 1));
    for (const r of rules) expect(typeof r.vendor_rule_id).toBe('string');
    const nat = await view.natRules();
    expect(Array.isArray(nat.port_forwards)).toBe(true);
    const ifaces = (await view.interfaces()).items;
    expect(ifaces.length).toBeGreaterThan(0);
    expect(ifaces.some((i) => i.id === 'lan')).toBe(true);
  });

  it('aliases read the live set', async () => {
    await h.adapter.createAlias('seen', 'host', 'a set');
    await h.adapter.setAliasEntries('seen', [{ address: '192.0.2.7', detail: 'portcullis:g7', expiresAt: Date.now() + 60_000 }]);
    const items = (await view.aliases()).items;
    expect(items.find((a) => a.name === 'seen')).toEqual({
      name: 'seen',
      type: 'host',
      description: 'a set',
      entries: [{ address: '192.0.2.7', detail: 'portcullis:g7' }],
    });
  });

  it('connections from luci.getConntrackList', async () => {
    h.emu.addConnection({ proto: 'tcp', src: '192.0.2.50', dst: '198.51.100.5', sport: 50_000, dport: 443 });
    const c = await view.connections(100);
    expect(c.items.some((x) => x.source === '192.0.2.50:50000' && x.destination === '198.51.100.5:443')).toBe(true);
  });

  it('DHCP leases from luci-rpc (the emulator has none)', async () => {
    expect((await view.dhcpLeases()).items).toEqual([]);
  });

  it('services, logs and the firewall log', async () => {
    expect((await view.services()).items.some((s) => s.name === 'firewall')).toBe(true);
    h.emu.addLog(
      'reject wan in: IN=eth1 OUT= MAC=52:54:00:12:34:56 SRC=203.0.113.50 DST=198.51.100.2 LEN=60 PROTO=TCP SPT=51515 DPT=22',
      'kern',
    );
    expect((await view.logs('system', 50)).items.length).toBeGreaterThan(0);
    const fw = await view.firewallLog(10);
    expect(fw.items.at(-1)).toMatchObject({ action: 'reject', source_ip: '203.0.113.50', dest_port: 22 });
  });

  it('health: reachability, interfaces, the firewall service', async () => {
    const health = await view.healthCheck();
    expect(health.checks.map((c) => c.name)).toEqual(['reachability', 'interfaces', 'services']);
    expect(health.checks[0]?.healthy).toBe(true);
  });

  it('an unavailable read is refused, never faked', async () => {
    await expect(view.arp()).rejects.toBeInstanceOf(OpenWrtError);
  });
});

const rule: LiveRuleBody = {
  action: 'allow',
  interface: 'wan',
  ip_version: 'inet',
  protocol: 'tcp',
  source_address: 'seen',
  source_port: null,
  dest_address: 'any',
  dest_port: '22',
  description: 'ssh from the granted set',
  is_enabled: true,
  log_enabled: false,
};

describe('live writes', () => {
  it('a rule: create (named section, placed before another), read, update with the before-image, toggle, delete', async () => {
    const w = openwrtLiveWriter(h.adapter);
    const first = (await view.firewallRules()).items[0]?.vendor_rule_id ?? null;
    const created = await w.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule, ...(first ? { before: first } : {}) });
    expect(created.target).toMatch(/^pc_[0-9a-f]{8}$/);
    expect(await w.pendingSubsystems()).toEqual(['firewall']);
    await w.apply();
    expect(await w.pendingSubsystems()).toEqual([]);
    expect(h.emu.state().pendingApply).toBeNull();
    const target = created.target as string;
    expect(section(target)?.options).toMatchObject({ target: 'ACCEPT', src: 'wan', ipset: 'seen', dest_port: '22', proto: 'tcp' });
    expect(await w.read('firewall_rule', target)).toEqual(rule);
    if (first) expect((await view.firewallRules()).items[0]?.vendor_rule_id).toBe(target);

    const before = await w.read('firewall_rule', target);
    await w.write({ kind: 'firewall_rule', op: 'update', target, body: { ...rule, dest_port: '2222', log_enabled: true } });
    await w.apply();
    expect(await w.read('firewall_rule', target)).toMatchObject({ dest_port: '2222', log_enabled: true });
    await w.write({ kind: 'firewall_rule', op: 'update', target, body: before as unknown as LiveRuleBody });
    await w.apply();
    expect(await w.read('firewall_rule', target)).toEqual(before);

    await w.write({ kind: 'firewall_rule', op: 'toggle', target, body: { is_enabled: false } });
    await w.apply();
    expect(await w.read('firewall_rule', target)).toMatchObject({ is_enabled: false });
    await w.write({ kind: 'firewall_rule', op: 'delete', target, body: {} });
    await w.apply();
    expect(await w.read('firewall_rule', target)).toBeNull();
  });

  it('an existing rule’s options beyond the neutral fields round-trip through vendor_data', async () => {
    const w = openwrtLiveWriter(h.adapter);
    const { target } = await w.write({ kind: 'firewall_rule', op: 'create', target: null, body: { ...rule, vendor_data: { dest: 'lan', icmp_type: ['echo-request'] } } });
    await w.apply();
    const read = await w.read('firewall_rule', target as string);
    expect(read).toMatchObject({ vendor_data: { dest: 'lan', icmp_type: ['echo-request'] } });
    await w.write({ kind: 'firewall_rule', op: 'update', target: target as string, body: read as unknown as LiveRuleBody });
    await w.apply();
    expect(await w.read('firewall_rule', target as string)).toEqual(read);
  });

  it('a port forward (redirect DNAT) and a source NAT (nat) round trip and show in the NAT read', async () => {
    const w = openwrtLiveWriter(h.adapter);
    const pf = {
      interface: 'wan', protocol: 'tcp', source_address: 'any', dest_address: 'any', dest_port: '8443',
      target_address: '192.168.1.20', target_port: '443', description: 'web', is_enabled: true,
    } as const;
    const sn = {
      interface: 'lan', protocol: 'any', source_address: '192.168.1.0/24', dest_address: 'any',
      target_address: '203.0.113.1', description: 'snat', is_enabled: true,
    } as const;
    const a = await w.write({ kind: 'port_forward', op: 'create', target: null, body: pf });
    const b = await w.write({ kind: 'source_nat', op: 'create', target: null, body: sn });
    await w.apply();
    expect(await w.read('port_forward', a.target as string)).toEqual(pf);
    expect(await w.read('source_nat', b.target as string)).toEqual(sn);
    const nat = await view.natRules();
    expect(nat.port_forwards.find((r) => r.write_target === a.target)).toMatchObject({ translated_address: '192.168.1.20', destination_port: '8443' });
    expect(nat.outbound.mappings.find((r) => r.write_target === b.target)).toMatchObject({ translated_address: '203.0.113.1' });
  });

  it('the device’s rollback: when the confirm never arrives, the router restores the configuration itself', async () => {
    const w = openwrtLiveWriter(h.adapter);
    const { target } = await w.write({ kind: 'firewall_rule', op: 'create', target: null, body: { ...rule, description: 'locks us out' } });
    h.emu.fault({ kind: 'drop', object: 'uci', method: 'confirm' });
    await expect(w.apply()).rejects.toBeInstanceOf(OpenWrtError);
    expect(section(target as string)).not.toBeNull();
    h.emu.advance(31_000);
    expect(section(target as string)).toBeNull();
  });

  it('staged writes whose session expired before the apply are refused, not silently lost', async () => {
    const w = openwrtLiveWriter(h.adapter);
    await w.write({ kind: 'firewall_rule', op: 'create', target: null, body: { ...rule, description: 'lost' } });
    h.emu.advance(301_000);
    await h.adapter.version().catch(() => undefined);
    await view.status();
    const err = await w.apply().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenWrtError);
    expect((err as OpenWrtError).code).toBe('OWRT500');
  });
});
