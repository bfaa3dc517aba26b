/**
 * @module `portcullis firewall backup|restore`, spawned as a script would run it, between two real servers on
 * loopback: the file written by one restores into the other; a bad file fails with exit 1 and the field.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FirewallHarness, startFirewallHarness } from './harness.ts';

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

let a: FirewallHarness;
let b: FirewallHarness;
let urlA: string;
let urlB: string;
beforeAll(async () => {
  a = await startFirewallHarness('pglite');
  b = await startFirewallHarness('pglite');
  urlA = await a.app.listen({ host: '127.0.0.1', port: 0 });
  urlB = await b.app.listen({ host: '127.0.0.1', port: 0 });
  const gw = await a.gateway(await a.site('cli-site'), 'cli-gw');
  await a.ok('POST', '/api/v1/firewall/rules', { device_id: gw, action: 'deny', protocol: 'tcp', dest_port: '23' }, 201);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

it('backs up one server to a file and restores it into another', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-fw-cli-'));
  const file = join(dir, 'backup.json');
  const saved = await cli(['firewall', 'backup', '--out', file, '--url', urlA, '--token', a.ownerToken]);
  expect(saved.stderr).toBe('');
  expect(saved.code).toBe(0);
  expect(JSON.parse(readFileSync(file, 'utf8')).firewall_rules).toHaveLength(1);
  const restored = await cli(['firewall', 'restore', file, '--url', urlB, '--token', b.ownerToken, '--json']);
  expect(restored.stderr).toBe('');
  expect(JSON.parse(restored.stdout)).toMatchObject({ gateways: 1, firewall_rules: 1, sites_created: 1 });
  expect((await b.ok('GET', '/api/v1/firewall/rules')).items).toHaveLength(1);

  writeFileSync(file, JSON.stringify({ format: 'portcullis.firewall-backup', format_version: 99 }));
  const bad = await cli(['firewall', 'restore', file, '--url', urlB, '--token', b.ownerToken]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('field format_version');
});
