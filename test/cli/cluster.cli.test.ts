/**
 * @module `portcullis cluster status`, spawned as a user runs it, against a real single-node server (PGlite):
 * one alive node that is the answering one, holding the lease of its knoc's alias; `--json` and the table.
 * The multi-node behaviour is test/scale/cluster.postgres.test.ts.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccessHarness, type AccessHarness } from '../access-api/harness.ts';

const root = new URL('../../', import.meta.url).pathname;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.PORTCULLIS_TOKEN;
    const child = spawn(process.execPath, ['bin/portcullis.js', ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('portcullis cluster status', () => {
  let h: AccessHarness;
  let url: string;
  beforeAll(async () => {
    h = await startAccessHarness('pglite');
    url = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const gatewayId = await h.gateway(await h.site());
    await h.knoc({ gateway_id: gatewayId, alias_name: 'pc_cli' });
    await h.settled();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('lists the one node, alive and answering, with the lease of the alias (--json)', async () => {
    const res = await cli(['cluster', 'status', '--url', url, '--token', h.ownerToken, '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.store).toBe('pglite');
    expect(out.items).toHaveLength(1);
    expect(out.items[0]).toMatchObject({ alive: true, self: true, pid: String(process.pid) });
    expect(out.items[0].leases.map((l: { alias_name: string }) => l.alias_name)).toEqual(['pc_cli']);
  });

  it('prints a table with the node count', async () => {
    const res = await cli(['cluster', 'status', '--url', url, '--token', h.ownerToken]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Heartbeat/);
    expect(res.stdout).toMatch(/pc_cli@/);
    expect(res.stdout).toMatch(/1 of 1 node\(s\) alive on pglite; lease 15 s/);
  });

  it('is refused to a viewer (cluster.view)', async () => {
    const viewer = await h.makeUser('cluster-viewer', 'viewer');
    const res = await cli(['cluster', 'status', '--url', url, '--token', viewer.token]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/cluster\.view/);
  });
});
