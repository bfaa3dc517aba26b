/**
 * `portcullis topology get|set|validate|delete`, `portcullis vlans list|create|delete|apply-template`,
 * `vlans templates`, `portcullis dhcp scopes|reservations` and `portcullis dns records`, spawned as a script runs
 * them against a real server on loopback (PGlite): JSON out, exit 1 naming the field on a refusal or an invalid map.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/firewall/gateways.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { type FirewallHarness, startFirewallHarness } from '../firewall/harness.ts';
import { testContext } from '../helpers/store.ts';

const root = new URL('../../', import.meta.url).pathname;
let h: FirewallHarness;
let url: string;
let site: string;
let brain: string;
let limb: string;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, PORTCULLIS_URL: url, PORTCULLIS_TOKEN: h.ownerToken };
    const child = spawn(process.execPath, ['bin/portcullis.js', ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end('');
  });
}

async function json(args: string[]): Promise<Record<string, unknown>> {
  const run = await cli([...args, '--json']);
  expect(run.stderr, args.join(' ')).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  h = await startFirewallHarness('pglite');
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  site = await h.site('cli-orchestration');
  const ctx = testContext(h.store, { keyring: h.keyring });
  const policy = { allowHosts: parseHostAllowList('') };
  brain = (await createGateway(ctx, { name: 'brain', vendor: 'opnsense', site_id: site, url: 'https://192.0.2.10', api_key: 'k', api_secret: 's' }, policy)).id;
  limb = (await createGateway(ctx, { name: 'switch', vendor: 'routeros', site_id: site, url: 'https://192.0.2.11', username: 'u', password: 'p' }, policy)).id;
}, 60_000);
afterAll(async () => h?.close());

describe('portcullis topology', () => {
  it('validates, sets and gets a role map; exit 1 on problems', async () => {
    const none = await cli(['topology', 'validate', site]);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('no role map');

    const wrong = await cli(['topology', 'validate', site, '--brain', limb]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('l3_authority');

    const refused = await cli(['topology', 'set', site, '--brain', limb]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('assignments.0.role');

    const set = await json(['topology', 'set', site, '--brain', brain, '--limb', limb, '--authority', 'dns=portcullis']);
    expect(set).toMatchObject({ brain: { gateway_id: brain }, limbs: [{ gateway_id: limb }] });
    expect((set.authority_map as Record<string, string>).dns).toBe('portcullis');
    expect((await json(['topology', 'get', site])).site_id).toBe(site);
    const ok = await cli(['topology', 'validate', site]);
    expect(ok).toMatchObject({ code: 0, stdout: 'valid\n' });
  });

  it('deletes a role map; deleting it again is a 404', async () => {
    const other = await h.site('cli-orchestration-delete');
    const ctx = testContext(h.store, { keyring: h.keyring });
    const gw = await createGateway(ctx, { name: 'brain2', vendor: 'pfsense', site_id: other, url: 'https://192.0.2.12', api_key: 'k' }, { allowHosts: parseHostAllowList('') });
    await json(['topology', 'set', other, '--brain', gw.id]);
    expect(await cli(['topology', 'delete', other])).toMatchObject({ code: 0, stdout: `deleted role map of ${other}\n` });
    const again = await cli(['topology', 'delete', other]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('PC_ERR_NOT_FOUND');
  });
});

describe('portcullis vlans', () => {
  it('creates, lists and deletes canonical VLANs; a bad VLAN id fails naming the field', async () => {
    const created = await json(['vlans', 'create', '--data', JSON.stringify({ site_id: site, vlan_id: 100, name: 'iot', ipv4_subnet: '10.100.0.0/24' })]);
    const listed = await json(['vlans', 'list', '--query', `site_id=${site}`]);
    expect((listed.items as { id: string }[]).map((v) => v.id)).toEqual([created.id]);
    const table = await cli(['vlans', 'list']);
    expect(table.stdout).toContain('10.100.0.0/24');
    const bad = await cli(['vlans', 'create', '--data', JSON.stringify({ site_id: site, vlan_id: 4095, name: 'x' })]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('field vlan_id');
    const removed = await cli(['vlans', 'delete', String(created.id)]);
    expect(removed).toMatchObject({ code: 0, stdout: `deleted ${String(created.id)}\n` });
  });
});

describe('portcullis vlans templates / apply-template', () => {
  it('creates a template, applies it to a site (with an override), refuses a taken VLAN id, deletes the template', async () => {
    const template = await json(['vlans', 'templates', 'create', '--data', JSON.stringify({ name: 'Cameras', vlan_id: 40, vlan_name: 'cams', ipv4_subnet: '10.40.0.0/24' })]);
    const listed = await json(['vlans', 'templates', 'list']);
    expect((listed.items as { name: string }[]).map((t) => t.name)).toContain('Cameras');
    const vlan = await json(['vlans', 'apply-template', String(template.id), site]);
    expect(vlan).toMatchObject({ vlan_id: 40, name: 'cams', ipv4_subnet: '10.40.0.0/24', template_id: template.id });
    const taken = await cli(['vlans', 'apply-template', String(template.id), site]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('field vlan_id');
    const second = await json(['vlans', 'apply-template', String(template.id), site, '--data', JSON.stringify({ vlan_id: 41, name: 'cams2', ipv4_subnet: '10.41.0.0/24' })]);
    expect(second).toMatchObject({ vlan_id: 41, name: 'cams2', ipv4_subnet: '10.41.0.0/24' });
    const updated = await json(['vlans', 'templates', 'update', String(template.id), '--data', JSON.stringify({ vlan_name: 'cameras' })]);
    expect(updated.vlan_name).toBe('cameras');
    expect(await cli(['vlans', 'templates', 'delete', String(template.id)])).toMatchObject({ code: 0 });
    await cli(['vlans', 'delete', String(vlan.id)]);
    await cli(['vlans', 'delete', String(second.id)]);
  });
});

describe('portcullis dhcp', () => {
  it('creates a scope and a reservation, refuses a range outside the subnet and a duplicate MAC, deletes both', async () => {
    const vlan = await json(['vlans', 'create', '--data', JSON.stringify({ site_id: site, vlan_id: 50, name: 'lab', ipv4_subnet: '10.50.0.0/24' })]);
    const outside = await cli(['dhcp', 'scopes', 'create', '--data', JSON.stringify({ canonical_vlan_id: vlan.id, range_start: '10.51.0.10', range_end: '10.51.0.20' })]);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain('field range_start');
    const scope = await json(['dhcp', 'scopes', 'create', '--data', JSON.stringify({ canonical_vlan_id: vlan.id, range_start: '10.50.0.10', range_end: '10.50.0.99' })]);
    expect(scope).toMatchObject({ ip_version: 4, range_start: '10.50.0.10' });
    const scopes = await json(['dhcp', 'scopes', 'list', '--query', `canonical_vlan_id=${String(vlan.id)}`]);
    expect((scopes.items as { id: string }[]).map((s) => s.id)).toEqual([scope.id]);

    const reservation = await json(['dhcp', 'reservations', 'create', '--data', JSON.stringify({ scope_id: scope.id, mac: 'aa:bb:cc:00:00:01', ip_address: '10.50.0.20', hostname: 'printer' })]);
    const duplicate = await cli(['dhcp', 'reservations', 'create', '--data', JSON.stringify({ scope_id: scope.id, mac: 'AA:BB:CC:00:00:01', ip_address: '10.50.0.21' })]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('field mac');
    const table = await cli(['dhcp', 'reservations', 'list', '--query', `scope_id=${String(scope.id)}`]);
    expect(table.stdout).toContain('printer');
    expect(await cli(['dhcp', 'reservations', 'delete', String(reservation.id)])).toMatchObject({ code: 0, stdout: `deleted ${String(reservation.id)}\n` });
    expect(await cli(['dhcp', 'scopes', 'delete', String(scope.id)])).toMatchObject({ code: 0 });
    expect((await json(['dhcp', 'scopes', 'list', '--query', `canonical_vlan_id=${String(vlan.id)}`])).items).toEqual([]);
    await cli(['vlans', 'delete', String(vlan.id)]);
  });
});

describe('portcullis dns records', () => {
  it('creates, changes, lists and deletes a host override; a bad address fails naming the field', async () => {
    const record = await json(['dns', 'records', 'create', '--data', JSON.stringify({ site_id: site, host: 'nas', domain: 'home.arpa', ip_address: '10.20.0.5' })]);
    expect(record).toMatchObject({ record_type: 'A' });
    const changed = await json(['dns', 'records', 'update', String(record.id), '--data', JSON.stringify({ ip_address: '2001:db8::5' })]);
    expect(changed).toMatchObject({ ip_address: '2001:db8::5', record_type: 'AAAA' });
    const bad = await cli(['dns', 'records', 'create', '--data', JSON.stringify({ site_id: site, host: 'x', domain: 'home.arpa', ip_address: 'not-an-ip' })]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('field ip_address');
    const table = await cli(['dns', 'records', 'list', '--query', `site_id=${site}`]);
    expect(table.stdout).toContain('2001:db8::5');
    expect(await cli(['dns', 'records', 'delete', String(record.id)])).toMatchObject({ code: 0 });
  });
});
