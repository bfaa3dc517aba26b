/**
 * @module The semantic preview of a staged change on a gateway's live configuration: the live snapshot read from the
 * real pfRest emulator (over loopback HTTPS, through the vendor-neutral live view), built into the policy engine's
 * model and traced; a change's newly passing / blocking regions; the lock-out check and the refusal; unknowns kept
 * honest; the management path derived from the gateway URL and the interfaces.
 */
import { request } from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LiveWrite } from '../../src/adapters/live-write.ts';
import { pfsenseLiveWriter } from '../../src/adapters/pfsense/index.ts';
import { pfsenseVendor } from '../../src/adapters/pfsense/vendor.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { LockoutError, ValidationError } from '../../src/errors.ts';
import { liveGateway } from '../../src/firewall/live.ts';
import {
  assertNoLockout,
  type ChangePreview,
  type LiveSnapshot,
  localAddressToward,
  managementPath,
  previewChange,
  previewLiveChange,
  readLiveSnapshot,
} from '../../src/firewall/preview.ts';
import { createEvaluator } from '../../src/policy/evaluate.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { buildPolicyFromLive } from '../../src/policy/import/live.ts';
import { adapterFor, closedPort } from '../pfsense/helpers.ts';

let emu: PfRestEmulator;

beforeAll(async () => {
  emu = await startPfRestEmulator();
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => {
  emu.reset();
});

/** A write on the emulated box, as an admin would make it through pfRest. */
async function onDevice(method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${emu.url}${path}`,
      {
        method,
        ca: emu.caPem,
        headers: { 'x-api-key': emu.apiKey, 'content-type': 'application/json', accept: 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => {
          const parsed = JSON.parse(text) as { code: number; data: Record<string, unknown> };
          if (parsed.code !== 200) reject(new Error(`${method} ${path}: ${text}`));
          else resolve(parsed.data);
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const wanRule = (extra: Record<string, unknown>) =>
  onDevice('POST', '/api/v2/firewall/rule', {
    type: 'pass',
    interface: ['wan'],
    ipprotocol: 'inet',
    protocol: 'tcp',
    source: 'any',
    destination: '192.168.1.10',
    destination_port: '22',
    descr: 'ssh to the jump host',
    ...extra,
  });

async function snapshot(): Promise<LiveSnapshot> {
  const adapter = adapterFor(emu);
  try {
    return await readLiveSnapshot(liveGateway(pfsenseVendor, adapter));
  } finally {
    await adapter.close();
  }
}

/** Portcullis on the lab LAN reaching the API on the LAN address. */
const onLan = { gatewayUrl: 'https://192.168.1.1', source: '192.168.1.100' };
/** WAN option pfSense sets by default (private and bogon sources blocked) turned off: regions stay one box. */
const plainWan = { block_private: [], block_bogons: [] };

const ruleBody = (extra: Partial<Extract<LiveWrite, { op: 'create'; kind: 'firewall_rule' }>['body']>) => ({
  action: 'allow' as const,
  interface: 'wan',
  ip_version: 'inet' as const,
  protocol: 'tcp' as const,
  source_address: 'any',
  source_port: null,
  dest_address: '192.168.1.10',
  dest_port: '8443',
  description: 'web admin',
  is_enabled: true,
  log_enabled: false,
  ...extra,
});

function defaultLanTracker(): string {
  return String(emu.state().rules[0]?.tracker);
}

describe('the live snapshot built into the engine model', () => {
  it('traces the lab: LAN to anywhere on tcp/22 passes by the LAN rule; WAN to the LAN is denied by default', async () => {
    const snap = await snapshot();
    expect(snap.rules).toHaveLength(1);
    expect(snap.interfaces.map((i) => [i.id, i.ipv4_mode, i.ipv4])).toEqual([
      ['wan', 'dhcp', null],
      ['lan', 'static', '192.168.1.1/24'],
    ]);
    const { config, warnings } = buildPolicyFromLive(snap);
    const evaluator = createEvaluator(generateRuleset(config, { importWarnings: warnings }));
    const lan = evaluator.evaluate({
      interface: 'lan',
      direction: 'in',
      proto: 'tcp',
      src: '192.168.1.50',
      srcPort: 40000,
      dst: '203.0.113.80',
      dstPort: 22,
      tcpFlags: 'S',
    });
    expect(lan.verdict).toBe('pass');
    expect(lan.rule).toMatchObject({ kind: 'user', tab: 'lan', tracker: defaultLanTracker() });
    const wan = evaluator.evaluate({
      interface: 'wan',
      direction: 'in',
      proto: 'tcp',
      src: '8.8.8.8',
      srcPort: 40000,
      dst: '192.168.1.50',
      dstPort: 22,
      tcpFlags: 'S',
    });
    expect(wan.verdict).toBe('block');
    expect(wan.rule).toMatchObject({ kind: 'system', descr: 'Default deny rule IPv4' });
    // What the live read could not say is named, not guessed silently.
    const named = warnings.filter((w) => w.code === 'POL046').map((w) => w.message);
    expect(named.some((m) => m.includes('anti_lockout true') && m.includes('block_private ["wan"]'))).toBe(true);
    expect(named.some((m) => m.startsWith('interface lan: no IPv6 address or mode read'))).toBe(true);
  });

  it('keeps a floating rule floating, with its direction and quick flag', async () => {
    await onDevice('POST', '/api/v2/firewall/rule', {
      type: 'block',
      interface: ['wan', 'lan'],
      floating: true,
      quick: true,
      direction: 'in',
      ipprotocol: 'inet',
      protocol: 'udp',
      source: 'any',
      destination: 'any',
      destination_port: '53',
      descr: 'no outbound DNS',
    });
    const { config } = buildPolicyFromLive(await snapshot());
    expect(config.rules[1]).toMatchObject({ floating: true, quick: true, direction: 'in', interface: 'wan,lan', type: 'block' });
    // Floating rules come before the LAN tab: its pass-all rule never sees the packet.
    const verdict = createEvaluator(generateRuleset(config)).evaluate({
      interface: 'lan',
      direction: 'in',
      proto: 'udp',
      src: '192.168.1.50',
      srcPort: 5353,
      dst: '9.9.9.9',
      dstPort: 53,
    });
    expect(verdict.verdict).toBe('block');
    expect(verdict.rule).toMatchObject({ tab: 'floating', descr: 'no outbound DNS' });
  });
});

describe('previewChange', () => {
  it('a rule opening tcp/8443 on the WAN shows exactly that region, with the deciding rules before and after', async () => {
    const change: LiveWrite = { kind: 'firewall_rule', op: 'create', target: null, body: ruleBody({}) };
    const preview = previewChange(await snapshot(), change, { management: onLan, settings: plainWan }) as ChangePreview;
    expect(preview.newly_block).toEqual([]);
    expect(preview.unknown).toEqual([]);
    // One region per deciding rule before: the default deny, and antispoof for the LAN's subnet and address (pf's
    // antispoof rules are not quick, so a later quick pass overrides them). Port 0 and 169.254/16 stay blocked by
    // quick system rules, so they are not in the region.
    for (const region of preview.newly_pass) {
      expect(region).toEqual({
        interface: 'wan',
        direction: 'in',
        family: 'inet',
        protocols: ['tcp'],
        source: expect.any(Array),
        source_ports: ['1-65535'],
        destination: ['192.168.1.10/32'],
        destination_ports: ['8443'],
        tcp_flags: expect.objectContaining({ text: 'S/SA' }),
        icmp_types: null,
        before: { verdict: 'block', rule: expect.objectContaining({ kind: 'system' }), certain: expect.any(Boolean) },
        after: { verdict: 'pass', rule: expect.objectContaining({ kind: 'user', tab: 'wan', description: 'web admin' }), certain: true },
      });
    }
    expect(preview.newly_pass.flatMap((r) => r.source ?? []).sort()).toEqual(
      [
        '0.0.0.0-126.255.255.255',
        '127.0.0.0/8',
        '128.0.0.0-169.253.255.255',
        '169.255.0.0-192.168.0.255',
        '192.168.1.0/32',
        '192.168.1.1/32',
        '192.168.1.2-192.168.1.255',
        '192.168.2.0-255.255.255.255',
      ].sort(),
    );
    expect(new Set(preview.newly_pass.map((r) => r.before.rule?.description))).toEqual(
      new Set(['Default deny rule IPv4', 'antispoof for LAN']),
    );
    expect(preview.counts).toEqual({ newly_pass: 4, newly_block: 0, reply_changed: 0, unknown: 0 });
    expect(preview.changed_rules.after).toEqual([expect.objectContaining({ description: 'web admin', action: 'pass' })]);
    expect(preview.lockout.status).toBe('passes');
    // JSON-ready: what is stored is what is returned.
    expect(JSON.parse(JSON.stringify(preview))).toEqual(preview);
  });

  it('with the WAN options assumed (private and bogon sources blocked) the opened region leaves them out', async () => {
    const change: LiveWrite = { kind: 'firewall_rule', op: 'create', target: null, body: ruleBody({}) };
    const preview = previewChange(await snapshot(), change, { management: onLan }) as ChangePreview;
    expect(preview.newly_pass.length).toBeGreaterThan(0);
    const sources = preview.newly_pass.flatMap((r) => r.source ?? []);
    expect(sources.some((s) => s.startsWith('10.'))).toBe(false);
    // 0/8 is a bogon: the region starts at 1.0.0.0 and stops before 10/8.
    expect(sources).toContain('1.0.0.0-9.255.255.255');
    expect(preview.warnings.some((w) => w.code === 'POL046')).toBe(true);
  });

  it('deleting the LAN rule cuts the management path: refused without an override, allowed with one', async () => {
    const change: LiveWrite = { kind: 'firewall_rule', op: 'delete', target: defaultLanTracker(), body: {} };
    const preview = previewChange(await snapshot(), change, { management: onLan }) as ChangePreview;
    expect(preview.lockout).toMatchObject({
      status: 'cut',
      path: { interface: 'lan', source: '192.168.1.100', address: '192.168.1.1', port: 443 },
      before: { verdict: 'pass', rule: expect.objectContaining({ tab: 'lan', tracker: defaultLanTracker() }) },
      after: { verdict: 'block' },
    });
    expect(preview.lockout.assumptions).toHaveLength(1);
    expect(preview.newly_block.every((r) => r.interface === 'lan' && r.before.rule?.tracker === defaultLanTracker())).toBe(true);
    expect(() => assertNoLockout(preview, { override_lockout: false, override_reason: null })).toThrow(LockoutError);
    try {
      assertNoLockout(preview, { override_lockout: false, override_reason: null });
    } catch (err) {
      expect(err).toMatchObject({ status: 409, code: 'lockout', field: 'override_lockout' });
      expect((err as Error).message).toContain('192.168.1.100 -> 192.168.1.1:443 in on lan');
    }
    expect(() => assertNoLockout(preview, { override_lockout: true, override_reason: '  ' })).toThrow(ValidationError);
    expect(() => assertNoLockout(preview, { override_lockout: true, override_reason: 'console access kept' })).not.toThrow();
    // Known to have the anti-lockout rule: the path stays open through it.
    const known = previewChange(await snapshot(), change, { management: onLan, settings: { anti_lockout: true } });
    expect(known?.lockout).toMatchObject({ status: 'passes', after: { rule: expect.objectContaining({ kind: 'system' }) }, assumptions: [] });
  });

  it('toggling an unrelated WAN rule leaves the path passing and changes only the WAN', async () => {
    const created = await wanRule({});
    const change: LiveWrite = {
      kind: 'firewall_rule',
      op: 'toggle',
      target: String(created.tracker),
      body: { is_enabled: false },
    };
    const preview = previewChange(await snapshot(), change, { management: onLan, settings: plainWan }) as ChangePreview;
    expect(preview.lockout.status).toBe('passes');
    expect(preview.newly_pass).toEqual([]);
    expect(preview.newly_block.length).toBeGreaterThan(0);
    for (const region of preview.newly_block) {
      expect(region).toMatchObject({
        interface: 'wan',
        destination: ['192.168.1.10/32'],
        destination_ports: ['22'],
        before: { verdict: 'pass', rule: expect.objectContaining({ description: 'ssh to the jump host' }) },
        after: { verdict: 'block' },
      });
    }
    expect(() => assertNoLockout(preview, { override_lockout: false, override_reason: null })).not.toThrow();
  });

  it('an alias update widening the sources newly passes exactly the added addresses', async () => {
    await onDevice('POST', '/api/v2/firewall/alias', {
      name: 'admins',
      type: 'host',
      descr: 'admins',
      address: ['1.1.1.1'],
      detail: ['office'],
    });
    await wanRule({ source: 'admins' });
    const change: LiveWrite = {
      kind: 'alias',
      op: 'update',
      target: 'admins',
      body: {
        name: 'admins',
        type: 'host',
        description: 'admins',
        entries: [
          { address: '1.1.1.1', detail: 'office' },
          { address: '8.8.8.8', detail: 'home' },
          { address: '9.9.9.0/28', detail: 'vendor' },
        ],
      },
    };
    const preview = previewChange(await snapshot(), change, { management: onLan, settings: plainWan }) as ChangePreview;
    expect(preview.newly_block).toEqual([]);
    expect(preview.newly_pass).toHaveLength(1);
    expect(preview.newly_pass[0]).toMatchObject({
      interface: 'wan',
      protocols: ['tcp'],
      source: ['8.8.8.8/32', '9.9.9.0/28'],
      destination: ['192.168.1.10/32'],
      destination_ports: ['22'],
      after: { rule: expect.objectContaining({ description: 'ssh to the jump host' }) },
    });
    // Narrowing it back is the mirror image.
    const narrowed = previewChange(await snapshot(), { ...change, body: { ...change.body, entries: [] } }, { management: onLan, settings: plainWan });
    expect(narrowed?.newly_block.map((r) => r.source)).toEqual([['1.1.1.1/32']]);
  });

  it("says when a change widens what a watched knoc's alias opens, and only then", async () => {
    await onDevice('POST', '/api/v2/firewall/alias', {
      name: 'pc_ops',
      type: 'host',
      descr: 'knoc ops',
      address: ['1.1.1.1'],
      detail: ['granted'],
    });
    await wanRule({ source: 'pc_ops' });
    const watch = [{ alias: 'pc_ops', label: 'knoc ops-admins' }];
    const forAlias: LiveWrite = {
      kind: 'firewall_rule',
      op: 'create',
      target: null,
      body: ruleBody({ source_address: 'pc_ops', dest_port: '8443', description: 'ops web console' }),
    };
    const widened = previewChange(await snapshot(), forAlias, { management: onLan, settings: plainWan, watch }) as ChangePreview;
    expect(widened.widens).toHaveLength(1);
    expect(widened.widens[0]).toMatchObject({ alias: 'pc_ops', label: 'knoc ops-admins', region_count: 1 });
    expect(widened.widens[0]?.regions[0]).toMatchObject({
      change: 'newly-pass',
      interface: 'wan',
      destination: ['192.168.1.10/32'],
      destinationPorts: ['8443'],
    });
    // Opening the same port to everyone gives the alias nothing beyond any address: no widening.
    const forAll: LiveWrite = { ...forAlias, body: ruleBody({ source_address: 'any', dest_port: '8443' }) };
    const open = previewChange(await snapshot(), forAll, { management: onLan, settings: plainWan, watch }) as ChangePreview;
    expect(open.counts.newly_pass).toBeGreaterThan(0);
    expect(open.widens).toEqual([]);
  });

  it('unknowns stay unknown: a rule to the WAN address (DHCP, not read) and an alias holding a DNS name', async () => {
    const toWan: LiveWrite = {
      kind: 'firewall_rule',
      op: 'create',
      target: null,
      body: ruleBody({ dest_address: 'wan:ip', dest_port: '443' }),
    };
    const preview = previewChange(await snapshot(), toWan, { management: onLan, settings: plainWan }) as ChangePreview;
    expect(preview.newly_pass).toEqual([]);
    expect(preview.unknown.length).toBeGreaterThan(0);
    expect(preview.unknown.every((r) => r.interface === 'wan' && r.destination_ports?.[0] === '443')).toBe(true);
    expect(preview.warnings.some((w) => w.code === 'POL030' && w.message.includes('wan'))).toBe(true);

    // An alias of a DNS name: its contents are resolved at run time, so a rule using it opens an unknown region.
    const snap = await snapshot();
    const withAlias = {
      ...snap,
      aliases: [{ name: 'partners', type: 'host', description: '', entries: [{ address: 'vpn.example.com', detail: '' }] }],
    };
    const fromPartners: LiveWrite = {
      kind: 'firewall_rule',
      op: 'create',
      target: null,
      body: ruleBody({ source_address: 'partners' }),
    };
    const aliasPreview = previewChange(withAlias, fromPartners, { management: onLan, settings: plainWan }) as ChangePreview;
    expect(aliasPreview.newly_pass).toEqual([]);
    expect(aliasPreview.unknown.length).toBeGreaterThan(0);
    for (const region of aliasPreview.unknown) {
      expect(region).toMatchObject({ interface: 'wan', destination_ports: ['8443'], after: { verdict: 'unknown', certain: false } });
    }
    expect(aliasPreview.warnings.some((w) => w.code === 'POL021')).toBe(true);
  });

  it('a port forward that redirects the API port elsewhere cuts the path', async () => {
    const change: LiveWrite = {
      kind: 'port_forward',
      op: 'create',
      target: null,
      body: {
        interface: 'lan',
        protocol: 'tcp',
        source_address: 'any',
        dest_address: 'lan:ip',
        dest_port: '443',
        target_address: '192.168.1.50',
        target_port: '443',
        description: 'web to the NAS',
        is_enabled: true,
      },
    };
    const preview = previewChange(await snapshot(), change, { management: onLan, settings: { anti_lockout: true } }) as ChangePreview;
    expect(preview.lockout.status).toBe('cut');
    expect(preview.lockout.after?.explanation).toContain('192.168.1.50');
    expect(preview.warnings.some((w) => w.message.includes('rdr pass'))).toBe(true);
  });

  it("names a port forward by the writer's own target (not its shifting position); a foreign one is a 400", async () => {
    const adapter = adapterFor(emu);
    try {
      const writer = pfsenseLiveWriter(adapter);
      const { target } = await writer.write({
        kind: 'port_forward',
        op: 'create',
        target: null,
        body: {
          interface: 'wan',
          protocol: 'tcp',
          source_address: 'any',
          dest_address: 'wan:ip',
          dest_port: '2222',
          target_address: '192.168.1.10',
          target_port: '22',
          description: 'ssh to the jump host',
          is_enabled: true,
        },
      });
      await writer.apply();
      const snap = await snapshot();
      const forward = snap.nat.port_forwards.find((f) => f.description === 'ssh to the jump host');
      expect(forward?.write_target).toBe(target);
      const off = previewChange(snap, { kind: 'port_forward', op: 'toggle', target: target as string, body: { is_enabled: false } }, { management: onLan });
      // No filter rule comes with this forward, so the filter diff is empty; it was found, not refused.
      expect(off).not.toBeNull();
      const gone = previewChange(snap, { kind: 'port_forward', op: 'delete', target: target as string, body: {} }, { management: onLan });
      expect(gone?.counts).toEqual(off?.counts);
      expect(() => previewChange(snap, { kind: 'port_forward', op: 'delete', target: '1', body: {} }, { management: onLan })).toThrow(ValidationError);
    } finally {
      await adapter.close();
    }
  });

  it('writes that cannot change the filter have no preview; a change naming a missing object is a 400 on `target`', async () => {
    const snap = await snapshot();
    const route: LiveWrite = {
      kind: 'static_route',
      op: 'create',
      target: null,
      body: { network: '10.9.0.0/16', gateway: 'WAN_DHCP', description: '', is_enabled: true },
    };
    expect(previewChange(snap, route, { management: onLan })).toBeNull();
    const missing: LiveWrite = { kind: 'firewall_rule', op: 'delete', target: '424242', body: {} };
    expect(() => previewChange(snap, missing, { management: onLan })).toThrow(ValidationError);
    try {
      previewChange(snap, missing, { management: onLan });
    } catch (err) {
      expect(err).toMatchObject({ field: 'target' });
    }
    const taken: LiveWrite = {
      kind: 'alias',
      op: 'create',
      target: null,
      body: { name: 'dup', type: 'host', description: '', entries: [] },
    };
    const twice = { ...snap, aliases: [{ name: 'dup', type: 'host', description: '', entries: [] }] };
    expect(() => previewChange(twice, taken, { management: onLan })).toThrow(/already exists/);
  });
});

describe('the management path', () => {
  const interfaces = [
    { id: 'wan', enabled: true, ipv4: '203.0.113.2/24', ipv6: null, gateway: '203.0.113.1' },
    { id: 'lan', enabled: true, ipv4: '192.168.1.1/24', ipv6: null, gateway: null },
  ];

  it('takes the API address and port from the gateway URL and the interface from the subnet holding the source', () => {
    expect(managementPath({ gatewayUrl: 'https://192.168.1.1:8443/', source: '192.168.1.7' }, { interfaces })).toEqual({
      path: { interface: 'lan', source: '192.168.1.7', address: '192.168.1.1', port: 8443 },
      reason: null,
    });
    expect(managementPath({ gatewayUrl: 'http://[2001:db8::1]', source: '2001:db8::7', interface: 'opt1' }, { interfaces }).path).toEqual({
      interface: 'opt1',
      source: '2001:db8::7',
      address: '2001:db8::1',
      port: 80,
    });
  });

  it('a source outside every subnet arrives on the one interface with a gateway', () => {
    expect(managementPath({ gatewayUrl: 'https://203.0.113.2', source: '198.51.100.9' }, { interfaces }).path?.interface).toBe('wan');
    const twoGateways = interfaces.map((i) => ({ ...i, gateway: '10.0.0.1' }));
    expect(managementPath({ gatewayUrl: 'https://203.0.113.2', source: '198.51.100.9' }, { interfaces: twoGateways }).reason).toMatch(
      /arrival interface is not known/,
    );
  });

  it('names why it cannot be placed: a host name, no source, a bad source, not a URL', () => {
    expect(managementPath({ gatewayUrl: 'https://fw.example.com', source: '192.168.1.7' }, { interfaces }).reason).toMatch(/names a host/);
    expect(managementPath({ gatewayUrl: 'https://192.168.1.1', source: null }, { interfaces }).reason).toMatch(/not known/);
    expect(managementPath({ gatewayUrl: 'https://192.168.1.1', source: 'me' }, { interfaces }).reason).toMatch(/not an IP address/);
    expect(managementPath({ gatewayUrl: 'not a url', source: '192.168.1.7' }, { interfaces }).reason).toMatch(/not a URL/);
  });

  it('an unplaced path makes the lock-out check unknown, never a refusal', async () => {
    const change: LiveWrite = { kind: 'firewall_rule', op: 'delete', target: defaultLanTracker(), body: {} };
    const preview = previewChange(await snapshot(), change, { management: { gatewayUrl: onLan.gatewayUrl, source: null } });
    expect(preview?.lockout).toMatchObject({ status: 'unknown', path: null, reason: expect.stringMatching(/not known/) });
    expect(() => assertNoLockout(preview ?? null, { override_lockout: false, override_reason: null })).not.toThrow();
  });

  it('previewLiveChange reads the device, takes the local address as the source, and skips writes it cannot preview', async () => {
    const adapter = adapterFor(emu);
    try {
      const live = liveGateway(pfsenseVendor, adapter);
      const change: LiveWrite = { kind: 'firewall_rule', op: 'delete', target: defaultLanTracker(), body: {} };
      const preview = await previewLiveChange(live, change, { gatewayUrl: emu.url });
      expect(preview?.newly_block.length).toBeGreaterThan(0);
      // Loopback is in no interface's subnet and the lab's WAN reports no gateway: the path cannot be placed.
      expect(preview?.lockout).toMatchObject({ status: 'unknown', reason: expect.stringContaining('127.0.0.1') });
      const onLanToo = await previewLiveChange(live, change, { gatewayUrl: 'https://192.168.1.1', source: '192.168.1.100', interface: 'lan' });
      expect(onLanToo?.lockout.status).toBe('cut');
      emu.clearRequests();
      const service: LiveWrite = { kind: 'service', op: 'control', target: 'unbound', body: { name: 'unbound', action: 'restart' } };
      expect(await previewLiveChange(live, service, { gatewayUrl: emu.url })).toBeNull();
      expect(emu.requests()).toEqual([]);
    } finally {
      await adapter.close();
    }
  });

  it("Portcullis's own address toward the gateway is the local end of a connection to it", async () => {
    expect(await localAddressToward(emu.url)).toBe('127.0.0.1');
    expect(await localAddressToward('https://fw.example.com')).toBeNull();
    expect(await localAddressToward(`https://127.0.0.1:${await closedPort()}`)).toBeNull();
    expect(await localAddressToward('::not a url')).toBeNull();
  });
});
