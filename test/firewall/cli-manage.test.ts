/**
 * @module The scripts' faces of the firewall module (`portcullis firewall rules|nat|vpn|ids|logs|settings`,
 * `portcullis webhooks`, `portcullis gateway read`), spawned as a script runs them against a real server on
 * loopback with the pfRest emulator behind its gateway: JSON out, exit 1 with the code and field on refusal.
 */
import { spawn } from 'node:child_process';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';

const root = new URL('../../', import.meta.url).pathname;

let h: AccessHarness;
let url: string;
let gateway: string;

function cli(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, PORTCULLIS_URL: url, PORTCULLIS_TOKEN: h.ownerToken };
    const child = spawn(process.execPath, ['bin/portcullis.js', ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

async function json(args: string[], stdin?: string): Promise<Record<string, unknown>> {
  const run = await cli([...args, '--json'], stdin);
  expect(run.stderr, args.join(' ')).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  h = await startAccessHarness('pglite');
  // Loopback only: the webhook below points at a closed local port, so no name is resolved and nothing leaves.
  h.app.webhooks.tune({ allowHosts: parseHostAllowList('127.0.0.1') });
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  gateway = await h.gateway(await h.site('cli-manage'));
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('portcullis firewall rules', () => {
  it('creates, lists, changes, reorders and deletes rules; a bad body fails naming the field', async () => {
    const first = await json(['firewall', 'rules', 'create', '--data', JSON.stringify({ device_id: gateway, action: 'allow', protocol: 'tcp', dest_port: '22' })]);
    const second = await json(['firewall', 'rules', 'create', '--data', '-'], JSON.stringify({ device_id: gateway, action: 'deny' }));
    const listed = await json(['firewall', 'rules', 'list', '--query', `device_id=${gateway}`]);
    expect((listed.items as { id: string }[]).map((r) => r.id).sort()).toEqual([first.id, second.id].sort());

    const changed = await json(['firewall', 'rules', 'update', String(first.id), '--data', '{"dest_port":"2222","hit_count":9}']);
    expect(changed).toMatchObject({ dest_port: '2222', hit_count: 0 });

    const order = await json(['firewall', 'rules', 'reorder', '--device-id', gateway, String(second.id), String(first.id)]);
    expect(order.order).toEqual([second.id, first.id]);

    const table = await cli(['firewall', 'rules', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('2222');

    const bad = await cli(['firewall', 'rules', 'create', '--data', JSON.stringify({ device_id: gateway, action: 'maybe' })]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('field action');
    const notJson = await cli(['firewall', 'rules', 'create', '--data', '{oops']);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain('--data is not JSON');

    const gone = await cli(['firewall', 'rules', 'delete', String(second.id)]);
    expect(gone.stdout).toBe(`deleted ${String(second.id)}\n`);
    const after = await json(['firewall', 'rules', 'list']);
    expect((after.items as unknown[]).length).toBe(1);
    // Eleven CLI processes, each a fresh Node start: allow for a loaded CI machine.
  }, 90_000);
});

describe('portcullis firewall settings, vpn stats, ids stats', () => {
  it('shows and sets settings; an out-of-range value fails naming the setting and changes nothing', async () => {
    const set = await json(['firewall', 'settings', 'set', '--data', '{"sync_interval_minutes":15}']);
    expect(set.sync_interval_minutes).toBe(15);
    const bad = await cli(['firewall', 'settings', 'set', '--data', '{"sync_interval_minutes":0}']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('field sync_interval_minutes');
    expect((await json(['firewall', 'settings', 'show'])).sync_interval_minutes).toBe(15);
    const table = await cli(['firewall', 'settings', 'show']);
    expect(table.stdout).toMatch(/sync_interval_minutes\s*│\s*15/);
  });

  it('counts tunnels and alerts', async () => {
    expect(await json(['firewall', 'vpn', 'stats'])).toEqual({ total: 0, up: 0, down: 0, error: 0 });
    expect(await json(['firewall', 'ids', 'stats'])).toMatchObject({ total: 0, unacknowledged: 0 });
  });
});

describe('portcullis webhooks', () => {
  it('creates a webhook (secret shown once), lists it without the secret, reads its deliveries, deletes it', async () => {
    const made = await json(['webhooks', 'create', '--data', JSON.stringify({ name: 'ci', url: 'https://127.0.0.1:9/hook' })]);
    expect(typeof made.secret).toBe('string');
    const listed = await json(['webhooks', 'list']);
    expect(JSON.stringify(listed)).not.toContain(String(made.secret));
    expect(await json(['webhooks', 'deliveries', String(made.id)])).toMatchObject({ items: [] });
    expect((await cli(['webhooks', 'delete', String(made.id)])).code).toBe(0);
    const missing = await cli(['webhooks', 'show', String(made.id)]);
    expect(missing.code).toBe(1);
  });
});

describe('portcullis gateway read', () => {
  it("prints a live read of the gateway's device, and the capability code where the vendor has none", async () => {
    const status = await cli(['gateway', 'read', gateway, '--what', 'aliases']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toHaveProperty('items');
    const scopes = await cli(['gateway', 'read', gateway, '--what', 'dhcp/scopes']);
    expect(scopes.code, scopes.stderr).toBe(0);
    expect(JSON.parse(scopes.stdout)).toHaveProperty('items');
    const none = await cli(['gateway', 'read', gateway, '--what', 'routes/table']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('PC_ERR_CAPABILITY_UNAVAILABLE');
    const unknown = await cli(['gateway', 'read', gateway, '--what', 'secrets']);
    expect(unknown.code).not.toBe(0);
  });
});
