/**
 * @module The pfSense live writer (src/adapters/pfsense/live-write.ts) against the pfRest emulator over HTTPS on
 * loopback: for every kind write → pending → apply → read-back equals the body, update/toggle/delete, the
 * before-image round trip, stable ids across shifting positions, named validation failures, and injected faults.
 * The field maps and the stable keys under test: docs/reference/pfsense-live-writes.md §1, §2; apply: §3.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type {
  LiveAliasBody,
  LiveBodies,
  LiveObjectKind,
  LiveRuleBody,
  LiveToggleKind,
  LiveWrite,
  LiveWriter,
} from '../../src/adapters/live-write.ts';
import {
  LIVE_WRITE_PRIVILEGES,
  type PfSenseAdapter,
  PfSenseLiveWriter,
  pfsenseVendor,
} from '../../src/adapters/pfsense/index.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { adapterFor, failure } from './helpers.ts';

let emu: PfRestEmulator;
let adapter: PfSenseAdapter;
let writer: LiveWriter;

beforeAll(async () => {
  emu = await startPfRestEmulator();
});
afterAll(async () => {
  await emu.close();
});
afterEach(async () => {
  emu.clearFaults();
  emu.reset();
  await adapter.close();
});

/** A writer as the registry hands it out, over a fresh adapter of the emulator. */
function open(): LiveWriter {
  adapter = adapterFor(emu);
  const writes = pfsenseVendor.writes;
  if (writes === undefined) throw new Error('pfSense declares no writes');
  writer = writes.open(adapter);
  return writer;
}

const rule = (overrides: Partial<LiveRuleBody> = {}): LiveRuleBody => ({
  action: 'allow',
  interface: 'lan',
  ip_version: 'inet',
  protocol: 'tcp',
  source_address: 'lan',
  source_port: null,
  dest_address: '10.0.0.5',
  dest_port: '443',
  description: 'web to the app server',
  is_enabled: true,
  log_enabled: false,
  ...overrides,
});

/** Writes, checks the pending subsystems, applies, checks none are left; returns the target. */
async function writeAndApply(w: LiveWriter, change: Parameters<LiveWriter['write']>[0]): Promise<string> {
  const result = await w.write(change);
  expect(result.pending.length).toBeGreaterThan(0);
  expect(await w.pendingSubsystems()).toEqual(expect.arrayContaining(result.pending));
  await w.apply();
  expect(await w.pendingSubsystems()).toEqual([]);
  if (result.target === null) throw new Error('no target');
  return result.target;
}

describe('firewall rules (target = tracker, docs/reference/pfsense-live-writes.md §2)', () => {
  it('creates a rule: pending until applied, then read back equal to the body', async () => {
    const w = open();
    const body = rule();
    const target = await writeAndApply(w, { kind: 'firewall_rule', op: 'create', target: null, body });
    expect(target).toMatch(/^\d+$/);
    expect(await w.read('firewall_rule', target)).toEqual(body);
    // Appended: the default LAN rule stays first.
    expect(emu.state().rules.map((r) => String(r.tracker))).toEqual([expect.any(String), target]);
  });

  it('updates, toggles and deletes by tracker', async () => {
    const w = open();
    const target = await writeAndApply(w, { kind: 'firewall_rule', op: 'create', target: null, body: rule() });
    const changed = rule({ action: 'reject', protocol: 'any', dest_port: null, log_enabled: true, description: '' });
    const updated = await w.write({ kind: 'firewall_rule', op: 'update', target, body: changed });
    expect(updated).toEqual({ target, pending: ['filter'] });
    // The PATCH carries the tracker: a shifted id is refused rather than written to another rule (§2).
    const patch = emu.requests().find((r) => r.method === 'PATCH');
    expect(patch?.body).toMatchObject({ tracker: Number(target), type: 'reject', protocol: null, destination_port: null });
    expect(await w.read('firewall_rule', target)).toEqual(changed);
    await w.write({ kind: 'firewall_rule', op: 'toggle', target, body: { is_enabled: false } });
    expect(await w.read('firewall_rule', target)).toEqual({ ...changed, is_enabled: false });
    await w.apply();
    await w.write({ kind: 'firewall_rule', op: 'delete', target, body: {} });
    expect(await w.read('firewall_rule', target)).toBeNull();
    expect(await w.pendingSubsystems()).toEqual(['filter']);
    await w.apply();
    expect(emu.state().rules).toHaveLength(1);
  });

  it('restores a deleted rule from its before-image', async () => {
    const w = open();
    const target = await writeAndApply(w, {
      kind: 'firewall_rule',
      op: 'create',
      target: null,
      body: rule({ action: 'deny', source_port: '1024:65535', ip_version: 'inet46', is_enabled: false }),
    });
    const before = await w.read('firewall_rule', target);
    if (before === null) throw new Error('rule missing');
    await w.write({ kind: 'firewall_rule', op: 'delete', target, body: {} });
    const restored = await writeAndApply(w, {
      kind: 'firewall_rule',
      op: 'create',
      target: null,
      body: before as unknown as LiveRuleBody,
    });
    expect(await w.read('firewall_rule', restored)).toEqual(before);
  });

  it('keeps every target valid when an earlier rule is deleted (positions shift, trackers do not)', async () => {
    const w = open();
    const first = await writeAndApply(w, { kind: 'firewall_rule', op: 'create', target: null, body: rule({ description: 'first' }) });
    // Created in the same second, the second rule would share the first one's tracker: the writer redoes it.
    const second = await writeAndApply(w, { kind: 'firewall_rule', op: 'create', target: null, body: rule({ description: 'second' }) });
    expect(second).not.toBe(first);
    expect(emu.state().rules.map((r) => r.descr)).toEqual(['Default allow LAN to any rule', 'first', 'second']);
    await w.write({ kind: 'firewall_rule', op: 'delete', target: first, body: {} });
    expect(await w.read('firewall_rule', second)).toEqual(rule({ description: 'second' }));
    await w.write({ kind: 'firewall_rule', op: 'update', target: second, body: rule({ description: 'second, moved up' }) });
    expect(emu.state().rules.map((r) => r.descr)).toEqual(['Default allow LAN to any rule', 'second, moved up']);
  });

  it('places a created rule before another one, so a deleted rule is restored in its place', async () => {
    const w = open();
    const defaultRule = String(emu.state().rules[0]?.tracker);
    const block = rule({ action: 'deny', description: 'block first' });
    const first = await writeAndApply(w, { kind: 'firewall_rule', op: 'create', target: null, body: block, before: defaultRule });
    const last = await writeAndApply(w, { kind: 'firewall_rule', op: 'create', target: null, body: rule({ description: 'last' }) });
    const order = () => emu.state().rules.map((r) => r.descr);
    expect(order()).toEqual(['block first', 'Default allow LAN to any rule', 'last']);
    // Roll the delete of the first rule back: the before-image goes in front of the rule that followed it.
    const before = await w.read('firewall_rule', first);
    await w.write({ kind: 'firewall_rule', op: 'delete', target: first, body: {} });
    const restored = await writeAndApply(w, {
      kind: 'firewall_rule',
      op: 'create',
      target: null,
      body: before as unknown as LiveRuleBody,
      before: defaultRule,
    });
    expect(order()).toEqual(['block first', 'Default allow LAN to any rule', 'last']);
    expect(await w.read('firewall_rule', restored)).toEqual(block);
    const err = await failure(() =>
      w.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule(), before: '12345' }),
    );
    expect([err.code, (err as { field?: string }).field]).toEqual(['PFS500', 'before']);
    expect(last).not.toBe(restored);
  });

  it('names the field of a body pfSense cannot take, before sending anything', async () => {
    const w = open();
    const cases: Array<[Partial<Record<keyof LiveRuleBody, unknown>>, string]> = [
      [{ action: 'permit' }, 'action'],
      [{ is_enabled: 'yes' }, 'is_enabled'],
      [{ protocol: 'icmp', dest_port: '80' }, 'dest_port'],
      [{ interface: '' }, 'interface'],
    ];
    for (const [overrides, field] of cases) {
      const err = await failure(() =>
        w.write({ kind: 'firewall_rule', op: 'create', target: null, body: { ...rule(), ...overrides } as LiveRuleBody }),
      );
      expect([err.code, (err as { field?: string }).field]).toEqual(['PFS500', field]);
      expect(err.message).toContain(`\`${field}\``);
    }
    expect(emu.requests().filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('names the neutral field of a pfRest validation error', async () => {
    const w = open();
    const err = await failure(() =>
      w.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule({ dest_address: 'no such host!' }) }),
    );
    expect(err.code).toBe('PFS500');
    expect((err as { field?: string }).field).toBe('dest_address');
    expect(err.message).toContain('FILTER_ADDRESS_FIELD_INVALID');
    expect(err.message).toContain('`dest_address`');
  });

  it('refuses a missing target and returns null when reading it', async () => {
    const w = open();
    expect(await w.read('firewall_rule', '999')).toBeNull();
    const err = await failure(() => w.write({ kind: 'firewall_rule', op: 'toggle', target: '999', body: { is_enabled: true } }));
    expect([err.code, (err as { field?: string }).field]).toEqual(['PFS500', 'target']);
  });

  it('guards a PATCH with the tracker: a shifted id is refused, not written to another rule', async () => {
    open();
    const [seeded] = emu.state().rules;
    const err = await failure(() =>
      adapter.request('PFS500', 'update a rule', 'PATCH', '/api/v2/firewall/rule', {
        body: { id: 0, tracker: Number(seeded?.tracker) + 1, descr: 'hijacked' },
      }),
    );
    expect((err as { responseId?: string }).responseId).toBe('FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE');
    expect(emu.state().rules[0]?.descr).toBe('Default allow LAN to any rule');
  });
});

describe('keys shared on the device', () => {
  it('refuses to guess between two rules with one tracker (made outside the writer in one second)', async () => {
    const w = open();
    const raw = { type: 'pass', interface: ['lan'], ipprotocol: 'inet', source: 'any', destination: 'any' };
    const trackers: string[] = [];
    // Two POSTs within one second share `time()`; a second boundary in between just takes one more.
    while (new Set(trackers).size === trackers.length && trackers.length < 6) {
      const created = (await adapter.request('PFS500', 'create a rule', 'POST', '/api/v2/firewall/rule', { body: raw })) as { tracker: number };
      trackers.push(String(created.tracker));
    }
    const shared = trackers.find((t, i) => trackers.indexOf(t) !== i) ?? '';
    const err = await failure(() => w.read('firewall_rule', shared));
    expect([err.code, (err as { field?: string }).field]).toEqual(['PFS500', 'target']);
    expect(err.message).toContain('share the key');
    const del = await failure(() => w.write({ kind: 'firewall_rule', op: 'delete', target: shared, body: {} }));
    expect(del.code).toBe('PFS500');
    expect(emu.state().rules).toHaveLength(1 + trackers.length);
  });

  it('redoes a create whose tracker another rule already has (created in the same second)', async () => {
    const w = open();
    const raw = { type: 'pass', interface: ['lan'], ipprotocol: 'inet', source: 'any', destination: 'any' };
    const withdrawn = () =>
      emu.requests().filter((r) => r.method === 'DELETE' && r.path === '/api/v2/firewall/rule').length;
    let target = '';
    // Normally the first round collides; a second boundary between the two POSTs just takes another round.
    for (let round = 0; round < 5 && withdrawn() === 0; round++) {
      await adapter.request('PFS500', 'create a rule', 'POST', '/api/v2/firewall/rule', { body: raw });
      target = (await w.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule() })).target ?? '';
    }
    expect(withdrawn()).toBe(1);
    const trackers = emu.state().rules.map((r) => String(r.tracker));
    expect(trackers.filter((t) => t === target)).toHaveLength(1);
    expect(await w.read('firewall_rule', target)).toEqual(rule());
  });

  it('guards a port forward PATCH with created_time', async () => {
    const w = open();
    const target = await writeAndApply(w, {
      kind: 'port_forward',
      op: 'create',
      target: null,
      body: {
        interface: 'wan',
        protocol: 'tcp',
        source_address: 'any',
        dest_address: 'wan:ip',
        dest_port: '2222',
        target_address: '192.168.1.22',
        target_port: '22',
        description: 'ssh',
        is_enabled: true,
      },
    });
    const err = await failure(() =>
      adapter.request('PFS500', 'update a port forward', 'PATCH', '/api/v2/firewall/nat/port_forward', {
        body: { id: 0, created_time: Number(target) - 1, descr: 'hijacked' },
      }),
    );
    expect((err as { responseId?: string }).responseId).toBe('FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE');
    expect(emu.state().nat.portForwards[0]?.descr).toBe('ssh');
  });

  it('names `interface` when several are given for a rule that is not floating', async () => {
    const w = open();
    const err = await failure(() =>
      w.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule({ interface: 'lan,wan' }) }),
    );
    expect([err.code, (err as { field?: string }).field]).toEqual(['PFS500', 'interface']);
  });
});

describe('aliases (target = name)', () => {
  const alias = (overrides: Partial<LiveAliasBody> = {}): LiveAliasBody => ({
    name: 'app_servers',
    type: 'host',
    description: 'application tier',
    entries: [
      { address: '10.0.0.5', detail: 'app1' },
      { address: '10.0.0.6', detail: '' },
    ],
    ...overrides,
  });

  it('creates, updates and deletes an alias, each pending as `aliases` until applied', async () => {
    const w = open();
    const target = await writeAndApply(w, { kind: 'alias', op: 'create', target: null, body: alias() });
    expect(target).toBe('app_servers');
    expect(await w.read('alias', target)).toEqual(alias());
    const changed = alias({ type: 'network', description: '', entries: [{ address: '10.1.0.0/16', detail: 'dc' }] });
    await writeAndApply(w, { kind: 'alias', op: 'update', target, body: changed });
    expect(await w.read('alias', target)).toEqual(changed);
    expect(emu.state().tables.app_servers).toEqual(['10.1.0.0/16']);
    await writeAndApply(w, { kind: 'alias', op: 'delete', target, body: {} });
    expect(await w.read('alias', target)).toBeNull();
  });

  it('restores a deleted alias from its before-image', async () => {
    const w = open();
    await writeAndApply(w, { kind: 'alias', op: 'create', target: null, body: alias() });
    const before = await w.read('alias', 'app_servers');
    await writeAndApply(w, { kind: 'alias', op: 'delete', target: 'app_servers', body: {} });
    await writeAndApply(w, { kind: 'alias', op: 'create', target: null, body: before as unknown as LiveAliasBody });
    expect(await w.read('alias', 'app_servers')).toEqual(before);
  });

  it('refuses a rename and entries pfSense would split, naming the field', async () => {
    const w = open();
    await w.write({ kind: 'alias', op: 'create', target: null, body: alias() });
    const rename = await failure(() =>
      w.write({ kind: 'alias', op: 'update', target: 'app_servers', body: alias({ name: 'web_servers' }) }),
    );
    expect((rename as { field?: string }).field).toBe('name');
    const spaced = await failure(() =>
      w.write({ kind: 'alias', op: 'create', target: null, body: alias({ name: 'other', entries: [{ address: '10.0.0.1 10.0.0.2', detail: '' }] }) }),
    );
    expect((spaced as { field?: string }).field).toBe('entries[0].address');
    const refused = await failure(() =>
      w.write({ kind: 'alias', op: 'update', target: 'app_servers', body: alias({ entries: [{ address: '10.0.0.0/8', detail: '' }] }) }),
    );
    expect(refused.message).toContain('INVALID_HOST_ALIAS_ADDRESS');
    expect((refused as { field?: string }).field).toBe('entries');
  });
});

/** One kind's contract case: two bodies it accepts, its subsystem, and a body pfSense refuses naming a field. */
interface KindCase<K extends LiveObjectKind> {
  kind: K;
  subsystem: string;
  first: LiveBodies[K];
  second: LiveBodies[K];
  bad: Array<[Record<string, unknown>, string]>;
}
type AnyCase = { [K in LiveObjectKind]: KindCase<K> }[LiveObjectKind];

const CASES: AnyCase[] = [
  {
    kind: 'port_forward',
    subsystem: 'natconf',
    first: {
      interface: 'wan',
      protocol: 'tcp',
      source_address: 'any',
      dest_address: 'wan:ip',
      dest_port: '8443',
      target_address: '192.168.1.10',
      target_port: '443',
      description: 'app over https',
      is_enabled: true,
    },
    second: {
      interface: 'wan',
      protocol: 'tcp/udp',
      source_address: '198.51.100.0/24',
      dest_address: 'wan:ip',
      dest_port: '5000:5010',
      target_address: '192.168.1.11',
      target_port: '5000',
      description: '',
      is_enabled: true,
    },
    bad: [
      [{ protocol: 'icmp' }, 'protocol'],
      [{ target_address: 'not an address' }, 'target_address'],
      [{ interface: 'opt9' }, 'interface'],
    ],
  },
  {
    kind: 'source_nat',
    subsystem: 'natconf',
    first: {
      interface: 'wan',
      protocol: 'any',
      source_address: '192.168.1.0/24',
      dest_address: 'any',
      target_address: 'wan:ip',
      description: 'office egress',
      is_enabled: true,
    },
    second: {
      interface: 'wan',
      protocol: 'udp',
      source_address: '192.168.1.0/25',
      dest_address: '!10.0.0.0/8',
      target_address: '203.0.113.8/30',
      description: '',
      is_enabled: true,
    },
    bad: [
      [{ target_address: '203.0.113.8/40' }, 'target_address'],
      [{ protocol: 'sctp' }, 'protocol'],
      [{ source_address: 'nowhere!' }, 'source_address'],
    ],
  },
  {
    kind: 'static_route',
    subsystem: 'staticroutes',
    first: { network: '10.20.0.0/16', gateway: 'WAN_DHCP', description: 'data centre', is_enabled: true },
    second: { network: '10.30.0.0/16', gateway: 'WAN_DHCP', description: '', is_enabled: true },
    bad: [
      [{ network: '10.20.1.0/16' }, 'network'],
      [{ gateway: 'NO_SUCH_GW' }, 'gateway'],
    ],
  },
  {
    kind: 'dns_override',
    subsystem: 'unbound',
    first: { host: 'app', domain: 'example.internal', ip: ['10.0.0.5'], description: 'app server' },
    second: { host: '', domain: 'printer.example.internal', ip: ['10.0.0.6', 'fd00::6'], description: '' },
    bad: [
      [{ ip: [] }, 'ip'],
      [{ ip: ['10.0.0.999'] }, 'ip'],
      [{ domain: '' }, 'domain'],
    ],
  },
  {
    kind: 'dhcp_static_mapping',
    subsystem: 'dhcpd',
    first: { interface: 'lan', mac: '00:11:22:33:44:55', ip: '192.168.1.50', hostname: 'printer', description: '2nd floor' },
    second: { interface: 'lan', mac: '00:11:22:33:44:66', ip: '192.168.1.51', hostname: '', description: '' },
    bad: [
      [{ mac: 'zz:11' }, 'mac'],
      [{ ip: '10.9.9.9' }, 'ip'],
      [{ interface: 'opt7' }, 'interface'],
    ],
  },
];

const TOGGLES: readonly LiveObjectKind[] = ['firewall_rule', 'port_forward', 'source_nat', 'static_route'];

/** A write of `c`'s kind (the union needs the kind and body to stay paired). */
const change = (c: AnyCase, op: 'create' | 'update' | 'delete', target: string | null, body: unknown): LiveWrite =>
  ({ kind: c.kind, op, target, body }) as LiveWrite;

describe.each(CASES)('$kind', (c) => {
  it('create → pending → apply → read-back; update, toggle, delete; restore from the before-image', async () => {
    const w = open();
    const target = await writeAndApply(w, change(c, 'create', null, c.first));
    expect(await w.read(c.kind, target)).toEqual(c.first);

    const updated = await w.write(change(c, 'update', target, c.second));
    expect(updated.pending).toEqual([c.subsystem]);
    expect(await w.pendingSubsystems()).toContain(c.subsystem);
    await w.apply();
    expect(await w.pendingSubsystems()).toEqual([]);
    const current = updated.target ?? '';
    expect(await w.read(c.kind, current)).toEqual(c.second);

    let latest = current;
    if (TOGGLES.includes(c.kind)) {
      const off = await w.write({ kind: c.kind as LiveToggleKind, op: 'toggle', target: current, body: { is_enabled: false } });
      expect(await w.read(c.kind, off.target ?? '')).toEqual({ ...c.second, is_enabled: false });
      const on = await w.write({ kind: c.kind as LiveToggleKind, op: 'toggle', target: off.target ?? '', body: { is_enabled: true } });
      latest = on.target ?? '';
      expect(await w.read(c.kind, latest)).toEqual(c.second);
    }

    const before = await w.read(c.kind, latest);
    await writeAndApply(w, change(c, 'delete', latest, {}));
    expect(await w.read(c.kind, latest)).toBeNull();
    const restored = await writeAndApply(w, change(c, 'create', null, before));
    expect(await w.read(c.kind, restored)).toEqual(before);
  });

  it('keeps a target valid when an earlier object is deleted', async () => {
    const w = open();
    const a = await writeAndApply(w, change(c, 'create', null, c.first));
    const b = await writeAndApply(w, change(c, 'create', null, c.second));
    expect(b).not.toBe(a);
    await writeAndApply(w, change(c, 'delete', a, {}));
    expect(await w.read(c.kind, a)).toBeNull();
    expect(await w.read(c.kind, b)).toEqual(c.second);
  });

  it.each(c.bad)('refuses %j naming `%s`', async (overrides, field) => {
    const w = open();
    const err = await failure(() => w.write(change(c, 'create', null, { ...c.first, ...overrides })));
    expect([err.code, (err as { field?: string }).field]).toEqual(['PFS500', field]);
    expect(err.message).toContain(`\`${field}\``);
    expect(await w.pendingSubsystems()).toEqual([]);
  });
});

describe('source NAT targets (docs/reference/pfsense-live-writes.md §1.4)', () => {
  it.each([
    ['an IPv4 address (sent with target_subnet 32)', '203.0.113.5', { target: '203.0.113.5', target_subnet: 32, nonat: false }],
    ['an IPv6 address', '2001:db8::5', { target: '2001:db8::5', target_subnet: 128, nonat: false }],
    ['an address pool', '203.0.113.8/29', { target: '203.0.113.8', target_subnet: 29, nonat: false }],
    ['no translation', '', { target: null, nonat: true }],
  ])('%s reads back as written', async (_name, target, stored) => {
    const w = open();
    const body = {
      interface: 'wan',
      protocol: 'any' as const,
      source_address: '192.168.1.0/24',
      dest_address: 'any',
      target_address: target,
      description: '',
      is_enabled: true,
    };
    const key = await writeAndApply(w, { kind: 'source_nat', op: 'create', target: null, body });
    expect(emu.state().nat.outbound[0]).toMatchObject(stored);
    expect(await w.read('source_nat', key)).toEqual(body);
  });
});

describe('services and power', () => {
  it('controls a service by name and reads its state back', async () => {
    const w = open();
    expect(await w.read('service', 'unbound')).toEqual({ name: 'unbound', action: 'start' });
    const result = await w.write({ kind: 'service', op: 'control', target: 'unbound', body: { name: 'unbound', action: 'stop' } });
    expect(result).toEqual({ target: 'unbound', pending: [] });
    expect(await w.read('service', 'unbound')).toEqual({ name: 'unbound', action: 'stop' });
    await w.write({ kind: 'service', op: 'control', target: 'unbound', body: { name: 'unbound', action: 'restart' } });
    expect(await w.read('service', 'unbound')).toEqual({ name: 'unbound', action: 'start' });
    expect(await w.read('service', 'no_such_daemon')).toBeNull();
    const missing = await failure(() =>
      w.write({ kind: 'service', op: 'control', target: 'no_such_daemon', body: { name: 'no_such_daemon', action: 'start' } }),
    );
    expect([missing.code, (missing as { field?: string }).field]).toEqual(['PFS500', 'target']);
    const bad = await failure(() =>
      w.write({ kind: 'service', op: 'control', target: 'unbound', body: { name: 'unbound', action: 'reload' } as never }),
    );
    expect((bad as { field?: string }).field).toBe('action');
  });

  it('reboots: the request is sent, then the box stops answering', async () => {
    const w = open();
    expect(await w.write({ kind: 'power', op: 'reboot', target: null, body: {} })).toEqual({ target: null, pending: [] });
    expect(emu.state().live.power).toBe('rebooting');
    expect(await w.read('power', '')).toBeNull();
    expect((await failure(() => w.pendingSubsystems())).code).toBe('PFS000');
  });

  it('halts', async () => {
    const w = open();
    await w.write({ kind: 'power', op: 'halt', target: null, body: {} });
    expect(emu.state().live.power).toBe('halted');
  });
});

describe('vendor_data: what pfSense keeps beyond the neutral body (docs/reference/pfsense-live-writes.md §1)', () => {
  /** Creates a row the way another pfRest client would (not through the writer). */
  async function made(path: string, body: Record<string, unknown>): Promise<void> {
    await adapter.request('PFS500', 'create it', 'POST', path, { body });
  }

  it.each([
    [
      'a floating rule',
      'firewall_rule' as const,
      '/api/v2/firewall/rule',
      {
        type: 'block',
        interface: ['lan', 'wan'],
        ipprotocol: 'inet',
        protocol: 'tcp',
        source: 'any',
        destination: 'any',
        destination_port: '25',
        floating: true,
        quick: true,
        direction: 'out',
        statetype: 'sloppy state',
        tag: 'smtp',
      },
      { floating: true, quick: true, direction: 'out', statetype: 'sloppy state', tag: 'smtp' },
    ],
    [
      'a port forward without a redirect',
      'port_forward' as const,
      '/api/v2/firewall/nat/port_forward',
      {
        interface: 'wan',
        protocol: 'tcp',
        source: 'any',
        source_port: '1024:65535',
        destination: 'wan:ip',
        destination_port: '25',
        target: '192.168.1.25',
        local_port: '25',
        nordr: true,
      },
      { source_port: '1024:65535', nordr: true },
    ],
    [
      'a DHCP mapping with its own lease times',
      'dhcp_static_mapping' as const,
      '/api/v2/services/dhcp_server/static_mapping',
      {
        parent_id: 'lan',
        mac: '00:11:22:33:44:77',
        ipaddr: '192.168.1.77',
        defaultleasetime: 600,
        maxleasetime: 1200,
        dnsserver: ['192.168.1.1'],
      },
      { defaultleasetime: 600, maxleasetime: 1200, dnsserver: ['192.168.1.1'] },
    ],
  ])('%s reads with its extras and is restored exactly from that before-image', async (_name, kind, path, row, extras) => {
    const w = open();
    await made(path, row);
    const target =
      kind === 'firewall_rule'
        ? String(emu.state().rules[1]?.tracker)
        : kind === 'port_forward'
          ? String(emu.state().nat.portForwards[0]?.created_time)
          : 'lan/00:11:22:33:44:77';
    const before = await w.read(kind, target);
    expect(before?.vendor_data).toEqual(extras);
    await writeAndApply(w, { kind, op: 'delete', target, body: {} });
    const restored = await writeAndApply(w, change({ kind } as AnyCase, 'create', null, before));
    expect(await w.read(kind, restored)).toEqual(before);
  });

  it('an update with the neutral body alone keeps the extras (PATCH merges)', async () => {
    const w = open();
    await made('/api/v2/firewall/rule', {
      type: 'pass',
      interface: ['lan'],
      ipprotocol: 'inet',
      source: 'any',
      destination: 'any',
      floating: true,
      direction: 'in',
    });
    const target = String(emu.state().rules[1]?.tracker);
    await w.write({ kind: 'firewall_rule', op: 'update', target, body: rule({ description: 'now with a port' }) });
    expect(await w.read('firewall_rule', target)).toEqual({
      ...rule({ description: 'now with a port' }),
      vendor_data: { floating: true, direction: 'in' },
    });
  });

  it('refuses a vendor_data field that is neutral or unknown, naming it', async () => {
    const w = open();
    for (const name of ['descr', 'bogus']) {
      const body = { ...rule(), vendor_data: { [name]: 'x' } };
      const err = await failure(() => w.write({ kind: 'firewall_rule', op: 'create', target: null, body }));
      expect([err.code, (err as { field?: string }).field]).toEqual(['PFS500', `vendor_data.${name}`]);
    }
    const bad = { ...rule(), vendor_data: { statetype: 'no state' } };
    const refused = await failure(() => w.write({ kind: 'firewall_rule', op: 'create', target: null, body: bad }));
    expect((refused as { field?: string }).field).toBe('vendor_data.statetype');
  });
});

describe('privileges (docs/reference/pfsense-live-writes.md §6)', () => {
  it('a key holding exactly the documented privileges runs a whole rule cycle', async () => {
    open();
    await adapter.close();
    adapter = adapterFor(emu, { apiKey: emu.addKey([...LIVE_WRITE_PRIVILEGES.firewall_rule, ...LIVE_WRITE_PRIVILEGES.apply]) });
    const least = new PfSenseLiveWriter(adapter);
    const target = await writeAndApply(least, { kind: 'firewall_rule', op: 'create', target: null, body: rule() });
    await least.write({ kind: 'firewall_rule', op: 'toggle', target, body: { is_enabled: false } });
    await writeAndApply(least, { kind: 'firewall_rule', op: 'delete', target, body: {} });
    expect(await least.read('firewall_rule', target)).toBeNull();
  });

  it('without one of them the write fails with PFS002 naming it', async () => {
    open();
    await adapter.close();
    const missing = 'api-v2-routing-apply-get';
    const held = [...LIVE_WRITE_PRIVILEGES.firewall_rule, ...LIVE_WRITE_PRIVILEGES.apply].filter((p) => p !== missing);
    adapter = adapterFor(emu, { apiKey: emu.addKey(held) });
    const err = await failure(() => new PfSenseLiveWriter(adapter).pendingSubsystems());
    expect([err.code, err.privilege]).toEqual(['PFS002', missing]);
  });
});

describe('faults', () => {
  it('a hanging write ends in PFS004 within the timeouts', async () => {
    const w = open();
    emu.injectFault({ kind: 'hang', path: '/api/v2/firewall/rule', method: 'POST' });
    const started = Date.now();
    const err = await failure(() => w.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule() }));
    expect(err.code).toBe('PFS004');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a 500 on the lookup is a live-read failure, on the write a live-write failure', async () => {
    const w = open();
    // Reads are retried (idempotent): the fault outlasts the retries.
    emu.injectFault({ kind: 'status', status: 500, path: '/api/v2/firewall/rules', method: 'GET', times: 3 });
    expect((await failure(() => w.read('firewall_rule', '1'))).code).toBe('PFS300');
    emu.injectFault({ kind: 'status', status: 500, path: '/api/v2/firewall/alias', method: 'POST' });
    expect((await failure(() => w.write({ kind: 'alias', op: 'create', target: null, body: { name: 'x1', type: 'host', description: '', entries: [] } }))).code).toBe('PFS500');
  });

  it('a failing routing apply is PFS200 and leaves the route pending', async () => {
    const w = open();
    await w.write({
      kind: 'static_route',
      op: 'create',
      target: null,
      body: { network: '10.20.0.0/16', gateway: 'WAN_DHCP', description: '', is_enabled: true },
    });
    emu.injectFault({ kind: 'status', status: 500, path: '/api/v2/routing/apply', method: 'POST' });
    expect((await failure(() => w.apply())).code).toBe('PFS200');
    expect(await w.pendingSubsystems()).toEqual(['staticroutes']);
    await w.apply();
    expect(await w.pendingSubsystems()).toEqual([]);
  });

  it('a hanging DHCP update ends in PFS004 within the timeouts', async () => {
    const w = open();
    const body = { interface: 'lan', mac: '00:11:22:33:44:55', ip: '192.168.1.50', hostname: '', description: '' };
    const target = await writeAndApply(w, { kind: 'dhcp_static_mapping', op: 'create', target: null, body });
    emu.injectFault({ kind: 'hang', path: '/api/v2/services/dhcp_server/static_mapping', method: 'PATCH' });
    const started = Date.now();
    const err = await failure(() =>
      w.write({ kind: 'dhcp_static_mapping', op: 'update', target, body: { ...body, ip: '192.168.1.60' } }),
    );
    expect(err.code).toBe('PFS004');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await w.read('dhcp_static_mapping', target)).toEqual(body);
  });

  it('an apply that cannot reach the box fails with the transport code', async () => {
    const w = open();
    emu.injectFault({ kind: 'drop', path: '/api/v2/firewall/apply', times: 10 });
    expect((await failure(() => w.apply())).code).toBe('PFS000');
  });
});
