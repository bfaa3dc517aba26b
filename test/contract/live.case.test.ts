/**
 * @module Live reads and live writes on any vendor, as one reusable suite (issue 11): a vendor's adapter, built
 * through its registered descriptor, against a running device (its emulator, or the real kernel), driven only by
 * the descriptor's capability flags — no vendor names here.
 *
 * 1. every `read.*` flag that is on: the matching `LiveGateway` read (src/adapters/live.ts) resolves in the neutral
 *    shape (item arrays, snake_case fields, `vendor_data` kept on the rows that carry it);
 * 2. every `read.*` flag that is off: the read is refused with an `AdapterError` of the vendor's family (never an
 *    empty answer), and `live.unavailable` states why;
 * 3. `write.aliases` / `write.rules` / `write.bridge_vlans`: a create through the `LiveWriter` (src/adapters/live-write.ts),
 *    applied when the write reports pending subsystems, is seen by the live view; a delete, applied likewise, is gone
 *    from it;
 * 4. `write.vlans` (with `write.dhcp_scopes` on the VLAN's interface), `write.dns`, `write.dhcp`: create → update →
 *    delete, each applied and read back through the writer and the matching `read.*` list (docs/reference/brain-l3.md §4).
 *
 * A vendor plugs in with its access harness (test/contract/access-scenarios.case.ts `AccessScenarioHarness`): the
 * same `start()` gives the device, its credentials, fingerprint and test-only tuning.
 */
import { lookup } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveGateway } from '../../src/adapters/live.ts';
import type { LiveWriter } from '../../src/adapters/live-write.ts';
import type { Capability, ClosableAdapter, VendorDescriptor } from '../../src/adapters/registry.ts';
import { AdapterError } from '../../src/adapters/types.ts';
import { findVendor } from '../../src/adapters/vendors.ts';
import type { AccessScenarioHarness, ScenarioDevice } from './access-scenarios.case.ts';

export interface LiveContractOptions {
  harness: AccessScenarioHarness;
  /** The interface (as the vendor's rule body names it) the firewall-rule write puts its rule on. */
  ruleInterface?: string;
  /** A bridge of the device and two of its ports, for the bridge VLAN round trip (`write.bridge_vlans`). */
  bridgeVlan?: { bridge: string; ports: [string, string] };
  /**
   * Checks a vendor is known to fail, by check name (`read.status`, `write.rules`, …), each with the bug it
   * hits: the case runs as `it.fails` so it turns red once the bug is fixed. Keep this empty where possible.
   */
  knownFailures?: Partial<Record<string, string>>;
  /** The port a `vlan_interface` write puts its VLAN on (the vendor's own port name, free of VLAN 3900-3999). */
  vlanParent?: string;
  /**
   * An interface and two addresses in its subnet for the `dhcp_static_mapping` round trip; `scope` when the
   * interface has no DHCP scope yet (the test creates it first and deletes it after).
   */
  dhcpMapping?: { interface: string; ip: string; updatedIp: string; scope?: { range_from: string; range_to: string } };
  /** An interface without a DHCP scope, a range in its subnet and a narrower end, for the `dhcp_scope` round trip. */
  dhcpScope?: { interface: string; range_from: string; range_to: string; narrowed_to: string };
}

type Row = Record<string, unknown>;

function isObject(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every key of a neutral row is snake_case (the vendor's own keys live under `vendor_data`). */
function expectSnakeCase(row: Row, where: string): void {
  for (const key of Object.keys(row)) expect(key, `${where}: key ${key}`).toMatch(/^[a-z][a-z0-9_]*$/);
}

/** The row keeps the vendor's own data as an object. */
function expectVendorData(row: Row, where: string): void {
  expect(isObject(row.vendor_data), `${where}: vendor_data is an object`).toBe(true);
}

function expectRows(items: unknown, where: string, vendorData: boolean, check?: (row: Row) => void): Row[] {
  expect(Array.isArray(items), `${where}: items is an array`).toBe(true);
  const rows = items as unknown[];
  for (const [i, row] of rows.entries()) {
    expect(isObject(row), `${where}[${i}] is an object`).toBe(true);
    expectSnakeCase(row as Row, `${where}[${i}]`);
    if (vendorData) expectVendorData(row as Row, `${where}[${i}]`);
    check?.(row as Row);
  }
  return rows as Row[];
}

const nullableString = (v: unknown) => v === null || typeof v === 'string';
const nullableNumber = (v: unknown) => v === null || typeof v === 'number';

interface ReadCheck {
  /** The view's method(s) the flag stands for; each must be refused when the flag is off. */
  methods: Array<keyof LiveGateway>;
  call: (view: LiveGateway) => Promise<unknown>;
  /** Calls of the off case, one per method (defaults to `call`). */
  refusals?: Array<(view: LiveGateway) => Promise<unknown>>;
  shape: (result: unknown) => void;
}

/** Each `read.*` flag that has a live view method, and the structural invariants of its answer. */
const READS: Partial<Record<Capability, ReadCheck>> = {
  'read.status': {
    methods: ['status'],
    call: (v) => v.status(),
    shape: (r) => {
      expect(isObject(r)).toBe(true);
      const s = r as Row;
      expectSnakeCase(s, 'status');
      expectVendorData(s, 'status');
      expect(nullableString(s.product_version)).toBe(true);
      expect(isObject(s.cpu)).toBe(true);
      expect(Array.isArray((s.cpu as Row).load_avg)).toBe(true);
      expect(nullableNumber(s.memory_usage_percent)).toBe(true);
    },
  },
  'read.rules': {
    methods: ['firewallRules'],
    call: (v) => v.firewallRules(),
    shape: (r) =>
      expectRows((r as Row).items, 'firewallRules', true, (row) => {
        expect(nullableString(row.vendor_rule_id)).toBe(true);
        expect([null, 'allow', 'deny', 'reject']).toContain(row.action);
        expect(Array.isArray(row.interfaces)).toBe(true);
        expect(typeof row.protocol).toBe('string');
        expect(typeof row.source_address).toBe('string');
        expect(typeof row.dest_address).toBe('string');
        expect(typeof row.description).toBe('string');
        expect(typeof row.is_enabled).toBe('boolean');
        expect(Array.isArray(row.unmodelled_options)).toBe(true);
      }),
  },
  'read.nat': {
    methods: ['natRules'],
    call: (v) => v.natRules(),
    shape: (r) => {
      const nat = r as Row;
      expect(isObject(nat.outbound)).toBe(true);
      const natRow = (row: Row) => {
        expect(['dnat', 'snat', 'binat']).toContain(row.nat_type);
        expect(typeof row.description).toBe('string');
        expect(typeof row.is_enabled).toBe('boolean');
      };
      expectRows(nat.port_forwards, 'natRules.port_forwards', true, natRow);
      expectRows((nat.outbound as Row).mappings, 'natRules.outbound.mappings', true, natRow);
      expectRows(nat.one_to_one, 'natRules.one_to_one', true, natRow);
    },
  },
  'read.aliases': {
    methods: ['aliases'],
    call: (v) => v.aliases(),
    shape: (r) =>
      expectRows((r as Row).items, 'aliases', false, (row) => {
        expect(typeof row.name).toBe('string');
        expect(typeof row.type).toBe('string');
        expect(Array.isArray(row.entries)).toBe(true);
        for (const e of row.entries as Row[]) expect(typeof e.address).toBe('string');
      }),
  },
  'read.interfaces': {
    methods: ['interfaces'],
    call: (v) => v.interfaces(),
    shape: (r) => {
      const rows = expectRows((r as Row).items, 'interfaces', true, (row) => {
        expect(typeof row.id).toBe('string');
        expect(typeof row.enabled).toBe('boolean');
        expect(isObject(row.counters)).toBe(true);
        expect(nullableString(row.ipv4)).toBe(true);
      });
      // A device has at least one interface.
      expect(rows.length).toBeGreaterThan(0);
    },
  },
  'read.dhcp_leases': {
    methods: ['dhcpLeases'],
    call: (v) => v.dhcpLeases(),
    shape: (r) => expectRows((r as Row).items, 'dhcpLeases', true, (row) => expect(nullableString(row.ip)).toBe(true)),
  },
  'read.arp': {
    methods: ['arp'],
    call: (v) => v.arp(),
    shape: (r) =>
      expectRows((r as Row).items, 'arp', false, (row) => {
        expect(nullableString(row.ip)).toBe(true);
        expect(typeof row.permanent).toBe('boolean');
      }),
  },
  'read.health': {
    methods: ['healthCheck'],
    call: (v) => v.healthCheck(),
    shape: (r) => {
      const h = r as Row;
      expectSnakeCase(h, 'healthCheck');
      expect(typeof h.healthy).toBe('boolean');
      expect(typeof h.checked_at).toBe('string');
      expectRows(h.checks, 'healthCheck.checks', false, (row) => {
        expect(typeof row.name).toBe('string');
        expect([true, false, null]).toContain(row.healthy);
      });
    },
  },
  'read.ha_status': {
    methods: ['haStatus'],
    call: (v) => v.haStatus(),
    shape: (r) => {
      const h = r as Row;
      expectSnakeCase(h, 'haStatus');
      expectVendorData(h, 'haStatus');
      expect(typeof h.carp_enabled).toBe('boolean');
      expect(typeof h.maintenance_mode).toBe('boolean');
    },
  },
  'read.vpn': {
    methods: ['vpn'],
    call: (v) => v.vpn(),
    shape: (r) => {
      const vpn = r as Row;
      const tunnels = expectRows(vpn.tunnels, 'vpn.tunnels', true, (row) =>
        expect(['up', 'down', 'unknown']).toContain(row.status),
      );
      expect(isObject(vpn.stats)).toBe(true);
      expect((vpn.stats as Row).total).toBe(tunnels.length);
    },
  },
  'read.states': {
    methods: ['connections'],
    call: (v) => v.connections(10),
    shape: (r) => {
      const c = r as Row;
      const rows = expectRows(c.items, 'connections', false);
      expect(rows.length).toBeLessThanOrEqual(10);
      expect(nullableNumber(c.current)).toBe(true);
      expect(nullableNumber(c.maximum)).toBe(true);
    },
  },
  'read.services': {
    methods: ['services'],
    call: (v) => v.services(),
    shape: (r) =>
      expectRows((r as Row).items, 'services', false, (row) => {
        expect(typeof row.name).toBe('string');
        expect(typeof row.running).toBe('boolean');
        expect(typeof row.enabled).toBe('boolean');
      }),
  },
  'read.logs': {
    methods: ['firewallLog', 'logs'],
    call: (v) => v.firewallLog(10),
    refusals: [(v) => v.firewallLog(10), (v) => v.logs('firewall', 10)],
    shape: (r) => {
      const log = r as Row;
      const rows = expectRows(log.items, 'firewallLog', false, (row) => {
        expect(typeof row.logged_at).toBe('string');
        expect(['pass', 'block', 'reject']).toContain(row.action);
      });
      expect(rows.length).toBeLessThanOrEqual(10);
      expect(typeof log.skipped).toBe('number');
    },
  },
  'read.bridge_vlans': {
    methods: ['bridgeVlans'],
    call: (v) => (v.bridgeVlans ? v.bridgeVlans() : Promise.reject(new Error('the view has no bridgeVlans()'))),
    shape: (r) =>
      expectRows((r as Row).items, 'bridgeVlans', true, (row) => {
        expect(nullableString(row.write_target)).toBe(true);
        expect(typeof row.bridge).toBe('string');
        expect(Number.isInteger(row.vlan_id)).toBe(true);
        expect(row.vlan_id as number).toBeGreaterThanOrEqual(1);
        expect(row.vlan_id as number).toBeLessThanOrEqual(4094);
        expect(Array.isArray(row.tagged)).toBe(true);
        expect(Array.isArray(row.untagged)).toBe(true);
        expect(typeof row.description).toBe('string');
        expect(typeof row.vlan_filtering).toBe('boolean');
      }),
  },
  'read.vlan_interfaces': {
    methods: ['vlanInterfaces'],
    call: (v) => (v.vlanInterfaces ? v.vlanInterfaces() : Promise.reject(new Error('the view has no vlanInterfaces()'))),
    shape: (r) =>
      expectRows((r as Row).items, 'vlanInterfaces', false, (row) => {
        expect(typeof row.target).toBe('string');
        expect(typeof row.parent).toBe('string');
        expect(Number.isInteger(row.tag)).toBe(true);
        expect(nullableString(row.ipv4)).toBe(true);
        expect(nullableString(row.ipv6)).toBe(true);
        expect(nullableString(row.interface_id)).toBe(true);
        expect(typeof row.is_enabled).toBe('boolean');
      }),
  },
  'read.dhcp_scopes': {
    methods: ['dhcpScopes'],
    call: (v) => (v.dhcpScopes ? v.dhcpScopes() : Promise.reject(new Error('the view has no dhcpScopes()'))),
    shape: (r) =>
      expectRows((r as Row).items, 'dhcpScopes', false, (row) => {
        expect(typeof row.target).toBe('string');
        expect(typeof row.interface).toBe('string');
        expect(typeof row.range_from).toBe('string');
        expect(typeof row.range_to).toBe('string');
        expect(nullableString(row.gateway)).toBe(true);
        expect(Array.isArray(row.dns_servers)).toBe(true);
        expect(typeof row.is_enabled).toBe('boolean');
      }),
  },
  'read.dhcp_static_mappings': {
    methods: ['dhcpStaticMappings'],
    call: (v) =>
      v.dhcpStaticMappings ? v.dhcpStaticMappings() : Promise.reject(new Error('the view has no dhcpStaticMappings()')),
    shape: (r) =>
      expectRows((r as Row).items, 'dhcpStaticMappings', false, (row) => {
        expect(typeof row.target).toBe('string');
        expect(typeof row.mac).toBe('string');
        expect(typeof row.ip).toBe('string');
      }),
  },
  'read.dns_overrides': {
    methods: ['dnsOverrides'],
    call: (v) => (v.dnsOverrides ? v.dnsOverrides() : Promise.reject(new Error('the view has no dnsOverrides()'))),
    shape: (r) =>
      expectRows((r as Row).items, 'dnsOverrides', false, (row) => {
        expect(typeof row.target).toBe('string');
        expect(typeof row.domain).toBe('string');
        expect(Array.isArray(row.ip)).toBe(true);
      }),
  },
  'read.ids_alerts': {
    methods: ['idsAlerts'],
    call: (v) => (v.idsAlerts ? v.idsAlerts(10) : Promise.reject(new Error('the view has no idsAlerts()'))),
    shape: (r) => {
      const rows = expectRows((r as Row).items, 'idsAlerts', false, (row) => {
        expect(typeof row.vendor_alert_id).toBe('string');
        expect(['alert', 'blocked']).toContain(row.action_taken);
      });
      expect(rows.length).toBeLessThanOrEqual(10);
    },
  },
};

export function runLiveContract(opts: LiveContractOptions): void {
  const vendor = findVendor(opts.harness.vendor) as VendorDescriptor;
  const flags = vendor.capabilities;
  const family = vendor.errors.family;
  const known = opts.knownFailures ?? {};
  /** A check, as `it.fails` where the vendor is known to fail it (the reason names the bug). */
  const check = (name: string, title: string, fn: () => Promise<void>) => {
    const bug = known[name];
    if (bug) it.fails(`${title} — known failure: ${bug}`, fn);
    else it(title, fn);
  };

  describe(`live contract on ${vendor.name}`, () => {
    let device: ScenarioDevice;
    let adapter: ClosableAdapter;
    let view: LiveGateway | undefined;
    let writer: LiveWriter | undefined;

    beforeAll(async () => {
      device = await opts.harness.start();
      adapter = vendor.createAdapter({
        url: device.url,
        credentials: device.credentials,
        tls: device.fingerprint ? { mode: 'fingerprint', sha256: device.fingerprint } : { mode: 'insecure' },
        lookup,
        ...(device.tuning ? { tuning: device.tuning } : {}),
      });
      view = vendor.live?.open(adapter);
      writer = vendor.writes?.open(adapter);
    }, 60_000);

    afterAll(async () => {
      await adapter?.close();
      await device?.close();
    });

    describe('live reads', () => {
      for (const [flag, read] of Object.entries(READS) as Array<[Capability, ReadCheck]>) {
        if (flags[flag]) {
          check(flag, `${flag} on: ${read.methods[0]}() answers in the neutral shape`, async () => {
            if (!view) throw new Error(`${flag} is on but the descriptor has no live view`);
            read.shape(await read.call(view));
          });
        } else {
          check(flag, `${flag} off: refused with a ${family} code and a stated reason`, async () => {
            const reason = vendor.live?.unavailable[flag];
            expect(typeof reason, `live.unavailable['${flag}']`).toBe('string');
            expect((reason as string).trim().length).toBeGreaterThan(0);
            if (!view) return; // No live view at all: nothing can answer with empty data.
            const calls = read.refusals ?? [read.call];
            for (const [i, call] of calls.entries()) {
              const method = read.methods[i] as keyof LiveGateway;
              if (typeof view[method] !== 'function') continue; // The view does not offer it.
              const outcome = await call(view).then(
                (value) => ({ resolved: true as const, value }),
                (error: unknown) => ({ resolved: false as const, error }),
              );
              expect(outcome.resolved, `${method}() resolved although ${flag} is off`).toBe(false);
              if (outcome.resolved) continue;
              expect(outcome.error, `${method}() failure is an AdapterError`).toBeInstanceOf(AdapterError);
              expect((outcome.error as AdapterError).code.startsWith(family), `${method}() code`).toBe(true);
            }
          });
        }
      }
    });

    describe('live writes', () => {
      /** Applies when the write left subsystems waiting (the LiveWriter contract: staged until `apply`). */
      const settle = async (pending: string[]) => {
        if (pending.length > 0) await (writer as LiveWriter).apply();
        expect(await (writer as LiveWriter).pendingSubsystems()).toEqual([]);
      };
      const run = `${process.pid % 1000}${Date.now() % 100000}`;

      if (!vendor.writes || !flags['write.aliases']) {
        it.skip(`alias write round trip: skipped, ${vendor.writes ? 'write.aliases is off' : 'the descriptor has no writes'}`, () => undefined);
      } else {
        check('write.aliases', 'write.aliases: create → seen live → delete → gone', async () => {
          const w = writer as LiveWriter;
          const name = `pc_lc_${run}`.slice(0, vendor.listNaming.maxLength);
          expect(vendor.listNaming.check(name)).toEqual({ ok: true });
          const created = await w.write({
            kind: 'alias',
            op: 'create',
            target: null,
            body: {
              name,
              type: 'host',
              description: 'live contract',
              entries: [
                { address: '192.0.2.61', detail: '' },
                { address: '192.0.2.62', detail: '' },
              ],
            },
          });
          await settle(created.pending);
          const target = created.target ?? name;
          if (flags['read.aliases']) {
            const seen = (await (view as LiveGateway).aliases()).items.find((a) => a.name === name);
            expect(seen, `alias ${name} in aliases()`).toBeDefined();
            expect(seen?.entries.map((e) => e.address).sort()).toEqual(['192.0.2.61', '192.0.2.62']);
          }
          expect(await w.read('alias', target)).toMatchObject({ name });
          const deleted = await w.write({ kind: 'alias', op: 'delete', target, body: {} });
          await settle(deleted.pending);
          if (flags['read.aliases']) {
            expect((await (view as LiveGateway).aliases()).items.some((a) => a.name === name)).toBe(false);
          }
          expect(await w.read('alias', target)).toBeNull();
        });
      }

      if (!vendor.writes || !flags['write.rules']) {
        it.skip(`firewall rule round trip: skipped, ${vendor.writes ? 'write.rules is off' : 'the descriptor has no writes'}`, () => undefined);
      } else if (!opts.ruleInterface) {
        it.skip('firewall rule round trip: skipped, the vendor file names no ruleInterface', () => undefined);
      } else {
        const ruleInterface = opts.ruleInterface;
        check('write.rules', 'write.rules: create → apply → seen in firewallRules() → delete → apply → gone', async () => {
          const w = writer as LiveWriter;
          const description = `live contract ${run}`;
          const created = await w.write({
            kind: 'firewall_rule',
            op: 'create',
            target: null,
            body: {
              action: 'allow',
              interface: ruleInterface,
              ip_version: 'inet',
              protocol: 'tcp',
              source_address: 'any',
              source_port: null,
              dest_address: '192.0.2.10',
              dest_port: '8443',
              description,
              is_enabled: true,
              log_enabled: false,
            },
          });
          expect(created.target, 'a created rule has an id').not.toBeNull();
          const target = created.target as string;
          await settle(created.pending);
          if (flags['read.rules']) {
            const rules = (await (view as LiveGateway).firewallRules()).items;
            const seen = rules.find((r) => r.description === description);
            expect(seen, `rule "${description}" in firewallRules()`).toBeDefined();
            expect(seen).toMatchObject({ action: 'allow', protocol: 'tcp', dest_port: '8443', is_enabled: true });
            expect(seen?.dest_address).toContain('192.0.2.10');
          }
          expect(await w.read('firewall_rule', target)).toMatchObject({ action: 'allow', dest_port: '8443', description });
          const deleted = await w.write({ kind: 'firewall_rule', op: 'delete', target, body: {} });
          await settle(deleted.pending);
          if (flags['read.rules']) {
            const rules = (await (view as LiveGateway).firewallRules()).items;
            expect(rules.some((r) => r.description === description)).toBe(false);
          }
          expect(await w.read('firewall_rule', target)).toBeNull();
        });
      }

      if (!vendor.writes || !flags['write.bridge_vlans']) {
        it.skip(`bridge VLAN round trip: skipped, ${vendor.writes ? 'write.bridge_vlans is off' : 'the descriptor has no writes'}`, () => undefined);
      } else if (!opts.bridgeVlan) {
        it.skip('bridge VLAN round trip: skipped, the vendor file names no bridgeVlan', () => undefined);
      } else {
        const { bridge, ports } = opts.bridgeVlan;
        const [trunk, access] = ports;
        check('write.bridge_vlans', 'write.bridge_vlans: create → seen in bridgeVlans() → update → read back → delete → gone', async () => {
          const w = writer as LiveWriter;
          const vlanId = 3000 + (Number(run) % 1000);
          const seen = async () =>
            flags['read.bridge_vlans']
              ? ((await (view as LiveGateway).bridgeVlans?.())?.items ?? []).filter((v) => v.bridge === bridge && v.vlan_id === vlanId)
              : null;
          const body = { bridge, vlan_id: vlanId, tagged: [trunk], untagged: [access], description: '' };
          const created = await w.write({ kind: 'bridge_vlan', op: 'create', target: null, body });
          expect(created.target, 'a created bridge VLAN has an id').not.toBeNull();
          const target = created.target as string;
          await settle(created.pending);
          const listed = await seen();
          if (listed !== null) {
            expect(listed).toHaveLength(1);
            expect(listed[0]).toMatchObject({ write_target: target, tagged: [trunk], untagged: [access] });
          }
          expect(await w.read('bridge_vlan', target)).toMatchObject(body);
          // Both ports become trunk ports of the VLAN.
          const trunkOnly = { ...body, tagged: [...ports].sort(), untagged: [] };
          const updated = await w.write({ kind: 'bridge_vlan', op: 'update', target, body: trunkOnly });
          await settle(updated.pending);
          expect(await w.read('bridge_vlan', updated.target ?? target)).toMatchObject(trunkOnly);
          const deleted = await w.write({ kind: 'bridge_vlan', op: 'delete', target: updated.target ?? target, body: {} });
          await settle(deleted.pending);
          expect(await seen()).toEqual(listed === null ? null : []);
          expect(await w.read('bridge_vlan', updated.target ?? target)).toBeNull();
        });
      }
      /** Skips a round trip the vendor does not offer, saying why; else runs it as a (known-failure aware) check. */
      const roundTrip = (flag: Capability, title: string, fn: () => Promise<void>, missing?: string) => {
        if (!vendor.writes || !flags[flag]) {
          it.skip(`${title}: skipped, ${vendor.writes ? `${flag} is off` : 'the descriptor has no writes'}`, () => undefined);
        } else if (missing) {
          it.skip(`${title}: skipped, the vendor file names no ${missing}`, () => undefined);
        } else {
          check(flag, title, fn);
        }
      };
      /** Rows of an optional list read, or null when its flag is off. */
      const listed = async (flag: Capability, read: (v: LiveGateway) => Promise<{ items: unknown[] }> | undefined) => {
        if (!flags[flag]) return null;
        const answer = read(view as LiveGateway);
        if (answer === undefined) throw new Error(`${flag} is on but the view does not offer it`);
        return (await answer).items as Row[];
      };

      roundTrip(
        'write.vlans',
        'write.vlans: VLAN interface create → apply → listed → update → apply → read back → (DHCP scope round trip) → delete → gone',
        async () => {
          const w = writer as LiveWriter;
          const tag = 3900 + (Number(run) % 100);
          const octet = 100 + (Number(run) % 100);
          const body = {
            parent: opts.vlanParent as string,
            tag,
            name: `LC${run}`.slice(0, 16),
            ipv4: `10.${octet}.0.1/24`,
            ipv6: null,
            description: 'live contract VLAN',
            is_enabled: true,
          };
          const created = await w.write({ kind: 'vlan_interface', op: 'create', target: null, body });
          expect(created.target, 'a created VLAN interface has a target').not.toBeNull();
          const target = created.target as string;
          await settle(created.pending);
          expect(await w.read('vlan_interface', target)).toMatchObject(body);
          const rows = await listed('read.vlan_interfaces', (v) => v.vlanInterfaces?.());
          const seen = rows?.find((row) => row.target === target);
          if (rows) expect(seen, `VLAN interface ${target} in vlanInterfaces()`).toMatchObject(body);

          const updated = { ...body, ipv4: `10.${octet}.1.1/24`, description: 'live contract VLAN (updated)' };
          const changed = await w.write({ kind: 'vlan_interface', op: 'update', target, body: updated });
          await settle(changed.pending);
          const readBack = await w.read('vlan_interface', target);
          expect(readBack).toMatchObject(updated);

          if (vendor.writes && flags['write.dhcp_scopes']) {
            const iface = (readBack as Row).interface_id;
            expect(typeof iface, 'a VLAN interface names the interface a DHCP scope goes on').toBe('string');
            const scope = {
              interface: iface as string,
              range_from: `10.${octet}.1.100`,
              range_to: `10.${octet}.1.199`,
              gateway: null,
              dns_servers: [`10.${octet}.1.1`],
              is_enabled: true,
            };
            const made = await w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope });
            const scopeTarget = made.target as string;
            expect(scopeTarget).not.toBeNull();
            await settle(made.pending);
            expect(await w.read('dhcp_scope', scopeTarget)).toMatchObject(scope);
            const scopes = await listed('read.dhcp_scopes', (v) => v.dhcpScopes?.());
            if (scopes) expect(scopes.find((row) => row.target === scopeTarget)).toMatchObject(scope);
            const narrower = { ...scope, range_to: `10.${octet}.1.150`, dns_servers: [] };
            await settle((await w.write({ kind: 'dhcp_scope', op: 'update', target: scopeTarget, body: narrower })).pending);
            expect(await w.read('dhcp_scope', scopeTarget)).toMatchObject(narrower);
            await settle((await w.write({ kind: 'dhcp_scope', op: 'delete', target: scopeTarget, body: {} })).pending);
            expect(await w.read('dhcp_scope', scopeTarget)).toBeNull();
          }

          const deleted = await w.write({ kind: 'vlan_interface', op: 'delete', target, body: {} });
          await settle(deleted.pending);
          expect(await w.read('vlan_interface', target)).toBeNull();
          const after = await listed('read.vlan_interfaces', (v) => v.vlanInterfaces?.());
          if (after) expect(after.some((row) => row.target === target)).toBe(false);
        },
        opts.vlanParent ? undefined : 'vlanParent',
      );

      roundTrip('write.dns', 'write.dns: DNS host override create → listed → update → delete → gone', async () => {
        const w = writer as LiveWriter;
        const body = { host: `lc${run}`, domain: 'contract.example', ip: ['192.0.2.71'], description: 'live contract' };
        const created = await w.write({ kind: 'dns_override', op: 'create', target: null, body });
        const target = created.target as string;
        expect(target).not.toBeNull();
        await settle(created.pending);
        expect(await w.read('dns_override', target)).toMatchObject(body);
        const rows = await listed('read.dns_overrides', (v) => v.dnsOverrides?.());
        if (rows) expect(rows.find((row) => row.target === target)).toMatchObject(body);
        const updated = { ...body, ip: ['192.0.2.72'], description: 'live contract (updated)' };
        const changed = await w.write({ kind: 'dns_override', op: 'update', target, body: updated });
        await settle(changed.pending);
        const newTarget = changed.target ?? target;
        expect(await w.read('dns_override', newTarget)).toMatchObject(updated);
        await settle((await w.write({ kind: 'dns_override', op: 'delete', target: newTarget, body: {} })).pending);
        expect(await w.read('dns_override', newTarget)).toBeNull();
      });

      roundTrip(
        'write.dhcp',
        'write.dhcp: DHCP static mapping create → listed → update → delete → gone',
        async () => {
          const w = writer as LiveWriter;
          const at = opts.dhcpMapping as NonNullable<LiveContractOptions['dhcpMapping']>;
          if (at.scope) {
            const scope = { interface: at.interface, ...at.scope, gateway: null, dns_servers: [], is_enabled: true };
            await settle((await w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope })).pending);
          }
          const mac = `02:00:00:00:${(Number(run) % 256).toString(16).padStart(2, '0')}:71`;
          const body = { interface: at.interface, mac, ip: at.ip, hostname: `lc${run}`, description: 'live contract' };
          const created = await w.write({ kind: 'dhcp_static_mapping', op: 'create', target: null, body });
          const target = created.target as string;
          expect(target).not.toBeNull();
          await settle(created.pending);
          expect(await w.read('dhcp_static_mapping', target)).toMatchObject(body);
          const rows = await listed('read.dhcp_static_mappings', (v) => v.dhcpStaticMappings?.());
          if (rows) expect(rows.find((row) => row.target === target)).toMatchObject(body);
          const updated = { ...body, ip: at.updatedIp, description: 'live contract (updated)' };
          const changed = await w.write({ kind: 'dhcp_static_mapping', op: 'update', target, body: updated });
          await settle(changed.pending);
          const newTarget = changed.target ?? target;
          expect(await w.read('dhcp_static_mapping', newTarget)).toMatchObject(updated);
          await settle((await w.write({ kind: 'dhcp_static_mapping', op: 'delete', target: newTarget, body: {} })).pending);
          expect(await w.read('dhcp_static_mapping', newTarget)).toBeNull();
          if (at.scope) {
            await settle((await w.write({ kind: 'dhcp_scope', op: 'delete', target: at.interface, body: {} })).pending);
          }
        },
        opts.dhcpMapping ? undefined : 'dhcpMapping',
      );

      roundTrip(
        'write.dhcp_scopes',
        'write.dhcp_scopes: DHCP scope create → listed → update → delete → gone',
        async () => {
          const w = writer as LiveWriter;
          const at = opts.dhcpScope as NonNullable<LiveContractOptions['dhcpScope']>;
          const body = {
            interface: at.interface,
            range_from: at.range_from,
            range_to: at.range_to,
            gateway: null,
            dns_servers: ['192.0.2.53'],
            is_enabled: true,
          };
          const created = await w.write({ kind: 'dhcp_scope', op: 'create', target: null, body });
          const target = created.target as string;
          expect(target).not.toBeNull();
          await settle(created.pending);
          expect(await w.read('dhcp_scope', target)).toMatchObject(body);
          const rows = await listed('read.dhcp_scopes', (v) => v.dhcpScopes?.());
          if (rows) expect(rows.find((row) => row.target === target)).toMatchObject(body);
          const updated = { ...body, range_to: at.narrowed_to, dns_servers: [], is_enabled: false };
          await settle((await w.write({ kind: 'dhcp_scope', op: 'update', target, body: updated })).pending);
          expect(await w.read('dhcp_scope', target)).toMatchObject(updated);
          await settle((await w.write({ kind: 'dhcp_scope', op: 'delete', target, body: {} })).pending);
          expect(await w.read('dhcp_scope', target)).toBeNull();
        },
        opts.dhcpScope ? undefined : 'dhcpScope',
      );
    });
  });
}
