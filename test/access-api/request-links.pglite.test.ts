/**
 * @module Signed decision links with `PORTCULLIS_PUBLIC_URL` set, on PGlite with a real webhook receiver on
 * 127.0.0.1 (docs/access-requests.md): the `access.request.created` webhook carries absolute approve/deny URLs
 * that decide the request; every refused use of a link (forged, altered, expired, reused, self-approval) is
 * audited as `access_request.link_refused` with the caller's address and never the token (ADR 0288). Without
 * the setting the links stay paths: test/access-api/requests.case.test.ts.
 */
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDecisionLink } from '../../src/access/decision-links.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { auditLog } from '../../src/store/schema/audit.ts';
import { type Receiver, startReceiver } from '../events/receiver.ts';
import { type AccessHarness, startAccessHarness } from './harness.ts';

const PUBLIC_URL = 'https://portcullis.example.test';

type User = { id: string; username: string; token: string };
interface Link {
  approver_id: string;
  approve_token: string;
  deny_token: string;
  approve_path: string;
  approve_url: string;
  deny_url: string;
}

let h: AccessHarness;
let receiver: Receiver;
let gatewayId: string;
let groupId: string;
let alice: User;
let bob: User;
let carol: User;
let aliases = 0;

beforeAll(async () => {
  h = await startAccessHarness('pglite', {}, { config: { publicUrl: PUBLIC_URL } });
  h.app.webhooks.tune({ allowHosts: parseHostAllowList('127.0.0.1'), timeoutMs: 3_000, pollIntervalMs: 50 });
  gatewayId = await h.gateway(await h.site());
  [alice, bob, carol] = [await h.makeUser('alice'), await h.makeUser('bob'), await h.makeUser('carol')];
  const group = await h.call({ method: 'POST', url: '/api/v1/groups', token: h.ownerToken, payload: { name: 'approvers' } });
  groupId = group.json().id;
  for (const user of [alice, bob, carol]) {
    const res = await h.call({
      method: 'POST',
      url: `/api/v1/groups/${groupId}/members`,
      token: h.ownerToken,
      payload: { user_id: user.id },
    });
    expect(res.statusCode, res.body).toBe(204);
  }
  receiver = await startReceiver();
  const hook = await h.call({
    method: 'POST',
    url: '/api/v1/webhooks',
    token: h.ownerToken,
    payload: { name: 'approvals', url: receiver.url, event_types: ['access.request.created'] },
  });
  expect(hook.statusCode, hook.body).toBe(201);
  receiver.secret = hook.json().secret as string;
}, 60_000);
afterAll(async () => {
  await h?.close();
  await receiver?.close();
});

/** Alice asks on a fresh approval knoc; returns the request id and the links its webhook delivery carried. */
async function requestWithLinks(): Promise<{ id: string; links: Link[] }> {
  const knoc = await h.knoc({
    gateway_id: gatewayId,
    alias_name: `pc_link_${++aliases}`,
    users: [alice.id],
    requires_approval: true,
    approver_group_id: groupId,
  });
  const asked = await h.call({
    method: 'POST',
    url: `/api/v1/portal/grants/${knoc.id}`,
    token: alice.token,
    payload: { justification: 'deploy hotfix' },
  });
  expect(asked.statusCode, asked.body).toBe(202);
  const id = asked.json().requested[0].id as string;
  const delivered = await receiver.waitFor(aliases);
  const body = delivered.find((r) => r.json.payload.request_id === id);
  expect(body?.signatureValid).toBe(true);
  return { id, links: body?.json.payload.decision_links as Link[] };
}

const use = (token: string) =>
  h.call({ method: 'POST', url: '/api/v1/access/request-links/decide', payload: { token } });

/** The `access_request.link_refused` entries, oldest first. */
async function refusals() {
  return h.store.db
    .select()
    .from(auditLog)
    .where(eq(auditLog.action, 'access_request.link_refused'))
    .orderBy(asc(auditLog.id));
}

describe('decision links with PORTCULLIS_PUBLIC_URL', () => {
  it('the webhook carries absolute approve and deny URLs on the public origin, and the URL’s token decides', async () => {
    const { id, links } = await requestWithLinks();
    expect(links.map((l) => l.approver_id).sort()).toEqual([bob.id, carol.id].sort());
    for (const link of links) {
      expect(link.approve_url).toBe(`${PUBLIC_URL}/decide#token=${link.approve_token}`);
      expect(link.deny_url).toBe(`${PUBLIC_URL}/decide#token=${link.deny_token}`);
      expect(link.approve_url).toBe(`${PUBLIC_URL}${link.approve_path}`);
    }
    // What the /decide page does with the URL it was opened at: the fragment's token is posted.
    const bobs = links.find((l) => l.approver_id === bob.id) as Link;
    const token = new URLSearchParams(new URL(bobs.deny_url).hash.slice(1)).get('token') as string;
    const decided = await use(token);
    expect(decided.statusCode, decided.body).toBe(200);
    expect(decided.json()).toMatchObject({ id, status: 'denied' });
  });

  it('audits every refused link with its reason and the caller’s address, never the token', async () => {
    const before = (await refusals()).length;
    const { id, links } = await requestWithLinks();
    const bobs = links.find((l) => l.approver_id === bob.id) as Link;
    const [body, kid, mac] = bobs.approve_token.split('.') as [string, string, string];
    const altered = `${body}.${kid}.${mac.slice(0, -2)}AA`;
    const expired = signDecisionLink(h.keyring, { requestId: id, approverId: carol.id, decision: 'approve', expiresAt: Date.now() - 1_000 });
    const own = signDecisionLink(h.keyring, { requestId: id, approverId: alice.id, decision: 'approve', expiresAt: Date.now() + 60_000 });

    expect((await use(altered)).statusCode).toBe(403);
    expect((await use('garbage')).statusCode).toBe(403);
    expect((await use(expired)).statusCode).toBe(403);
    expect((await use(own)).json().error.code).toBe('PC_ERR_SELF_APPROVAL');
    expect((await use(bobs.approve_token)).statusCode).toBe(200);
    expect((await use(bobs.approve_token)).statusCode).toBe(409);
    // Bad input is a 400 naming the field, before any link is looked at: not a link attempt, not audited.
    const malformed = await use('not a token');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.field).toBe('token');

    const rows = (await refusals()).slice(before);
    expect(rows.map((r) => [r.outcome, (r.after as { reason: string }).reason])).toEqual([
      ['denied', 'invalid_signature'],
      ['denied', 'invalid_signature'],
      ['denied', 'expired'],
      ['denied', 'self_approval'],
      ['denied', 'already_decided'],
    ]);
    // Unverified links name nothing; verified ones name the request (on its site), approver and decision.
    expect(rows[0]).toMatchObject({ targetId: null, siteId: null, actorType: 'anonymous', sourceIp: '127.0.0.1' });
    expect(rows[2]).toMatchObject({ targetType: 'access_request', targetId: id, actorType: 'anonymous' });
    expect(rows[2]?.siteId).not.toBeNull();
    expect(rows[2]?.after).toMatchObject({ approver_id: carol.id, decision: 'approve' });
    expect(rows[4]?.after).toMatchObject({ approver_id: bob.id, decision: 'approve' });
    const text = JSON.stringify(rows);
    for (const secret of [bobs.approve_token, mac, altered, expired, own, expired.split('.')[2] as string]) {
      expect(text).not.toContain(secret);
    }
    // The successful use is audited as the decision, by the approver (unchanged).
    const approved = await h.store.db
      .select({ actorName: auditLog.actorName })
      .from(auditLog)
      .where(and(eq(auditLog.targetId, id), eq(auditLog.action, 'access_request.approve')));
    expect(approved).toEqual([{ actorName: 'bob (signed link)' }]);
  });
});
