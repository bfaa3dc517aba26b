/**
 * @module The pfRest emulator stands apart from the adapter it tests (issue 8 item 5): it imports nothing from
 * `src/adapters`, and its alias-name and privilege rules — written from pfRest's and pfSense's source
 * (docs/reference/pfrest-emulator.md §2–§3) — are compared here with the adapter's own pre-check. Where the two
 * disagree, a test below shows it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AliasNameCheck,
  checkAliasName,
  systemServiceAndProtocolNames,
} from '../../src/adapters/pfsense/alias-name.ts';
import { privilegeFor } from '../../src/adapters/pfsense/index.ts';
import { aliasNameFailure, type BoxNames } from '../../src/emulators/pfrest/alias-name.ts';
import { endpointPrivilege } from '../../src/emulators/pfrest/auth.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every repository module reachable from `entry` through relative imports (static and dynamic). */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      walk(resolve(dirname(file), m[1] as string));
    }
  };
  walk(entry);
  return seen;
}

describe('the emulator imports nothing from the adapters', () => {
  it('no module reachable from src/emulators/pfrest lies under src/adapters', () => {
    const modules = [...reachable(join(ROOT, 'src/emulators/pfrest/index.ts'))].map((f) =>
      f.slice(ROOT.length + 1),
    );
    expect(modules).toContain('src/emulators/pfrest/alias-name.ts');
    expect(modules.filter((m) => m.startsWith('src/adapters/'))).toEqual([]);
  });

  it('the walk sees an adapter import when there is one (test/pfsense/helpers.ts imports both)', () => {
    const modules = [...reachable(join(ROOT, 'test/pfsense/helpers.ts'))];
    expect(modules).toContain(join(ROOT, 'src/adapters/pfsense/privileges.ts'));
    expect(modules).toContain(join(ROOT, 'src/emulators/tls.ts'));
  });
});

// ---------------------------------------------------------------------------------------------------------
// Alias names

const BOX: BoxNames = { interfaceIds: ['wan', 'lan', 'opt1'], interfaceGroups: ['dmz_grp'] };
const adapterCheck = (name: string): AliasNameCheck =>
  checkAliasName(name, { interfaceIds: BOX.interfaceIds, interfaceGroups: BOX.interfaceGroups });
const deviceId = (name: string): string | null => aliasNameFailure(name, BOX)?.id ?? null;
const adapterId = (name: string): string | null => {
  const c = adapterCheck(name);
  return c.ok ? null : c.id;
};

/** Names from every rule, the upstream tests and the edges between rules. */
// biome-ignore format: a word table reads better packed
const CORPUS = [
  'jit_users', 'Jit_Users_2', 'a'.repeat(31), 'a'.repeat(32), 'bad-name', 'bad.name', 'bad name', '', 'ä',
  'sshguard', 'IPsec', 'pkg_anything', 'pkg_', 'PKG_x', 'pass', 'port', 'syncookies', 'returnicmp6', 'allowopts',
  'const', 'persist', 'self', 'enc0', 'any', 'ANY', 'bogons', 'Bogons', 'vpn_networks',
  'wan', 'WAN', 'Wan', 'WAN__NETWORK', 'wan__NETWORK', 'lan', 'LAN__NETWORK', 'opt1', 'OPT1', 'OPT1__NETWORK',
  'opt2', 'OPT2', 'dmz_grp', 'DMZ_GRP', 'DMZ_GRP__NETWORK',
  '123', '1e5', '1E5', '0', '007', 'e5', '1e', '1_000', '0x1A', '___', '_', '_a',
  'tcp', 'TCP', 'udp', 'icmp', 'ICMP', 'gre', 'esp', 'carp', 'pfsync', 'ipv6', 'ip',
  'http', 'https', 'ssh', 'smtp', 'domain', 'ntp', 'pop3', 'tftp', 'openvpn', 'ftp', 'www', 'HTTP',
];

describe('alias names: emulator (pfSense) and adapter pre-check', () => {
  it.each([
    // pfRest 805c7f0c Tests/APIModelsFirewallAliasTestCase.inc:49-78
    ['pkg_anything', 'FILTER_NAME_VALIDATOR_CANNOT_START_WITH_PKG'],
    ['sshguard', 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED'],
    ['IPsec', 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED'],
  ])('both reject %s as pfRest test_reject_prohibited_alias_names expects: %s', (name, id) => {
    expect([deviceId(name), adapterId(name)]).toEqual([id, id]);
  });

  it('the interface-derived reserved names follow the box: OPT2 is free when there is no opt2', () => {
    expect(deviceId('OPT2')).toBeNull();
    expect(deviceId('OPT1')).toBe('FILTER_NAME_VALIDATOR_RESERVED_NAME_USED');
    expect(deviceId('DMZ_GRP__NETWORK')).toBe('FILTER_NAME_VALIDATOR_RESERVED_NAME_USED');
    expect(deviceId('dmz_grp')).toBe('FILTER_NAME_VALIDATOR_NAME_IN_USE_BY_INTERFACE');
  });

  /**
   * The adapter may be stricter than the device only where the host's service and protocol databases (which it
   * reads) hold names FreeBSD's do not; it may be looser only through the gap ADR 0072 accepts. Anything else
   * is a bug on one side.
   */
  const agreeOrExplained = (name: string): void => {
    const device = deviceId(name);
    const adapter = adapterId(name);
    if (device === adapter) return;
    const hostNames = systemServiceAndProtocolNames();
    if (device === null) {
      expect({ name, adapter }).toEqual({ name, adapter: 'INVALID_FIREWALL_ALIAS_NAME' });
      expect(hostNames.has(name)).toBe(true);
    } else {
      expect({ name, device, adapter }).toEqual({ name, device: 'INVALID_FIREWALL_ALIAS_NAME', adapter: null });
      expect(hostNames.has(name)).toBe(false);
    }
  };

  it.each(CORPUS)('%j: same verdict, or a difference only in the service/protocol databases', (name) => {
    agreeOrExplained(name);
  });

  it('random names built from every rule’s pieces: same verdict, or a database difference', () => {
    const piece = fc.constantFrom(...CORPUS.filter((n) => n.length < 16), 'x', '9', '_', '-', 'e', 'NETWORK');
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 4 }), (parts) => agreeOrExplained(parts.join(''))),
      { numRuns: 3000 },
    );
  });

  it('known gap (ADR 0072, reported): the adapter accepts FreeBSD service and protocol names that pfSense refuses', () => {
    const candidates = ['audit', 'profile', 'resource', 'graphics', 'send', 'mobile', 'pipe', 'fire', 'divert'];
    const gap = candidates.filter((n) => !systemServiceAndProtocolNames().has(n));
    expect(gap.length).toBeGreaterThan(0);
    for (const name of gap) {
      expect([name, adapterId(name), deviceId(name)]).toEqual([name, null, 'INVALID_FIREWALL_ALIAS_NAME']);
    }
  });
});

describe('the emulator serves its own rules over HTTP', () => {
  let emu: PfRestEmulator;
  let agent: Agent;
  beforeAll(async () => {
    emu = await startPfRestEmulator();
    agent = new Agent({ connect: { ca: emu.caPem } });
  });
  afterAll(async () => {
    await agent.close();
    await emu.close();
  });

  const create = async (name: string) => {
    const res = await request(`${emu.url}/api/v2/firewall/alias`, {
      method: 'POST',
      headers: { 'x-api-key': emu.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ name, type: 'host' }),
      dispatcher: agent,
    });
    return { status: res.statusCode, body: (await res.body.json()) as { response_id: string; message: string } };
  };

  it('a FreeBSD-only service name is refused by the box with pfRest’s message', async () => {
    const r = await create('graphics');
    expect([r.status, r.body.response_id, r.body.message]).toEqual([
      400,
      'INVALID_FIREWALL_ALIAS_NAME',
      'Invalid firewall alias name `graphics`.',
    ]);
  });

  it('a reserved name is refused with FilterNameValidator’s message, quotes turned into backticks', async () => {
    const r = await create('sshguard');
    expect(r.body.message).toBe(
      'Field `name` cannot be `sshguard` because it is a name reserved by the system.',
    );
  });

  it('a key holding exactly the privilege pfRest generates may call the endpoint; its neighbour’s may not', async () => {
    const get = (key: string) =>
      request(`${emu.url}/api/v2/firewall/aliases`, { headers: { 'x-api-key': key }, dispatcher: agent }).then(
        async (r) => {
          await r.body.dump();
          return r.statusCode;
        },
      );
    expect(await get(emu.addKey([endpointPrivilege('/api/v2/firewall/aliases', 'GET')]))).toBe(200);
    expect(await get(emu.addKey([endpointPrivilege('/api/v2/firewall/alias', 'GET')]))).toBe(403);
  });
});

describe('privilege names: emulator and adapter against pfRest’s own test', () => {
  // pfRest 805c7f0c Tests/APICoreEndpointTestCase.inc:148-152 (endpoint /api/v2/firewall/alias).
  it.each([
    ['GET', 'api-v2-firewall-alias-get'],
    ['POST', 'api-v2-firewall-alias-post'],
    ['PATCH', 'api-v2-firewall-alias-patch'],
    ['PUT', 'api-v2-firewall-alias-put'],
    ['DELETE', 'api-v2-firewall-alias-delete'],
  ])('%s /api/v2/firewall/alias → %s', (method, privilege) => {
    expect(endpointPrivilege('/api/v2/firewall/alias', method)).toBe(privilege);
    expect(privilegeFor('/api/v2/firewall/alias', method)).toBe(privilege);
  });

  it.each([
    '/api/v2/firewall/states/size',
    '/api/v2/system/restapi/settings',
    '/api/v2/firewall/nat/port_forwards',
    '/api/v2/status/dhcp_server/leases',
    '/api/v2/services/dns_resolver/host_override/alias',
  ])('underscores and slashes agree on %s', (url) => {
    for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
      expect(privilegeFor(url, method)).toBe(endpointPrivilege(url, method));
    }
  });
});
