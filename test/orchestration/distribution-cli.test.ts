/**
 * `portcullis distribution trigger|list|show|retry|rollback`, spawned as a script runs them against a real server on
 * loopback (PGlite). The site's gateways are not reachable (TEST-NET addresses outside the allow-list), so the plan
 * records tier 0 failing; the deployment is read-only, so --force is refused (exit 1); refusals exit 1 naming why.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/firewall/gateways.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { createVlan } from '../../src/orchestration/canonical/vlans.ts';
import { putTopology } from '../../src/orchestration/topology.ts';
import { type FirewallHarness, startFirewallHarness } from '../firewall/harness.ts';
import { testContext } from '../helpers/store.ts';

const root = new URL('../../', import.meta.url).pathname;
let h: FirewallHarness;
let url: string;
let site: string;
let vlan: string;

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

beforeAll(async () => {
  h = await startFirewallHarness('pglite');
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  site = await h.site('cli-distribution');
  const ctx = testContext(h.store, { keyring: h.keyring });
  const policy = { allowHosts: parseHostAllowList('') };
  const brain = (await createGateway(ctx, { name: 'brain', vendor: 'pfsense', site_id: site, url: 'https://192.0.2.10', api_key: 'k' }, policy)).id;
  const limb = (await createGateway(ctx, { name: 'switch', vendor: 'routeros', site_id: site, url: 'https://192.0.2.11', username: 'u', password: 'p' }, policy)).id;
  await putTopology(ctx, site, { assignments: [{ gateway_id: brain, role: 'brain' }, { gateway_id: limb, role: 'limb' }] });
  vlan = (await createVlan(ctx, { site_id: site, vlan_id: 40, name: 'iot', ipv4_subnet: '10.40.0.0/24' })).id;
}, 60_000);
afterAll(async () => h?.close());

describe('portcullis distribution', () => {
  it('plans (tier 0 failing), refuses --force on a read-only deployment, lists, shows the steps and refuses a rollback without --confirmed', async () => {
    const planned = await cli(['distribution', 'trigger', site, vlan, '--json']);
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(0);
    const plan = JSON.parse(planned.stdout) as { id: string; status: string; error: { code: string } };
    expect(plan).toMatchObject({ status: 'planned', error: { code: 'unreachable' } });

    const forced = await cli(['distribution', 'trigger', site, vlan, '--force']);
    // The harness's deployment is read-only (gate 1): --force is refused before anything is stored.
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain('read-only');

    const listed = await cli(['distribution', 'list', '--query', `site_id=${site}`, '--json']);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { total: number }).total).toBe(1);

    const shown = await cli(['distribution', 'show', plan.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('status: planned');
    expect(shown.stdout).toContain('reachability');

    const rollback = await cli(['distribution', 'rollback', plan.id]);
    expect(rollback.code).toBe(1);
    expect(rollback.stderr).toContain('planned');

    const bad = await cli(['distribution', 'trigger', site, 'not-a-vlan']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('vlan_id');
  }, 120_000);
});
