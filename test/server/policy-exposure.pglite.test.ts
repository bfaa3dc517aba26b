/**
 * @module `POST /api/v1/policy/exposure`, `POST /api/v1/policy/fix` and the knoc's exposure
 * (`GET|POST /api/v1/access/knocs/:id/exposure`) on a real app and store: answers equal to the library's, 400 naming
 * the field (alias, representatives, config, packet fields), the knoc's exposure on its gateway's live configuration
 * (the pfRest emulator; 409 while the gateway holds no such alias), 404 for a knoc of another site, 403 without the
 * permission.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliasExposure } from '../../src/policy/exposure.ts';
import { proposeFixes } from '../../src/policy/fixes.ts';
import type { RuleConfig } from '../../src/policy/model.ts';
import { pfsenseLiveWriter } from '../../src/adapters/pfsense/index.ts';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';
import { adapterFor } from '../pfsense/helpers.ts';
import { baseConfig, userRule } from '../policy/fixtures/builders.ts';

const sshFrom = (alias: string): RuleConfig =>
  userRule({
    interface: 'wan',
    protocol: 'tcp',
    tracker: '100',
    source: { kind: 'address', value: alias, not: false },
    destination: { kind: 'address', value: '85.10.20.2', port: '22', not: false },
  });
const configFor = (alias: string) =>
  baseConfig({ aliases: [{ name: alias, type: 'host', entries: [], descr: '' }], rules: [sshFrom(alias)] });
const config = configFor('ssh_admins');
const packet = {
  interface: 'wan',
  direction: 'in',
  protocol: 'tcp',
  source: '8.8.8.8',
  source_port: 40000,
  destination: '85.10.20.2',
  destination_port: 22,
  tcp_flags: 'S',
};

let h: AccessHarness;
beforeAll(async () => {
  h = await startAccessHarness('pglite');
});
afterAll(async () => {
  await h?.close();
});

const post = (url: string, payload: unknown, token = h.ownerToken) =>
  h.call({ method: 'POST', url, payload: payload as Record<string, unknown>, token });

describe('POST /api/v1/policy/exposure', () => {
  it('answers what the library answers: exactly tcp/22 to the one host', async () => {
    const res = await post('/api/v1/policy/exposure', { config, alias: 'ssh_admins' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(aliasExposure(config, 'ssh_admins'))));
    expect(res.json().regions).toEqual([
      expect.objectContaining({ source: '1.0.0.1', destination: ['85.10.20.2/32'], destinationPorts: ['22'] }),
    ]);
  });

  it('400 naming the field: unknown alias, a representative already on it, a bad config, a missing alias', async () => {
    const cases: Array<[unknown, string]> = [
      [{ config, alias: 'nope' }, 'alias'],
      [{ config: configFor('a'), alias: 'a', representatives: ['not-an-ip'] }, 'representatives.0'],
      [{ config: 'hello', alias: 'a' }, 'config'],
      [{ config: { ...config, rules: [{ ...sshFrom('a'), type: 'allow' }] }, alias: 'a' }, 'config.rules[0].type'],
      [{ config }, 'alias'],
    ];
    for (const [payload, field] of cases) {
      const res = await post('/api/v1/policy/exposure', payload);
      expect(res.statusCode, field).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'PC_ERR_VALIDATION', field });
    }
  });
});

describe('POST /api/v1/policy/fix', () => {
  it('answers what the library answers: add the source to the alias first', async () => {
    const res = await post('/api/v1/policy/fix', { config, packet });
    expect(res.statusCode).toBe(200);
    const library = proposeFixes(config, {
      interface: 'wan',
      direction: 'in',
      proto: 'tcp',
      src: '8.8.8.8',
      srcPort: 40000,
      dst: '85.10.20.2',
      dstPort: 22,
      tcpFlags: 'S',
    });
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(library)));
    expect(res.json().fixes.map((f: { edit: { kind: string } }) => f.edit.kind)).toEqual(['add-to-alias', 'insert-rule']);
    expect(res.json().fixes[1].edit.rule).toMatchObject({ type: 'pass', destination: { port: '22' } });
    // The tracer's line form gives the same answer; a malformed line is a 400 on `packet`.
    const line = await post('/api/v1/policy/fix', { config, packet: 'wan in tcp 8.8.8.8:40000 -> 85.10.20.2:22 flags S' });
    expect(line.json()).toEqual(res.json());
    const bad = await post('/api/v1/policy/fix', { config, packet: 'wan in tcp nowhere' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('packet');
  });

  it('400 naming the packet field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...packet, interface: 'dmz' }, 'packet.interface'],
      [{ ...packet, protocol: 'nosuch' }, 'packet.protocol'],
      [{ ...packet, icmp_type: 'echoreq' }, 'packet.icmp_type'],
      [{ ...packet, direction: 'sideways' }, 'packet.direction'],
    ];
    for (const [p, field] of cases) {
      const res = await post('/api/v1/policy/fix', { config, packet: p });
      expect(res.statusCode, field).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'PC_ERR_VALIDATION', field });
    }
  });

  it('needs firewall.view', async () => {
    const nobody = await h.makeUser('no-role');
    expect((await post('/api/v1/policy/fix', { config, packet }, nobody.token)).statusCode).toBe(403);
    expect((await post('/api/v1/policy/exposure', { config, alias: 'ssh_admins' }, nobody.token)).statusCode).toBe(403);
  });
});

describe('knoc exposure', () => {
  it('GET: on the live configuration (409 before the alias exists on the device); POST: on an uploaded one', async () => {
    const siteId = await h.site();
    const lonely = await h.knoc({ gateway_id: await h.gateway(siteId), alias_name: 'pc_nowhere', create_alias_if_missing: false });
    const none = await h.call({ method: 'GET', url: `/api/v1/access/knocs/${lonely.id}/exposure`, token: h.ownerToken });
    expect(none.statusCode, none.body).toBe(409);
    expect(none.json().error.message).toContain('holds no alias pc_nowhere');

    const knoc = await h.knoc({ gateway_id: await h.gateway(siteId), alias_name: 'pc_ssh' });
    const url = `/api/v1/access/knocs/${knoc.id}/exposure`;
    await h.settled();
    // Nothing on the device uses the alias yet: an address on it gains nothing.
    const unused = await h.call({ method: 'GET', url, token: h.ownerToken });
    expect(unused.statusCode, unused.body).toBe(200);
    expect(unused.json()).toMatchObject({ alias: 'pc_ssh', regions: [] });
    // A WAN rule letting the alias reach one host on tcp/22: exactly that is what a grant opens.
    const adapter = adapterFor(h.emulator);
    try {
      await pfsenseLiveWriter(adapter).write({
        kind: 'firewall_rule',
        op: 'create',
        target: null,
        body: {
          action: 'allow',
          interface: 'wan',
          ip_version: 'inet',
          protocol: 'tcp',
          source_address: 'pc_ssh',
          source_port: null,
          dest_address: '192.168.1.10',
          dest_port: '22',
          description: 'ssh for granted admins',
          is_enabled: true,
          log_enabled: false,
        },
      });
    } finally {
      await adapter.close();
    }
    const live = await h.call({ method: 'GET', url, token: h.ownerToken });
    expect(live.statusCode, live.body).toBe(200);
    expect(live.json()).toMatchObject({
      alias: 'pc_ssh',
      regions: [{ change: 'newly-pass', interface: 'wan', destination: ['192.168.1.10/32'], destinationPorts: ['22'] }],
    });

    const res = await post(url, { config: configFor('pc_ssh') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      alias: 'pc_ssh',
      regions: [{ change: 'newly-pass', destination: ['85.10.20.2/32'], destinationPorts: ['22'] }],
    });
    const missing = await post(url, { config });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toMatchObject({ field: 'config' });
    expect(missing.json().error.message).toContain('no alias named "pc_ssh"');
  });

  it('another site’s knoc is a 404; an unknown one too', async () => {
    const mySite = await h.site();
    const otherSite = await h.site();
    const theirs = await h.knoc({ gateway_id: await h.gateway(otherSite), alias_name: 'pc_other' });
    const op = await h.makeUser('exposure-op', 'operator', [mySite]);
    const url = `/api/v1/access/knocs/${theirs.id}/exposure`;
    expect((await h.call({ method: 'GET', url, token: op.token })).statusCode).toBe(404);
    expect((await post(url, { config: configFor('pc_other') }, op.token)).statusCode).toBe(404);
    const unknown = '/api/v1/access/knocs/00000000-0000-4000-8000-000000000000/exposure';
    expect((await h.call({ method: 'GET', url: unknown, token: h.ownerToken })).statusCode).toBe(404);
  });
});
