/**
 * @module Every OWRT code, each produced by a real OpenWrt emulator fault or condition (not a mock): transport,
 * login, ACL, TLS, timeouts, missing objects, old firmware, the 64 KiB rule, set reads and writes, reload
 * confirmation, live reads and writes, conntrack. Plus session expiry → one re-login.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  OpenWrtError,
  OWRT_CATALOG,
  type OwrtCode,
  UbusClient,
  openwrtLiveView,
  openwrtLiveWriter,
} from '../../src/adapters/openwrt/index.ts';
import { adapterFor, pair } from './adapter-harness.ts';

type Pair = Awaited<ReturnType<typeof pair>>;
let current: Pair | null = null;
afterEach(async () => {
  await current?.close();
  current = null;
});
const start = async (...args: Parameters<typeof pair>) => {
  current = await pair(...args);
  return current;
};
const failure = async (p: Promise<unknown>): Promise<OpenWrtError> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof OpenWrtError)) throw new Error(`expected an OpenWrtError, got ${String(err)}`);
  return err;
};
const produced = new Set<OwrtCode>();
const expectCode = (err: OpenWrtError, code: OwrtCode) => {
  expect(err.code, err.message).toBe(code);
  produced.add(code);
};

describe('OWRT codes from real emulator faults', () => {
  it('OWRT000: HTTP 502 from the router, and a dropped connection', async () => {
    const { emu, adapter } = await start();
    emu.fault({ kind: 'status', status: 502, times: 1 });
    expectCode(await failure(adapter.version()), 'OWRT000');
    emu.fault({ kind: 'drop', times: 1 });
    expectCode(await failure(adapter.version()), 'OWRT000');
  });

  it('OWRT001: a wrong password (session.login answers 6), the password not in the message', async () => {
    const { emu } = await start();
    const a = adapterFor(emu, { password: 'not-the-password' });
    const err = await failure(a.version());
    expectCode(err, 'OWRT001');
    expect(err.message).not.toContain('not-the-password');
    await a.close();
  });

  it('OWRT002: an ACL without conntrack exec names the path to grant; status 6 on a call names the object', async () => {
    const { emu, adapter } = await start({
      aclGroups: {
        portcullis: {
          read: {
            ubus: { system: ['board', 'info'], uci: ['get'], file: ['exec'] },
            uci: ['firewall'],
            file: { '/usr/sbin/nft': ['exec'] },
          },
          write: { ubus: { uci: ['add', 'set', 'delete', 'commit'] }, uci: ['firewall'] },
        },
      },
    });
    const err = await failure(adapter.killStates('192.0.2.9'));
    expectCode(err, 'OWRT002');
    expect(err.grant).toContain('/usr/sbin/conntrack');
    const denied = await failure(openwrtLiveView(adapter).connections(10));
    expectCode(denied, 'OWRT002');
    expect(denied.grant).toBe('ubus luci.getConntrackList');
    emu.clearFaults();
  });

  it('OWRT003: a pinned fingerprint that is not the router’s', async () => {
    const { emu } = await start();
    const a = adapterFor(emu, { tls: { mode: 'fingerprint', sha256: 'AA'.repeat(32) } });
    expectCode(await failure(a.version()), 'OWRT003');
    await a.close();
  });

  it('OWRT004: a hanging router (headers timeout) and a ubus timeout (-32003)', async () => {
    const { emu } = await start();
    const a = adapterFor(emu, { timeouts: { headersMs: 300 } });
    emu.fault({ kind: 'hang', times: 1 });
    expectCode(await failure(a.version()), 'OWRT004');
    await a.close();
    const b = adapterFor(emu);
    await b.version();
    emu.fault({ kind: 'ubus-timeout', object: 'system', times: 1 });
    expectCode(await failure(openwrtLiveView(b).status()), 'OWRT004');
    await b.close();
  });

  it('OWRT005: a missing method (status 3) and a missing program (exec status 4)', async () => {
    const { emu, adapter } = await start();
    emu.fault({ kind: 'ubus-status', status: 3, object: 'system', method: 'board' });
    expectCode(await failure(adapter.version()), 'OWRT005');
    emu.fault({ kind: 'ubus-status', status: 4, object: 'file', method: 'exec' });
    expectCode(await failure(adapter.killStates('192.0.2.1')), 'OWRT005');
  });

  it('OWRT006: OpenWrt 21.02 (fw3/iptables) is refused', async () => {
    const { adapter } = await start({ release: { version: '21.02.7', description: 'OpenWrt 21.02.7 r16847' } });
    const err = await failure(adapter.version());
    expectCode(err, 'OWRT006');
    expect(err.message).toContain('21.02.7');
  });

  it('OWRT007: a body over 64 KiB is refused before it is sent', async () => {
    const { emu, adapter } = await start();
    await adapter.version();
    emu.clearRequests();
    const err = await failure(
      adapter.ubus.call('uci', 'set', { config: 'firewall', section: 'x', values: { entry: 'x'.repeat(70_000) } }, { code: 'OWRT500', what: 'a huge write' }),
    );
    expectCode(err, 'OWRT007');
    expect(emu.requests()).toEqual([]);
    expect(UbusClient.size('a', 'b', {})).toBeLessThan(200);
  });

  it('OWRT100 / OWRT102: nft failing on the read and on the write', async () => {
    const { emu, adapter } = await start();
    await adapter.createAlias('faulty', 'host', '');
    emu.fault({ kind: 'exec-fail', command: '/usr/sbin/nft', body: 'Error: Could not process rule: Device or resource busy' });
    expectCode(await failure(adapter.getAlias('faulty')), 'OWRT100');
    const read = emu.state().firewall.sets.faulty;
    expect(read).toBeDefined();
    emu.fault({ kind: 'exec-fail', command: '/usr/sbin/nft', times: 2, body: 'Error: Could not process rule: Device or resource busy' });
    expectCode(await failure(adapter.setAliasEntries('faulty', [{ address: '192.0.2.1', detail: 'portcullis:g' }])), 'OWRT102');
  });

  it('OWRT101: an invalid fw4 name and a refused uci add', async () => {
    const { emu, adapter } = await start();
    expectCode(await failure(adapter.createAlias('9bad name', 'host', '')), 'OWRT101');
    emu.fault({ kind: 'ubus-status', status: 9, object: 'uci', method: 'add' });
    expectCode(await failure(adapter.createAlias('good_name', 'host', '')), 'OWRT101');
  });

  it('OWRT103: a set with no ipset section', async () => {
    const { adapter } = await start();
    expectCode(await failure(adapter.setAliasEntries('nope', [])), 'OWRT103');
  });

  it('OWRT200: the commit’s reload does not happen before the deadline', async () => {
    const { adapter } = await start({ reloadDelayMs: 60_000 }, { apply: { deadlineMs: 300, pollIntervalMs: 20 } });
    expectCode(await failure(adapter.createAlias('slow_set', 'host', '')), 'OWRT200');
  });

  it('OWRT300: a live read whose object answers an error status', async () => {
    const { emu, adapter } = await start();
    emu.fault({ kind: 'ubus-status', status: 9, object: 'network.interface' });
    expectCode(await failure(openwrtLiveView(adapter).interfaces()), 'OWRT300');
  });

  it('OWRT400: a body that is not JSON-RPC (an HTML error page)', async () => {
    const { emu, adapter } = await start();
    emu.fault({ kind: 'bad-body' });
    expectCode(await failure(adapter.version()), 'OWRT400');
  });

  it('OWRT500: a live write the router refuses, and a field OpenWrt cannot take', async () => {
    const { emu, adapter } = await start();
    const w = openwrtLiveWriter(adapter);
    const body = {
      action: 'allow', interface: 'wan', ip_version: 'inet', protocol: 'tcp', source_address: 'any', source_port: null,
      dest_address: 'any', dest_port: '22', description: 'ssh', is_enabled: true, log_enabled: false,
    } as const;
    const bad = await failure(w.write({ kind: 'firewall_rule', op: 'create', target: null, body: { ...body, protocol: 'gre' as 'tcp' } }));
    expectCode(bad, 'OWRT500');
    expect(bad.field).toBe('protocol');
    emu.fault({ kind: 'ubus-status', status: 2, object: 'uci', method: 'add' });
    expectCode(await failure(w.write({ kind: 'firewall_rule', op: 'create', target: null, body })), 'OWRT500');
  });

  it('OWRT600: conntrack exits without a count', async () => {
    const { emu, adapter } = await start();
    emu.fault({ kind: 'exec-fail', command: '/usr/sbin/conntrack', body: 'conntrack v1.4.7 (conntrack-tools): Operation failed: invalid parameters' });
    expectCode(await failure(adapter.killStates('192.0.2.1')), 'OWRT600');
  });

  it('covers every code of the catalog', () => {
    expect([...produced].sort()).toEqual(Object.keys(OWRT_CATALOG).sort());
  });
});

describe('session expiry', () => {
  it('an expired session (emulated 301 s idle) is re-established once and the call retried', async () => {
    const { emu, adapter } = await start();
    await adapter.version();
    emu.advance(301_000);
    emu.clearRequests();
    await openwrtLiveView(adapter).status();
    const logins = emu.requests().flatMap((r) => r.calls).filter((c) => c.object === 'session' && c.method === 'login');
    expect(logins).toHaveLength(1);
  });

  it('the session-expire fault: one re-login, the caller sees no error', async () => {
    const { emu, adapter } = await start();
    await adapter.createAlias('sess', 'host', '');
    emu.fault({ kind: 'session-expire' });
    await adapter.setAliasEntries('sess', [{ address: '192.0.2.5', detail: 'portcullis:g' }]);
    expect((await adapter.getAlias('sess'))?.entries.map((e) => e.address)).toEqual(['192.0.2.5']);
  });
});
