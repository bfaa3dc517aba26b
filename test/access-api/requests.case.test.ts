/**
 * @module Shared suite: access requests with approval (docs/access-requests.md) on one store kind — a real app,
 * a real store and the pfRest emulator. Approve, deny, expire, N of M, self-approval refused, signed links
 * (valid, forged, expired, reused), two approvers at once, history with paging and filters, audit.
 */
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDecisionLink } from '../../src/access/decision-links.ts';
import { expireAccessRequests } from '../../src/access/service/requests.ts';
import { serviceContext } from '../../src/core/context.ts';
import { auditLog } from '../../src/store/schema/audit.ts';
import { events } from '../../src/store/schema/events.ts';
import type { StoreKind } from '../../src/store/db.ts';
import { type AccessHarness, startAccessHarness } from './harness.ts';

type User = { id: string; username: string; password: string; token: string };

export function runRequestsSuite(kind: StoreKind): void {
  let h: AccessHarness;
  let gatewayId: string;
  let groupId: string;
  let alice: User;
  let bob: User;
  let carol: User;
  let dave: User;
  let aliasCounter = 0;

  beforeAll(async () => {
    h = await startAccessHarness(kind);
    const siteId = await h.site();
    gatewayId = await h.gateway(siteId);
    alice = await h.makeUser('alice');
    bob = await h.makeUser('bob');
    carol = await h.makeUser('carol');
    dave = await h.makeUser('dave');
    const group = await h.call({
      method: 'POST',
      url: '/api/v1/groups',
      token: h.ownerToken,
      payload: { name: 'approvers' },
    });
    expect(group.statusCode, group.body).toBe(201);
    groupId = group.json().id;
    // Alice requests and is an approver too: she must still never decide her own requests.
    for (const user of [alice, bob, carol]) {
      const res = await h.call({
        method: 'POST',
        url: `/api/v1/groups/${groupId}/members`,
        token: h.ownerToken,
        payload: { user_id: user.id },
      });
      expect(res.statusCode, res.body).toBe(204);
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  const approvalKnoc = (extra: Record<string, unknown> = {}) =>
    h.knoc({
      gateway_id: gatewayId,
      alias_name: `pc_req_${++aliasCounter}`,
      users: [alice.id],
      requires_approval: true,
      requires_justification: true,
      approver_group_id: groupId,
      approvals_required: 1,
      ...extra,
    });

  const ask = (knocId: string, payload: Record<string, unknown> = { justification: 'deploy hotfix' }) =>
    h.call({ method: 'POST', url: `/api/v1/portal/grants/${knocId}`, token: alice.token, payload });

  async function requestOn(knocId: string): Promise<string> {
    const res = await ask(knocId);
    expect(res.statusCode, res.body).toBe(202);
    return res.json().requested[0].id as string;
  }

  const decide = (user: Pick<User, 'token'>, id: string, decision: 'approve' | 'deny', comment?: string) =>
    h.call({
      method: 'POST',
      url: `/api/v1/access/requests/${id}/${decision}`,
      token: user.token,
      payload: comment === undefined ? {} : { comment },
    });

  const getRequest = async (id: string) =>
    (await h.call({ method: 'GET', url: `/api/v1/access/requests/${id}`, token: h.ownerToken })).json();

  describe(`access requests (${kind})`, () => {
    it('knoc settings: approval needs an approver group, and N must not exceed its M members', async () => {
      const noGroup = await h.call({
        method: 'POST',
        url: '/api/v1/access/knocs',
        token: h.ownerToken,
        payload: { name: 'no-group', gateway_id: gatewayId, alias_name: 'pc_x', requires_approval: true },
      });
      expect(noGroup.statusCode).toBe(400);
      expect(noGroup.json().error.field).toBe('approver_group_id');
      const tooMany = await h.call({
        method: 'POST',
        url: '/api/v1/access/knocs',
        token: h.ownerToken,
        payload: {
          name: 'too-many',
          gateway_id: gatewayId,
          alias_name: 'pc_x',
          requires_approval: true,
          approver_group_id: groupId,
          approvals_required: 4,
        },
      });
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.json().error).toMatchObject({ code: 'PC_ERR_VALIDATION', field: 'approvals_required' });
      const knoc = await approvalKnoc({ approvals_required: 3 });
      expect(knoc).toMatchObject({ requires_approval: true, approver_group_id: groupId, approvals_required: 3 });
      const raised = await h.call({
        method: 'PATCH',
        url: `/api/v1/access/knocs/${knoc.id}`,
        token: h.ownerToken,
        payload: { approvals_required: 5 },
      });
      expect(raised.statusCode).toBe(400);
      expect(raised.json().error.field).toBe('approvals_required');
    });

    it('sign-in grants nothing on an approval knoc; a click without a good justification is a 400 naming it', async () => {
      const knoc = await approvalKnoc();
      const login = await h.call({
        method: 'POST',
        url: '/api/v1/portal/login',
        payload: { username: 'alice', password: alice.password },
      });
      expect(login.statusCode, login.body).toBe(200);
      expect(login.json().granted).toEqual([]);
      expect(login.json().refused).toContainEqual(
        expect.objectContaining({ knoc_id: knoc.id, reason: 'approval_required' }),
      );
      expect(login.json().requested).toEqual([]);
      for (const payload of [{}, { justification: '  ' }, { justification: 'ab' }, { justification: 'x'.repeat(1_001) }]) {
        const res = await ask(knoc.id, payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json().error.field).toBe('justification');
      }
      const me = await h.call({ method: 'GET', url: '/api/v1/portal/me', token: alice.token });
      expect(me.json().knocs).toContainEqual(
        expect.objectContaining({ knoc_id: knoc.id, requires_approval: true, requires_justification: true }),
      );
    });

    it('a justification-only knoc grants at once, with the justification as the grant reason', async () => {
      const knoc = await h.knoc({
        gateway_id: gatewayId,
        alias_name: `pc_req_${++aliasCounter}`,
        users: [alice.id],
        requires_justification: true,
      });
      const missing = await ask(knoc.id, {});
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error.field).toBe('justification');
      const res = await ask(knoc.id, { justification: '  incident 4711  ' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().requested).toEqual([]);
      const grantId = res.json().granted[0].grant_id as string;
      const grant = (await h.call({ method: 'GET', url: `/api/v1/access/grants/${grantId}`, token: h.ownerToken })).json();
      expect(grant).toMatchObject({ method: 'click', reason: 'incident 4711' });
      await h.settled();
    });

    it('request -> approve: 202 with the request, self-approval refused, the grant starts at approval and reaches the firewall', async () => {
      const knoc = await approvalKnoc();
      const res = await ask(knoc.id, { justification: 'deploy hotfix', ttl_seconds: 600 });
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json().granted).toEqual([]);
      const requested = res.json().requested[0];
      expect(requested).toMatchObject({
        knoc_id: knoc.id,
        requester_id: alice.id,
        ip: '127.0.0.1',
        ttl_seconds: 600,
        justification: 'deploy hotfix',
        status: 'pending',
        approvals_required: 1,
        approvals: 0,
        grant_id: null,
      });
      const again = await ask(knoc.id);
      expect(again.statusCode).toBe(409);

      const self = await decide(alice, requested.id, 'approve');
      expect(self.statusCode).toBe(403);
      expect(self.json().error.code).toBe('PC_ERR_SELF_APPROVAL');
      const selfDeny = await decide(alice, requested.id, 'deny');
      expect(selfDeny.json().error.code).toBe('PC_ERR_SELF_APPROVAL');
      const outsider = await decide({ token: h.ownerToken }, requested.id, 'approve');
      expect(outsider.statusCode).toBe(403);
      expect(outsider.json().error.code).toBe('PC_ERR_FORBIDDEN');
      const stranger = await decide(dave, requested.id, 'approve');
      expect(stranger.statusCode).toBe(404);
      await h.settled();
      expect(h.applied(knoc.alias_name as string)).toEqual([]);

      const before = Date.now();
      const approved = await decide(bob, requested.id, 'approve', 'ok for today');
      expect(approved.statusCode, approved.body).toBe(200);
      const body = approved.json();
      expect(body).toMatchObject({ status: 'approved', approvals: 1 });
      expect(body.decisions).toMatchObject([
        { approver_id: bob.id, approver_name: 'bob', decision: 'approve', comment: 'ok for today', via: 'console' },
      ]);
      const grant = (
        await h.call({ method: 'GET', url: `/api/v1/access/grants/${body.grant_id}`, token: h.ownerToken })
      ).json();
      expect(grant).toMatchObject({ method: 'approval', user_id: alice.id, ip: '127.0.0.1', status: 'live' });
      expect(grant.reason).toBe('deploy hotfix');
      // Starts at approval: ten minutes from the decision, not from the request.
      const expires = Date.parse(grant.expires_at);
      expect(expires).toBeGreaterThanOrEqual(before + 600_000 - 1_000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 600_000 + 1_000);
      await h.settled();
      expect(h.applied(knoc.alias_name as string)).toEqual(['127.0.0.1']);

      const late = await decide(carol, requested.id, 'approve');
      expect(late.statusCode).toBe(409);
      const actions = await h.store.db
        .select({ action: auditLog.action, actor: auditLog.actorName })
        .from(auditLog)
        .where(eq(auditLog.targetId, requested.id))
        .orderBy(asc(auditLog.id));
      expect(actions).toEqual([
        { action: 'access_request.create', actor: 'alice (token alice-token)' },
        { action: 'access_request.approve', actor: 'bob (token bob-token)' },
        { action: 'access_request.grant', actor: 'bob (token bob-token)' },
      ]);
      const types = await eventTypes(requested.id);
      expect(types).toEqual(['access.request.created', 'access.request.approved']);
    });

    it('the machine client asks only when it names the knoc', async () => {
      const knoc = await approvalKnoc({ requires_justification: false });
      const all = await h.call({ method: 'POST', url: '/api/v1/portal/knock', token: alice.token, payload: {} });
      expect(all.statusCode, all.body).toBe(200);
      expect(all.json().refused).toContainEqual(expect.objectContaining({ knoc_id: knoc.id, reason: 'approval_required' }));
      expect(all.json().requested).toEqual([]);
      const named = await h.call({
        method: 'POST',
        url: '/api/v1/portal/knock',
        token: alice.token,
        payload: { knoc: knoc.name },
      });
      expect(named.statusCode, named.body).toBe(202);
      expect(named.json().requested).toMatchObject([{ knoc_id: knoc.id, status: 'pending', justification: null }]);
    });

    it('N of M: two distinct approvals are needed; one approver cannot count twice', async () => {
      const knoc = await approvalKnoc({ approvals_required: 2 });
      const id = await requestOn(knoc.id);
      expect((await decide(bob, id, 'approve')).json()).toMatchObject({ status: 'pending', approvals: 1, grant_id: null });
      const twice = await decide(bob, id, 'approve');
      expect(twice.statusCode).toBe(409);
      await h.settled();
      expect(h.applied(knoc.alias_name as string)).toEqual([]);
      const done = await decide(carol, id, 'approve');
      expect(done.json()).toMatchObject({ status: 'approved', approvals: 2 });
      expect(done.json().grant_id).toEqual(expect.any(String));
      await h.settled();
      expect(h.applied(knoc.alias_name as string)).toEqual(['127.0.0.1']);
    });

    it('deny: the request ends with the comment, no grant, and later decisions are refused', async () => {
      const knoc = await approvalKnoc({ approvals_required: 2 });
      const id = await requestOn(knoc.id);
      await decide(bob, id, 'approve');
      const denied = await decide(carol, id, 'deny', 'not during the freeze');
      expect(denied.statusCode, denied.body).toBe(200);
      expect(denied.json()).toMatchObject({ status: 'denied', grant_id: null });
      expect(denied.json().decisions.map((d: { decision: string }) => d.decision)).toEqual(['approve', 'deny']);
      expect((await decide(bob, id, 'deny')).statusCode).toBe(409);
      expect(await eventTypes(id)).toEqual(['access.request.created', 'access.request.denied']);
      const grants = await h.call({
        method: 'GET',
        url: `/api/v1/access/grants?knoc_id=${knoc.id}`,
        token: h.ownerToken,
      });
      expect(grants.json().items).toEqual([]);
    });

    it('expire: nobody decides in time, the job marks it expired with an event, and it can no longer be approved', async () => {
      const knoc = await approvalKnoc({ request_ttl_seconds: 60 });
      const id = await requestOn(knoc.id);
      const early = await expireAccessRequests(serviceContext(h.store.db, h.keyring));
      expect(early.map((e) => e.payload.request_id)).not.toContain(id);
      const later = serviceContext(h.store.db, h.keyring, { now: () => new Date(Date.now() + 61_000) });
      const expired = await expireAccessRequests(later);
      expect(expired.map((e) => [e.type, e.payload.request_id])).toContainEqual(['access.request.expired', id]);
      const view = await getRequest(id);
      expect(view).toMatchObject({ status: 'expired', grant_id: null });
      expect(view.decided_at).toBe(view.expires_at);
      expect((await decide(bob, id, 'approve')).statusCode).toBe(409);
      expect(await eventTypes(id)).toEqual(['access.request.created', 'access.request.expired']);
      const audit = await h.store.db
        .select({ action: auditLog.action, actorType: auditLog.actorType })
        .from(auditLog)
        .where(and(eq(auditLog.targetId, id), eq(auditLog.action, 'access_request.expire')));
      expect(audit).toEqual([{ action: 'access_request.expire', actorType: 'system' }]);
    });

    it('signed links: in the created event for each approver but the requester; forged, expired and reused links are refused', async () => {
      const knoc = await approvalKnoc();
      const id = await requestOn(knoc.id);
      const [created] = await h.store.db
        .select({ payload: events.payload })
        .from(events)
        .where(and(eq(events.type, 'access.request.created'), eq(events.knocId, knoc.id)));
      const links = (created?.payload as { decision_links: { approver_id: string; approve_token: string; deny_token: string; approve_path: string }[] }).decision_links;
      expect(links.map((l) => l.approver_id).sort()).toEqual([bob.id, carol.id].sort());
      const bobs = links.find((l) => l.approver_id === bob.id);
      expect(bobs?.approve_path).toBe(`/decide#token=${bobs?.approve_token}`);
      // No PORTCULLIS_PUBLIC_URL here: paths only (absolute URLs: request-links.pglite.test.ts).
      expect(bobs).not.toHaveProperty('approve_url');
      const use = (token: string) =>
        h.call({ method: 'POST', url: '/api/v1/access/request-links/decide', payload: { token, comment: 'via mail' } });

      const token = bobs?.approve_token as string;
      const [body, kid, mac] = token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      const forgedBody = Buffer.from(JSON.stringify({ ...claims, a: alice.id })).toString('base64url');
      for (const forged of [`${forgedBody}.${kid}.${mac}`, `${body}.${kid}.${mac.slice(0, -2)}AA`, 'garbage']) {
        const res = await use(forged);
        expect(res.statusCode, forged).toBe(403);
        expect(res.json().error).toMatchObject({ code: 'PC_ERR_DECISION_LINK_INVALID', field: 'token' });
      }
      const expiredLink = signDecisionLink(h.keyring, {
        requestId: id,
        approverId: carol.id,
        decision: 'approve',
        expiresAt: Date.now() - 1_000,
      });
      const stale = await use(expiredLink);
      expect(stale.statusCode).toBe(403);
      expect(stale.json().error.message).toContain('expired');
      // A valid signature for the requester (not in the event, minted here) is still self-approval.
      const selfLink = signDecisionLink(h.keyring, {
        requestId: id,
        approverId: alice.id,
        decision: 'approve',
        expiresAt: Date.now() + 60_000,
      });
      expect((await use(selfLink)).json().error.code).toBe('PC_ERR_SELF_APPROVAL');

      const ok = await use(token);
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json()).toMatchObject({ status: 'approved' });
      expect(ok.json().decisions).toMatchObject([{ approver_id: bob.id, via: 'link', comment: 'via mail' }]);
      const reused = await use(token);
      expect(reused.statusCode).toBe(409);
      expect((await use(bobs?.deny_token as string)).statusCode).toBe(409);
    });

    it('two approvers at once make one grant', async () => {
      const knoc = await approvalKnoc();
      const id = await requestOn(knoc.id);
      const answers = await Promise.all([decide(bob, id, 'approve'), decide(carol, id, 'approve')]);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 409]);
      const grants = await h.call({
        method: 'GET',
        url: `/api/v1/access/grants?knoc_id=${knoc.id}`,
        token: h.ownerToken,
      });
      expect(grants.json().items).toHaveLength(1);
      expect((await getRequest(id)).decisions).toHaveLength(1);
    });

    it('history: listed with paging and filters; each person sees their own and the ones they approve', async () => {
      const knoc = await approvalKnoc();
      const first = await requestOn(knoc.id);
      await decide(bob, first, 'deny', 'no');
      const second = await requestOn(knoc.id);
      const list = async (token: string, query: string) => {
        const res = await h.call({ method: 'GET', url: `/api/v1/access/requests?${query}`, token });
        expect(res.statusCode, res.body).toBe(200);
        return (res.json().items as { id: string }[]).map((item) => item.id);
      };
      expect(await list(h.ownerToken, `knoc_id=${knoc.id}`)).toEqual([second, first]);
      expect(await list(h.ownerToken, `knoc_id=${knoc.id}&limit=1`)).toEqual([second]);
      expect(await list(h.ownerToken, `knoc_id=${knoc.id}&limit=1&offset=1`)).toEqual([first]);
      expect(await list(h.ownerToken, `knoc_id=${knoc.id}&status=denied`)).toEqual([first]);
      expect(await list(alice.token, `knoc_id=${knoc.id}&mine=true`)).toEqual([second, first]);
      expect(await list(carol.token, `knoc_id=${knoc.id}&awaiting_me=true`)).toEqual([second]);
      expect(await list(alice.token, `knoc_id=${knoc.id}&awaiting_me=true`)).toEqual([]);
      expect(await list(dave.token, `knoc_id=${knoc.id}`)).toEqual([]);
      const bad = await h.call({ method: 'GET', url: '/api/v1/access/requests?status=maybe', token: h.ownerToken });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.field).toBe('status');
    });

    it('the live stream body leaves the decision links out; the webhook body keeps them', async () => {
      const { eventBody } = await import('../../src/events/types.ts');
      const stored = {
        id: 1,
        createdAt: new Date(),
        type: 'access.request.created' as const,
        orgId: 'o',
        siteId: null,
        payload: { request_id: 'r', decision_links: [{ approve_token: 't' }] },
      };
      expect((eventBody(stored).payload as Record<string, unknown>).decision_links).toBeUndefined();
      expect((eventBody(stored, 'webhook').payload as Record<string, unknown>).decision_links).toEqual([
        { approve_token: 't' },
      ]);
    });
  });

  async function eventTypes(requestId: string): Promise<string[]> {
    const rows = await h.store.db.select({ type: events.type, payload: events.payload }).from(events).orderBy(asc(events.id));
    return rows
      .filter((row) => (row.payload as { request_id?: string }).request_id === requestId)
      .map((row) => row.type);
  }
}
