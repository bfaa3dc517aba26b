/**
 * @module `portcullis import …` and `portcullis reconcile …`, spawned as a script would run them, against a real
 * server on loopback with a pfRest emulator brain that runs a VLAN with DHCP: the wizard walked step by step from
 * the command line (roles and decisions as `--role` / `--decide`), the session shown, reconciliation alignment and
 * a dry-run import; a wrong step and a bad decision exit 1 with the server's message.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';

const root = new URL('../../', import.meta.url).pathname;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.PORTCULLIS_TOKEN;
    const child = spawn(process.execPath, ['bin/portcullis.js', ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

let h: AccessHarness;
let url: string;
let siteId: string;
let brainId: string;
const auth = () => ['--url', url, '--token', h.ownerToken];

beforeAll(async () => {
  h = await startAccessHarness('pglite', {}, { applyDelayMs: 0, config: { readOnly: false } });
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  siteId = await h.site('import-cli');
  brainId = await h.gateway(siteId, 'import-cli-pf');
  const write = async (path: string, payload: object) => {
    const res = await h.call({ method: 'POST', url: `/api/v1/firewall/gateways/${brainId}/${path}?force=true`, token: h.ownerToken, payload });
    expect(res.json().status, res.body).toBe('applied');
  };
  await write('vlan-interfaces', { parent: 'vtnet2', tag: 40, name: 'IOT', ipv4: '10.40.0.1/24', ipv6: null, description: '', is_enabled: true });
  const iface = (
    await h.call({ method: 'GET', url: `/api/v1/firewall/gateways/${brainId}/vlan-interfaces`, token: h.ownerToken })
  ).json().items[0].interface_id as string;
  await write('dhcp/scopes', { interface: iface, range_from: '10.40.0.50', range_to: '10.40.0.90', gateway: null, dns_servers: [], is_enabled: true });
}, 120_000);
afterAll(async () => {
  await h?.close();
});

it('walks the wizard from the command line and reconciles', async () => {
  const started = await cli(['import', 'start', siteId, ...auth(), '--json']);
  expect(started.stderr).toBe('');
  const session = JSON.parse(started.stdout) as { id: string; current_step: number };
  expect(session.current_step).toBe(2);

  const wrong = await cli(['import', 'step', session.id, '4', '--decide', 'vlan:40=adopt', ...auth()]);
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toMatch(/waits for step 2/);

  const roles = await cli(['import', 'step', session.id, '2', '--role', `${brainId}=brain`, ...auth()]);
  expect(roles.code, roles.stderr).toBe(0);
  expect(roles.stdout).toMatch(/scan\s*│\s*done/);

  const bad = await cli(['import', 'step', session.id, '4', '--decide', 'vlan:40=merge', ...auth()]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/payload\.decisions\.vlan:40/);

  const decided = await cli(['import', 'step', session.id, '4', '--decide', 'vlan:40=adopt', '--decide', 'dhcp_scope:40:4=adopt', ...auth()]);
  expect(decided.code, decided.stderr).toBe(0);
  const distributed = await cli(['import', 'step', session.id, '5', ...auth(), '--json']);
  expect(distributed.code, distributed.stderr).toBe(0);
  const done = JSON.parse(distributed.stdout) as { status: string; steps: Array<{ result: { aligned?: boolean } }> };
  expect(done.status).toBe('completed');
  expect(done.steps[5]?.result.aligned).toBe(true);

  const shown = await cli(['import', 'show', session.id, ...auth()]);
  expect(shown.stdout).toMatch(/verify\s*│\s*done/);
  const listed = await cli(['import', 'list', '--query', `site_id=${siteId}`, ...auth()]);
  expect(listed.stdout).toContain(session.id);

  const alignment = await cli(['reconcile', 'alignment', siteId, ...auth(), '--status', 'aligned']);
  expect(alignment.code, alignment.stderr).toBe(0);
  expect(alignment.stdout).toContain('vlan:40');
  expect(alignment.stdout).toContain('dhcp_scope:40:4');
  const dry = await cli(['reconcile', 'import', siteId, '--dry-run', ...auth()]);
  expect(dry.stdout).toMatch(/40\s*│\s*IOT\s*│\s*10\.40\.0\.0\/24\s*│\s*unchanged/);

  const cancelled = await cli(['import', 'cancel', session.id, ...auth()]);
  expect(cancelled.code).toBe(1);
  expect(cancelled.stderr).toMatch(/completed/);
}, 120_000);
