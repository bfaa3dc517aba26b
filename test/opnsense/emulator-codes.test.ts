/**
 * @module OPN codes produced by real faults of the OPNsense emulator (src/emulators/opnsense), rollback truth per
 * firmware profile against it, and live reads and writes over it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LiveRuleBody } from '../../src/adapters/live-write.ts';
import {
  type OpnCode,
  OpnSenseAdapter,
  type OpnSenseAdapterOptions,
  OpnSenseError,
  type OpnSenseLiveWriter,
  opnsenseLiveWriter,
  opnsenseVendor,
} from '../../src/adapters/opnsense/index.ts';
import { type OpnsenseEmulator, startOpnsenseEmulator } from '../../src/emulators/opnsense/index.ts';

function adapterFor(emu: OpnsenseEmulator, key = emu.credentials, extra: Partial<OpnSenseAdapterOptions> = {}) {
  return new OpnSenseAdapter({
    url: emu.url,
    apiKey: key.key,
    apiSecret: key.secret,
    tls: { mode: 'fingerprint', sha256: emu.fingerprint },
    timeouts: { connectMs: 1_000, headersMs: 1_500, bodyMs: 1_500 },
    retry: { maxRetries: 0 },
    breaker: { threshold: 1_000 },
    ...extra,
  });
}

async function codeOf(p: Promise<unknown>): Promise<OpnSenseError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OpnSenseError);
  return err as OpnSenseError;
}

const rule: LiveRuleBody = {
  action: 'allow',
  interface: 'lan',
  ip_version: 'inet',
  protocol: 'tcp',
  source_address: 'any',
  source_port: null,
  dest_address: 'any',
  dest_port: '443',
  description: 'emulator',
  is_enabled: true,
  log_enabled: false,
};

describe('OPN codes from emulator faults', () => {
  let emu: OpnsenseEmulator;
  let a: OpnSenseAdapter;
  beforeAll(async () => {
    emu = await startOpnsenseEmulator({ version: '26.7', tableEntriesLimit: 10 });
    a = adapterFor(emu);
  });
  afterAll(async () => {
    await a.close();
    await emu.close();
  });
  afterEach(() => emu.clearFaults());

  const is = async (p: Promise<unknown>, code: OpnCode) => {
    const err = await codeOf(p);
    expect(err.code, err.message).toBe(code);
    return err;
  };

  it('OPN000 dropped connection, OPN004 hang, OPN001 bad secret', async () => {
    emu.fault({ kind: 'drop', path: '/api/firewall/alias/get_alias_uuid' });
    await is(a.getAlias('x'), 'OPN000');
    emu.fault({ kind: 'hang', path: '/api/firewall/alias/get_alias_uuid' });
    await is(a.getAlias('x'), 'OPN004');
    const bad = adapterFor(emu, { key: emu.credentials.key, secret: 'not-the-secret' });
    const err = await is(bad.getAlias('x'), 'OPN001');
    expect(err.message).not.toContain('not-the-secret');
    await bad.close();
  });

  it('OPN002 names the privilege the key lacks; OPN008 for a read-only user', async () => {
    const limited = { key: 'limitedkey000000000000000000000000000000000000', secret: 'limitedsecret0000000000000000000000000000000000' };
    emu.addKey({ ...limited, privileges: ['page-firewall-alias-edit'] });
    const l = adapterFor(emu, limited);
    expect(await l.getAlias('nothing_here')).toBeNull();
    expect((await is(l.runtimeTable('x'), 'OPN002')).privilege).toBe('page-diagnostics-tables');
    expect((await is(l.killStates('192.0.2.1'), 'OPN002')).privilege).toBe('page-diagnostics-showstates');
    await l.close();
    const ro = { key: 'readonlykey00000000000000000000000000000000000', secret: 'readonlysecret000000000000000000000000000000000' };
    emu.addKey({ ...ro, readOnly: true });
    const r = adapterFor(emu, ro);
    await is(r.createAlias('ro_alias', 'host', ''), 'OPN008');
    await r.close();
  });

  it('OPN005 unknown endpoint; OPN007 a UserException; OPN400 a body that is not JSON', async () => {
    await is(a.call({ code: 'OPN300', what: 'x' }, 'GET', '/api/firewall/nothing/here'), 'OPN005');
    emu.fault({ kind: 'user-exception', path: '/api/firewall/alias/get_alias_uuid', body: 'boom', title: 'Alias' });
    expect((await is(a.getAlias('x'), 'OPN007')).message).toContain('boom');
    emu.fault({ kind: 'bad-body', path: '/api/firewall/alias/get_alias_uuid' });
    await is(a.getAlias('x'), 'OPN400');
  });

  it('OPN101 validation as 200 (name taken, names the field); OPN102; OPN103; OPN104', async () => {
    await a.createAlias('taken_name', 'host', '');
    const err = await is(a.createAlias('taken_name', 'host', ''), 'OPN101');
    expect(err.field).toBe('alias.name');
    expect(err.httpStatus).toBe(200);
    await is(a.setAliasEntries('taken_name', [{ address: 'bad!address', detail: '' }]), 'OPN102');
    await is(a.setAliasEntries('no_such_alias', []), 'OPN103');
    await is(a.setAliasEntries('bogons', []), 'OPN104');
  });

  it('OPN200 reconfigure over the table-entries limit (500 "Error loading alias")', async () => {
    await a.createAlias('big_alias', 'host', '');
    await a.setAliasEntries('big_alias', Array.from({ length: 20 }, (_, i) => ({ address: `198.51.100.${i + 1}`, detail: '' })));
    const err = await is(a.apply(), 'OPN200');
    expect(err.message).toMatch(/alias/i);
    await a.setAliasEntries('big_alias', []);
    await a.apply();
  });

  it('OPN300 a failed live read; OPN301 IPv6 kill refused', async () => {
    emu.fault({ kind: 'raw', path: '/api/firewall/alias_util/list', body: '{"status":"failed"}', contentType: 'application/json' });
    await is(a.runtimeTable('x'), 'OPN300');
    await is(a.killStates('2001:db8::1'), 'OPN301');
  });

  it('OPN500 a rule write refused with its field', async () => {
    const w = opnsenseLiveWriter(a);
    const err = await is(w.write({ kind: 'firewall_rule', op: 'create', target: null, body: { ...rule, action: 'allow', interface: 'nosuchif' } }), 'OPN500');
    expect(err.field).toMatch(/interface/);
  });
});

describe('rollback truth against the emulator profiles', () => {
  let emu: OpnsenseEmulator | undefined;
  afterEach(async () => {
    await emu?.close();
  });

  it('24.7: savepoint → apply/<rev> → cancel_rollback; nothing reverts after the cancel', async () => {
    emu = await startOpnsenseEmulator({ version: '24.7' });
    const a = adapterFor(emu);
    const v = await a.version();
    expect((v.raw as { rollback: { kind: string } }).rollback.kind).toBe('device');
    const w = opnsenseLiveWriter(a) as OpnSenseLiveWriter;
    const { target } = await w.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule });
    await w.apply();
    expect(w.lastRollback).toBe('armed-and-cancelled');
    const paths = emu.requests().map((r) => r.path);
    expect(paths.some((p) => p.startsWith('/api/firewall/filter/savepoint'))).toBe(true);
    expect(paths.some((p) => p.startsWith('/api/firewall/filter/cancel_rollback/'))).toBe(true);
    emu.advance(120_000);
    expect(await w.read('firewall_rule', target as string)).toMatchObject({ description: 'emulator' });
    await a.close();
  });

  it.each(['26.1.11', '26.7'] as const)('%s: no savepoint, a "No device rollback" warning, plain apply', async (version) => {
    emu = await startOpnsenseEmulator({ version });
    const a = adapterFor(emu);
    await a.version();
    expect(a.warnings.join(' ')).toContain('No device rollback');
    const w = opnsenseLiveWriter(a);
    await w.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule });
    await w.apply();
    expect(emu.requests().some((r) => /savepoint|cancel_rollback/.test(r.path))).toBe(false);
    await a.close();
  });
});

describe('live reads and writes against the emulator', () => {
  it('rules, NAT, aliases, states, interfaces through the descriptor', async () => {
    const emu = await startOpnsenseEmulator({ version: '26.7' });
    const a = adapterFor(emu);
    const live = opnsenseVendor.live?.open(a);
    const w = opnsenseVendor.writes?.open(a);
    if (!live || !w) throw new Error('no live view');
    const r = await w.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule });
    expect(await w.read('firewall_rule', r.target as string)).toEqual(rule);
    await w.apply();
    expect((await live.firewallRules()).items.some((x) => x.vendor_rule_id === r.target)).toBe(true);
    const nat = await live.natRules();
    expect(Array.isArray(nat.port_forwards)).toBe(true);
    expect(Array.isArray((await live.interfaces()).items)).toBe(true);
    emu.setStates([{ src_addr: '203.0.113.4', dst_addr: '10.0.0.1', src_port: '5555', dst_port: '22' }]);
    expect((await live.connections(10)).items[0]?.source).toContain('203.0.113.4');
    await a.close();
    await emu.close();
  });
});
