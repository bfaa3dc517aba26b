/**
 * @module The apply claim under real concurrency: on PostgreSQL the requests run on separate pooled connections,
 * so concurrent applies of one change race in the database itself; exactly one may win, the device sees the
 * change once, and no row is left `applying`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';

let h: AccessHarness;
let gatewayId: string;

beforeAll(async () => {
  h = await startAccessHarness('postgres', {}, { applyDelayMs: 0, config: { readOnly: false } });
  gatewayId = await h.gateway(await h.site('claim-site'), 'claim-gw');
});
afterAll(async () => {
  await h?.close();
});

it('eight concurrent applies of one change: one 200, seven 409, one rule on the box', async () => {
  const staged = await h.call({
    method: 'POST',
    url: `/api/v1/firewall/gateways/${gatewayId}/firewall-rules`,
    token: h.ownerToken,
    payload: { action: 'allow', interface: 'lan', dest_address: '10.0.0.8', description: 'claimed once' },
  });
  expect(staged.statusCode).toBe(201);
  const id = staged.json().id as string;
  const answers = await Promise.all(
    Array.from({ length: 8 }, () =>
      h.call({ method: 'POST', url: `/api/v1/firewall/pending/${id}/apply`, token: h.ownerToken }),
    ),
  );
  const codes = answers.map((a) => a.statusCode).sort();
  expect(codes).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
  expect(answers.find((a) => a.statusCode === 200)?.json().status).toBe('applied');
  expect(h.emulator.state().rules.filter((r) => r.descr === 'claimed once')).toHaveLength(1);
  const open = await h.call({ method: 'GET', url: '/api/v1/firewall/pending?status=applying', token: h.ownerToken });
  expect(open.json().items).toEqual([]);
});
