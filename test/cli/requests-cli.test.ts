/**
 * @module `portcullis requests list|show|approve|deny`, spawned as a user runs it against a real server (PGlite,
 * pfRest emulator) on an ephemeral loopback port: an approver lists what awaits them and approves; the requester's
 * own attempt is refused with the stable self-approval code.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    child.stdin.end('');
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('portcullis requests CLI', () => {
  let h: AccessHarness;
  let url: string;
  beforeAll(async () => {
    h = await startAccessHarness('pglite');
    url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lists what awaits an approver, approves with a comment; self-approval exits non-zero with its code', async () => {
    const gatewayId = await h.gateway(await h.site());
    const rae = await h.makeUser('rae');
    const ann = await h.makeUser('ann');
    const group = (
      await h.call({ method: 'POST', url: '/api/v1/groups', token: h.ownerToken, payload: { name: 'cli-approvers' } })
    ).json();
    for (const user of [rae, ann]) {
      await h.call({
        method: 'POST',
        url: `/api/v1/groups/${group.id}/members`,
        token: h.ownerToken,
        payload: { user_id: user.id },
      });
    }
    const knoc = await h.knoc({
      gateway_id: gatewayId,
      users: [rae.id],
      requires_approval: true,
      approver_group_id: group.id,
    });
    const asked = await h.call({
      method: 'POST',
      url: `/api/v1/portal/grants/${knoc.id}`,
      token: rae.token,
      payload: { justification: 'cli test' },
    });
    expect(asked.statusCode, asked.body).toBe(202);
    const id = asked.json().requested[0].id as string;

    const listed = await cli(['requests', 'list', '--awaiting-me', '--url', url, '--token', ann.token, '--json']);
    expect(listed.stderr).toBe('');
    expect(JSON.parse(listed.stdout).items.map((r: { id: string }) => r.id)).toEqual([id]);
    const table = await cli(['requests', 'list', '--status', 'pending', '--url', url, '--token', ann.token]);
    expect(table.stdout).toContain(knoc.name);

    const self = await cli(['requests', 'approve', id, '--url', url, '--token', rae.token, '--json']);
    expect(self.code).not.toBe(0);
    expect(`${self.stdout}${self.stderr}`).toContain('PC_ERR_SELF_APPROVAL');

    const approved = await cli(['requests', 'approve', id, '--comment', 'fine', '--url', url, '--token', ann.token, '--json']);
    expect(approved.stderr).toBe('');
    expect(JSON.parse(approved.stdout)).toMatchObject({
      status: 'approved',
      decisions: [{ approver_name: 'ann', comment: 'fine', via: 'console' }],
    });
    const denied = await cli(['requests', 'deny', id, '--url', url, '--token', ann.token, '--json']);
    expect(denied.code).not.toBe(0);
    expect(`${denied.stdout}${denied.stderr}`).toContain('PC_ERR_CONFLICT');
    await h.settled();
  });
});
