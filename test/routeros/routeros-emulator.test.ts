/**
 * @module The RouterOS adapter against the RouterOS emulator (src/emulators/routeros, docs/reference/routeros-api.md
 * §8): every ROS code produced by a real emulator fault, one request in flight under a 50-way burst (the emulator's
 * max-concurrency record), a reboot wiping timed entries and a reconcile restoring them, and live round trips.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { computeDesiredSet, type GrantSnapshot } from '../../src/access/desired-set.ts';
import { AliasReconciler } from '../../src/access/reconciler.ts';
import type { LiveRuleBody } from '../../src/adapters/live-write.ts';
import {
  type RosCode,
  RouterOsAdapter,
  RouterOsError,
  routerOsLiveView,
  routerOsLiveWriter,
  routerOsVendor,
} from '../../src/adapters/routeros/index.ts';
import { type RouterOsEmulator, startRouterOsEmulator } from '../../src/emulators/routeros/index.ts';
import { listAddresses, rosAdapterFor } from './adapter-helpers.ts';

let emu: RouterOsEmulator;
const made: RouterOsAdapter[] = [];
const adapter = (o: Parameters<typeof rosAdapterFor>[1] = {}) => {
  const a = rosAdapterFor(emu, o);
  made.push(a);
  return a;
};

beforeAll(async () => {
  emu = await startRouterOsEmulator({});
});
afterAll(async () => {
  for (const a of made.splice(0)) await a.close();
  await emu.close();
});
afterEach(() => {
  emu.clearFaults();
});

async function codeOf(fn: () => Promise<unknown>): Promise<RosCode> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof RouterOsError)) throw err;
    expect(err.message).not.toContain(emu.credentials.password);
    return err.code;
  }
  throw new Error('expected a RouterOsError');
}

describe('every ROS code from a real emulator fault', () => {
  it('ROS000 connection dropped, ROS004 hang, ROS005 HTML, ROS007 Session closed, ROS400 bad JSON', async () => {
    const ros = adapter({ retry: { maxRetries: 0 }, timeouts: { connectMs: 1_000, headersMs: 500, bodyMs: 500 } });
    emu.fault({ kind: 'drop', path: '/system/resource' });
    expect(await codeOf(() => ros.version())).toBe('ROS000');
    emu.fault({ kind: 'hang', path: '/system/resource' });
    expect(await codeOf(() => ros.version())).toBe('ROS004');
    emu.fault({ kind: 'html', path: '/system/resource' });
    expect(await codeOf(() => ros.version())).toBe('ROS005');
    emu.fault({ kind: 'session-closed', path: '/ip/firewall/address-list' });
    expect(await codeOf(() => ros.getAlias('x'))).toBe('ROS007');
    emu.fault({ kind: 'bad-json', path: '/system/resource' });
    expect(await codeOf(() => ros.version())).toBe('ROS400');
  });

  it('a body with raw control characters still parses', async () => {
    emu.fault({ kind: 'control-chars', path: '/system/resource' });
    expect((await adapter().version()).product).toMatch(/^RouterOS 7\./);
  });

  it('ROS001 wrong password or no rest-api policy; ROS002 without read/write', async () => {
    expect(await codeOf(() => adapter({ password: 'not-the-password' }).version())).toBe('ROS001');
    emu.addUser({ name: 'norest', password: 'pw-norest', policies: ['read', 'write', 'api'] });
    expect(await codeOf(() => adapter({ username: 'norest', password: 'pw-norest' }).version())).toBe('ROS001');
    emu.addUser({ name: 'reader', password: 'pw-reader', policies: ['read', 'api', 'rest-api'] });
    const reader = adapter({ username: 'reader', password: 'pw-reader', retry: { maxRetries: 0 } });
    expect(await codeOf(() => reader.setAliasEntries('jit_ro', [{ address: '192.0.2.1', detail: 'portcullis:g' }]))).toBe('ROS002');
    emu.addUser({ name: 'blind', password: 'pw-blind', policies: ['api', 'rest-api'] });
    const blind = adapter({ username: 'blind', password: 'pw-blind', retry: { maxRetries: 0 } });
    expect(await codeOf(() => blind.getAlias('jit_ro'))).toBe('ROS002');
  });

  it('ROS003 an untrusted or mis-pinned certificate', async () => {
    expect(await codeOf(() => adapter({ tls: { mode: 'system' }, retry: { maxRetries: 0 } }).version())).toBe('ROS003');
    const wrongPin = adapter({ tls: { mode: 'fingerprint', sha256: 'AA'.repeat(32) }, retry: { maxRetries: 0 } });
    expect(await codeOf(() => wrongPin.version())).toBe('ROS003');
  });

  it('ROS006 a version without REST', async () => {
    const old = await startRouterOsEmulator({ version: '7.0.5 (stable)' });
    try {
      const ros = rosAdapterFor(old);
      made.push(ros);
      expect(await codeOf(() => ros.version())).toBe('ROS006');
    } finally {
      await old.close();
    }
  });

  it('ROS100 read failure, ROS101 refused add, ROS102 unresolvable duplicate, ROS200 connection table failure', async () => {
    const ros = adapter({ retry: { maxRetries: 0 } });
    emu.fault({ kind: 'status', status: 500, path: '/ip/firewall/address-list', method: 'GET' });
    expect(await codeOf(() => ros.getAlias('jit_f'))).toBe('ROS100');
    emu.fault({ kind: 'status', status: 400, detail: 'invalid value for argument address', path: '/ip/firewall/address-list', method: 'PUT' });
    expect(await codeOf(() => ros.setAliasEntries('jit_f', [{ address: '192.0.2.7', detail: 'portcullis:g' }]))).toBe('ROS101');
    emu.fault({ kind: 'status', status: 400, detail: 'failure: already have such entry', path: '/ip/firewall/address-list', method: 'PUT' });
    expect(await codeOf(() => ros.setAliasEntries('jit_f', [{ address: '192.0.2.8', detail: 'portcullis:g' }]))).toBe('ROS102');
    emu.fault({ kind: 'status', status: 500, path: '/ip/firewall/connection' });
    expect(await codeOf(() => ros.killStates('192.0.2.8'))).toBe('ROS200');
  });

  it('ROS103 unknown parameter, ROS104 no such menu, ROS105 unknown id, ROS300 live read, ROS500 live write', async () => {
    const ros = adapter({ retry: { maxRetries: 0 } });
    const writer = routerOsLiveWriter(ros);
    const rule: LiveRuleBody = {
      action: 'deny',
      interface: 'ether1',
      ip_version: 'inet',
      protocol: 'tcp',
      source_address: 'any',
      source_port: null,
      dest_address: 'any',
      dest_port: '23',
      description: 'no telnet',
      is_enabled: true,
      log_enabled: false,
    };
    const err = await writer
      .write({ kind: 'firewall_rule', op: 'create', target: null, body: { ...rule, vendor_data: { colour: 'blue' } } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ROS103', field: 'colour' });
    expect(await codeOf(() => ros.read('/ip/nothing-here', 'read nothing'))).toBe('ROS104');
    expect(await codeOf(() => ros.request('ROS500', 'delete', 'DELETE', '/ip/firewall/filter/*FFFF'))).toBe('ROS105');
    emu.fault({ kind: 'status', status: 500, path: '/interface' });
    expect(await codeOf(() => routerOsLiveView(ros).interfaces())).toBe('ROS300');
    emu.fault({ kind: 'status', status: 400, detail: 'failure: cannot do that', path: '/ip/firewall/filter', method: 'PUT' });
    expect(await codeOf(() => writer.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule }))).toBe('ROS500');
  });

  it('ROS401 the reconciler read-back lacks an entry the router acknowledged but did not store', async () => {
    const ros = adapter();
    const grants: GrantSnapshot[] = [{ id: 'g-lost', ip: '198.51.100.99', expiresAt: Date.now() + 600_000 }];
    const reconciler = new AliasReconciler({
      aliasName: 'jit_verify',
      target: ros,
      desired: () => computeDesiredSet(grants, Date.now()),
      createIfMissing: () => false,
      killStatesOnRevoke: () => true,
      nativeExpiry: () => true,
      codes: routerOsVendor.errors,
      periodicMs: null,
    });
    emu.fault({ kind: 'raw', status: 201, body: '{}', contentType: 'application/json', path: '/ip/firewall/address-list', method: 'PUT' });
    await reconciler.reconcileNow();
    expect(reconciler.status().error?.code).toBe('ROS401');
    await reconciler.stop();
  });
});

describe('one request in flight', () => {
  it('a 50-way parallel burst on three adapters of one gateway never has two requests open at the device', async () => {
    const slow = await startRouterOsEmulator({ latencyMs: 2 });
    try {
      const trio = [0, 1, 2].map(() => rosAdapterFor(slow, { gatewayKey: 'gw-burst' }));
      made.push(...trio);
      slow.resetMaxInFlight();
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const a = trio[i % 3] as RouterOsAdapter;
          return i % 5 === 0
            ? a.getAlias('burst')
            : a.setAliasEntries(`burst${i % 4}`, [{ address: `192.0.2.${i}`, detail: `portcullis:b${i}`, expiresAt: Date.now() + 60_000 }]);
        }),
      );
      expect(slow.maxInFlight()).toBe(1);
      expect(slow.requests().length).toBeGreaterThan(100);
      // The record does see overlap when two devices' queues (different keys) talk to it at once.
      const a = rosAdapterFor(slow, { gatewayKey: 'gw-x' });
      const b = rosAdapterFor(slow, { gatewayKey: 'gw-y' });
      made.push(a, b);
      slow.resetMaxInFlight();
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).getAlias('burst')));
      expect(slow.maxInFlight()).toBeGreaterThan(1);
    } finally {
      await slow.close();
    }
  });
});

describe('reboot', () => {
  it('a reboot wipes timed entries; the adapter reports it; the next full reconcile restores them with timeouts', async () => {
    const ros = adapter({ gatewayKey: 'gw-reboot' });
    const grants: GrantSnapshot[] = [
      { id: 'g1', ip: '198.51.100.1', expiresAt: Date.now() + 3_600_000 },
      { id: 'g2', ip: '198.51.100.2', expiresAt: Date.now() + 7_200_000 },
    ];
    await ros.setAliasEntries('jit_reboot', [{ address: '192.0.2.200', detail: 'manual, permanent' }]);
    const reconciler = new AliasReconciler({
      aliasName: 'jit_reboot',
      target: ros,
      desired: () => computeDesiredSet(grants, Date.now()),
      createIfMissing: () => false,
      killStatesOnRevoke: () => true,
      nativeExpiry: () => true,
      codes: routerOsVendor.errors,
      periodicMs: null,
    });
    await reconciler.reconcileNow();
    expect(reconciler.status().error).toBeNull();
    expect(listAddresses(emu, 'jit_reboot').sort()).toEqual(['192.0.2.200', '198.51.100.1', '198.51.100.2']);
    emu.advance(5_000);
    await ros.version(); // uptime ≥ 5 s seen
    emu.reboot();
    expect(listAddresses(emu, 'jit_reboot')).toEqual(['192.0.2.200']);
    const after = await ros.version();
    expect((after.raw as Record<string, unknown>).reboot_detected).toBe('true');
    await reconciler.reconcileNow();
    expect(reconciler.status().error).toBeNull();
    const read = (await ros.getAlias('jit_reboot'))?.entries ?? [];
    expect(read.map((e) => [e.address, e.expiresAt !== undefined]).sort()).toEqual([
      ['192.0.2.200', false],
      ['198.51.100.1', true],
      ['198.51.100.2', true],
    ]);
    expect(Math.abs((read.find((e) => e.address === '198.51.100.2')?.expiresAt ?? 0) - (grants[1] as GrantSnapshot).expiresAt)).toBeLessThan(5_000);
    await reconciler.stop();
  });
});

describe('live reads and writes against the emulator', () => {
  it('status, rules with the dynamic rule marked, a rule placed before another, toggled, restored from its before-image', async () => {
    const ros = adapter();
    const view = routerOsLiveView(ros);
    const writer = routerOsLiveWriter(ros);
    expect(await view.status()).toMatchObject({ api_version: 'REST' });
    const body: LiveRuleBody = {
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
    };
    const first = await writer.write({ kind: 'firewall_rule', op: 'create', target: null, body: { ...body, description: 'last' } });
    const second = await writer.write({ kind: 'firewall_rule', op: 'create', target: null, body, before: first.target });
    const ids = (await view.firewallRules()).items.map((r) => r.vendor_rule_id);
    expect(ids.indexOf(second.target)).toBe(ids.indexOf(first.target) - 1);
    expect((await view.firewallRules()).items.some((r) => r.vendor_data.dynamic === true)).toBe(true);
    expect(await writer.read('firewall_rule', second.target as string)).toEqual(body);
    await writer.write({ kind: 'firewall_rule', op: 'toggle', target: second.target as string, body: { is_enabled: false } });
    expect(await writer.read('firewall_rule', second.target as string)).toMatchObject({ is_enabled: false });
    const before = await writer.read('firewall_rule', second.target as string);
    await writer.write({ kind: 'firewall_rule', op: 'delete', target: second.target as string, body: {} });
    const back = await writer.write({
      kind: 'firewall_rule',
      op: 'create',
      target: null,
      body: before as unknown as LiveRuleBody,
      before: first.target,
    });
    expect(await writer.read('firewall_rule', back.target as string)).toEqual(before);
  });

  it('NAT port forward round trip, address lists grouped, connections and logs read', async () => {
    const ros = adapter();
    const view = routerOsLiveView(ros);
    const writer = routerOsLiveWriter(ros);
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
    const made1 = await writer.write({ kind: 'port_forward', op: 'create', target: null, body: pf });
    expect(await writer.read('port_forward', made1.target as string)).toEqual(pf);
    expect((await view.natRules()).port_forwards.map((r) => r.write_target)).toContain(made1.target);
    await ros.setAliasEntries('grouped', [{ address: '192.0.2.77', detail: 'x' }]);
    expect((await view.aliases()).items.find((a) => a.name === 'grouped')?.entries).toEqual([{ address: '192.0.2.77', detail: 'x' }]);
    emu.addConnection({ srcAddress: '203.0.113.5:5555', dstAddress: '192.0.2.1:22', protocol: 'tcp' });
    expect((await view.connections(100)).items.some((c) => c.source === '203.0.113.5:5555')).toBe(true);
    emu.addLog({ topics: 'firewall,info', message: 'drop input: in:ether1 out:(unknown 0), proto TCP (SYN), 203.0.113.5:5555->192.0.2.1:23, len 60' });
    expect((await view.logs('firewall', 10)).items.length).toBeGreaterThan(0);
    expect((await view.firewallLog(10)).items.some((e) => e.source_ip === '203.0.113.5')).toBe(true);
  });
});

describe('the registry descriptor', () => {
  it('builds an adapter from a gateway connection and its connection test reads the version', async () => {
    const { lookup } = await import('node:dns');
    const { findVendor } = await import('../../src/adapters/vendors.ts');
    const vendor = findVendor('routeros');
    expect(vendor).toBe(routerOsVendor);
    expect(vendor?.capabilities).toMatchObject({ apply: false, native_expiry: true, kill_states: true, 'alias.create': true });
    const built = routerOsVendor.createAdapter({
      url: emu.url,
      credentials: { username: emu.credentials.username, password: emu.credentials.password },
      tls: { mode: 'fingerprint', sha256: emu.fingerprint ?? '' },
      lookup,
      gatewayKey: 'gw-descriptor',
    });
    try {
      expect(await routerOsVendor.testConnection(built)).toMatchObject({ api: 'REST' });
      expect(routerOsVendor.listNaming.check('bad name').ok).toBe(false);
      expect(routerOsVendor.listNaming.check('portcullis_jit').ok).toBe(true);
    } finally {
      await built.close();
    }
  });
});
