/**
 * `portcullis topology get|set|validate` and `portcullis vlans list|create|delete`, spawned as a script runs them
 * against a real server on loopback (PGlite): JSON out, exit 1 naming the field on a refusal or an invalid map.
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
