/**
 * @module `portcullis drift check|list|summary|resolve|suppressions`, spawned as a script would run it, against a real
 * server on loopback driving the pfRest emulator: an alias added on the device by hand is listed as drift, accepted,
 * and no longer open; suppressions are created, listed and deactivated; a bad resolution fails with exit 1.
 */
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findVendor } from '../../src/adapters/vendors.ts';
import type { VendorDescriptor } from '../../src/adapters/registry.ts';
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
const auth = () => ['--url', url, '--token', h.ownerToken];

beforeAll(async () => {
  h = await startAccessHarness('pglite', {}, { applyDelayMs: 0 });
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  siteId = await h.site('drift-cli');
  await h.gateway(siteId, 'drift-cli-gw');
});
afterAll(async () => {
  await h?.close();
});

it('checks a site, lists the drift, resolves it and manages suppressions', async () => {
  const first = await cli(['drift', 'check', siteId, ...auth(), '--json']);
  expect(first.stderr).toBe('');
  expect(JSON.parse(first.stdout).gateways[0]).toMatchObject({ outcome: 'ok', baseline_taken: true });

  const vendor = findVendor('pfsense') as VendorDescriptor;
  const adapter = vendor.createAdapter({
    url: h.emulator.url,
    credentials: { api_key: h.emulator.apiKey },
    tls: { mode: 'ca', caPem: h.emulator.caPem },
    lookup,
  });
  try {
    await adapter.createAlias('by_hand_cli', 'host', 'made on the box');
    await adapter.apply();
  } finally {
    await adapter.close();
  }
  const second = await cli(['drift', 'check', siteId, ...auth()]);
  expect(second.code).toBe(0);
  expect(second.stdout).toContain('ok');
  const listed = await cli(['drift', 'list', '--query', 'status=open', ...auth(), '--json']);
  const items = JSON.parse(listed.stdout).items as Array<{ id: string; resource_key: string; drift_type: string }>;
  expect(items).toMatchObject([{ resource_key: 'by_hand_cli', drift_type: 'resource_added' }]);
  const table = await cli(['drift', 'list', ...auth()]);
  expect(table.stdout).toContain('resource_added');

  const bad = await cli(['drift', 'resolve', items[0]?.id as string, '--resolution', 'forget', ...auth()]);
  expect(bad.code).not.toBe(0);
  const accepted = await cli(['drift', 'resolve', items[0]?.id as string, '--resolution', 'accept', ...auth(), '--json']);
  expect(JSON.parse(accepted.stdout).event).toMatchObject({ status: 'resolved', resolution: 'accepted' });
  await cli(['drift', 'check', siteId, ...auth()]);
  expect(JSON.parse((await cli(['drift', 'list', '--query', 'status=open', ...auth(), '--json'])).stdout).items).toEqual([]);
  expect(JSON.parse((await cli(['drift', 'summary', ...auth(), '--json'])).stdout)).toMatchObject({ total: 1, pending: 0, resolved: 1 });

  const data = JSON.stringify({ site_id: siteId, resource_type: 'alias', pattern: 'tmp_*', reason: 'scratch lists' });
  const created = await cli(['drift', 'suppressions', 'create', '--data', data, ...auth(), '--json']);
  expect(created.stderr).toBe('');
  const suppression = JSON.parse(created.stdout) as { id: string; mode: string };
  expect(suppression.mode).toBe('silence');
  expect((await cli(['drift', 'suppressions', 'list', ...auth()])).stdout).toContain('tmp_*');
  expect((await cli(['drift', 'suppressions', 'delete', suppression.id, ...auth()])).code).toBe(0);
  expect(JSON.parse((await cli(['drift', 'suppressions', 'list', ...auth(), '--json'])).stdout).items).toEqual([]);
});
