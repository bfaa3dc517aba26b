/**
 * @module RouterOS live reads and writes (src/adapters/routeros/live-view.ts, live-write.ts) against the stand-in
 * router: the neutral shapes, rule order with `place-before`, NAT kinds, toggles, before-images that round-trip,
 * and refusals naming the field.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LiveRuleBody, LiveWriter } from '../../src/adapters/live-write.ts';
import type { LiveGateway } from '../../src/adapters/live.ts';
import {
  parseFirewallLogMessage,
  RouterOsAdapter,
  routerOsLiveView,
  routerOsLiveWriter,
} from '../../src/adapters/routeros/index.ts';
import { type FakeRouter, startFakeRouter } from './fake-router.ts';

describe('RouterOS live view and writer ↔ stand-in router', () => {
  let fake: FakeRouter;
  let ros: RouterOsAdapter;
  let view: LiveGateway;
  let writer: LiveWriter;
  beforeEach(async () => {
    fake = await startFakeRouter();
    ros = new RouterOsAdapter({ url: fake.url, username: 'admin', password: 'secret', retry: { maxRetries: 0 } });
    view = routerOsLiveView(ros);
    writer = routerOsLiveWriter(ros);
    fake.tables.set('ip/firewall/filter', [
      { '.id': '*1', chain: 'input', action: 'accept', 'connection-state': 'established,related', disabled: 'false', dynamic: 'false' },
      { '.id': '*2', chain: 'forward', action: 'fasttrack-connection', dynamic: 'true', disabled: 'false' },
      { '.id': '*3', chain: 'input', action: 'drop', 'in-interface': 'ether1', comment: 'drop wan', disabled: 'false', log: 'true' },
    ]);
    fake.tables.set('ip/firewall/nat', [
      { '.id': '*A', chain: 'srcnat', action: 'masquerade', 'out-interface': 'ether1', disabled: 'false' },
      { '.id': '*B', chain: 'dstnat', action: 'dst-nat', protocol: 'tcp', 'dst-port': '8080', 'to-addresses': '192.168.88.10', 'to-ports': '80', 'in-interface': 'ether1', disabled: 'false', comment: 'web' },
    ]);
  });
  afterEach(async () => {
    await ros.close();
    await fake.close();
  });

  const rule = (over: Partial<LiveRuleBody> = {}): LiveRuleBody => ({
    action: 'allow',
    interface: 'ether1',
    ip_version: 'inet',
    protocol: 'tcp',
    source_address: 'portcullis_jit',
    source_port: null,
    dest_address: 'any',
    dest_port: '22',
    description: 'ssh for granted',
    is_enabled: true,
    log_enabled: false,
    ...over,
  });

  it('reads rules in order, dynamic ones included and marked, with their neutral fields', async () => {
    const { items } = await view.firewallRules();
    expect(items.map((r) => [r.vendor_rule_id, r.position, r.action, r.direction, r.vendor_data.dynamic])).toEqual([
      ['*1', 0, 'allow', 'input', false],
      ['*2', 1, null, 'forward', true],
      ['*3', 2, 'deny', 'input', false],
    ]);
    expect(items[0]?.unmodelled_options).toEqual(['connection-state']);
    expect(items[2]).toMatchObject({ interfaces: ['ether1'], log_enabled: true, description: 'drop wan' });
  });

  it('reads NAT: dstnat as port forwards, srcnat as outbound, with .id write targets', async () => {
    const nat = await view.natRules();
    expect(nat.port_forwards.map((r) => [r.write_target, r.destination_port, r.translated_address, r.translated_port])).toEqual([
      ['*B', '8080', '192.168.88.10', '80'],
    ]);
    expect(nat.outbound.mappings.map((r) => [r.write_target, r.interface, r.translated_address])).toEqual([
      ['*A', 'ether1', 'interface address'],
    ]);
  });

  it('reads every address list grouped, status from system/resource', async () => {
    await ros.setAliasEntries('a', [{ address: '192.0.2.1', detail: 'x' }]);
    await ros.setAliasEntries('b', [{ address: '2001:db8::1', detail: 'y' }]);
    expect((await view.aliases()).items.map((a) => [a.name, a.entries.map((e) => e.address)])).toEqual([
      ['a', ['192.0.2.1']],
      ['b', ['2001:db8::1']],
    ]);
    expect(await view.status()).toMatchObject({ product_version: '7.16.2 (stable)', api_version: 'REST', platform: 'CHR' });
  });

  it('creates a rule before another with place-before, updates, toggles and deletes it; the read-back matches', async () => {
    const created = await writer.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule(), before: '*3' });
    expect(created.pending).toEqual([]);
    const id = created.target as string;
    expect((await view.firewallRules()).items.map((r) => r.vendor_rule_id)).toEqual(['*1', '*2', id, '*3']);
    expect(await writer.read('firewall_rule', id)).toEqual(rule());
    const changed = rule({ source_address: '198.51.100.0/24', dest_port: null, description: 'changed' });
    await writer.write({ kind: 'firewall_rule', op: 'update', target: id, body: changed });
    expect(await writer.read('firewall_rule', id)).toEqual(changed);
    await writer.write({ kind: 'firewall_rule', op: 'toggle', target: id, body: { is_enabled: false } });
    expect(await writer.read('firewall_rule', id)).toMatchObject({ is_enabled: false });
    await writer.write({ kind: 'firewall_rule', op: 'delete', target: id, body: {} });
    expect(await writer.read('firewall_rule', id)).toBeNull();
    expect(await writer.pendingSubsystems()).toEqual([]);
  });

  it('a before-image with vendor_data writes back as it was', async () => {
    const before = await writer.read('firewall_rule', '*1');
    expect(before).toMatchObject({ action: 'allow', vendor_data: { chain: 'input', 'connection-state': 'established,related' } });
    await writer.write({ kind: 'firewall_rule', op: 'delete', target: '*1', body: {} });
    const restored = await writer.write({
      kind: 'firewall_rule',
      op: 'create',
      target: null,
      body: before as unknown as LiveRuleBody,
      before: '*2',
    });
    expect(await writer.read('firewall_rule', restored.target as string)).toEqual(before);
    expect((await view.firewallRules()).items[0]?.vendor_rule_id).toBe(restored.target);
  });

  it('port forwards and source NAT round-trip; refusals name the field', async () => {
    const pf = {
      interface: 'ether1',
      protocol: 'tcp' as const,
      source_address: 'any',
      dest_address: 'any',
      dest_port: '2222',
      target_address: '192.168.88.20',
      target_port: '22',
      description: 'ssh fwd',
      is_enabled: true,
    };
    const made = await writer.write({ kind: 'port_forward', op: 'create', target: null, body: pf });
    expect(await writer.read('port_forward', made.target as string)).toEqual(pf);
    expect(await writer.read('source_nat', made.target as string)).toBeNull();
    const snat = {
      interface: 'ether1',
      protocol: 'any' as const,
      source_address: '192.168.88.0/24',
      dest_address: 'any',
      target_address: 'masquerade',
      description: 'lan out',
      is_enabled: true,
    };
    const s = await writer.write({ kind: 'source_nat', op: 'create', target: null, body: snat });
    expect(await writer.read('source_nat', s.target as string)).toEqual(snat);
    await expect(
      writer.write({ kind: 'port_forward', op: 'create', target: null, body: { ...pf, protocol: 'tcp/udp' } }),
    ).rejects.toMatchObject({ code: 'ROS500', field: 'protocol' });
    await expect(
      writer.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule({ ip_version: 'inet46' }) }),
    ).rejects.toMatchObject({ code: 'ROS500', field: 'ip_version' });
    await expect(writer.write({ kind: 'power', op: 'reboot', target: null, body: {} })).rejects.toMatchObject({ code: 'ROS500' });
  });

  it('address lists and static routes as live writes', async () => {
    await writer.write({
      kind: 'alias',
      op: 'create',
      target: null,
      body: { name: 'office', type: 'host', description: '', entries: [{ address: '192.0.2.50', detail: 'office' }] },
    });
    expect(await writer.read('alias', 'office')).toEqual({
      name: 'office',
      type: 'host',
      description: '',
      entries: [{ address: '192.0.2.50', detail: 'office' }],
    });
    await writer.write({ kind: 'alias', op: 'delete', target: 'office', body: {} });
    expect(await writer.read('alias', 'office')).toBeNull();
    const route = { network: '10.9.0.0/16', gateway: '192.168.88.2', description: 'lab', is_enabled: true };
    const r = await writer.write({ kind: 'static_route', op: 'create', target: null, body: route });
    expect(await writer.read('static_route', r.target as string)).toEqual(route);
  });

  it('parses a RouterOS firewall log line whose prefix names the action', () => {
    expect(
      parseFirewallLogMessage(
        'drop input: in:ether1 out:(unknown 0), connection-state:new proto TCP (SYN), 203.0.113.9:40000->192.0.2.1:22, len 60',
        'dec/07 03:00:00',
      ),
    ).toMatchObject({ action: 'block', interface: 'ether1', protocol: 'tcp', source_ip: '203.0.113.9', dest_port: 22, length: 60 });
    expect(parseFirewallLogMessage('something else', null)).toBeNull();
  });
});
