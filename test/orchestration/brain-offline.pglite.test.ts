/**
 * @module `gateway.brain.offline` (docs/events.md, ADR 0277): the health poll of a site's brain that stops
 * answering emits it once per transition with the site, beside `firewall.event.gateway_unreachable`; a gateway that
 * is no brain (not in a role map) emits only the latter. Real pfRest emulator halted through its live state.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EVENT_TYPES, visibleTo } from '../../src/events/types.ts';
import { pollGatewayHealth } from '../../src/firewall/health.ts';
import { liveGateway } from '../../src/firewall/live.ts';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';
import { testContext } from '../helpers/store.ts';

let h: AccessHarness;
let brainSite: string;
let brain: string;
let loose: string;

const events = async (gatewayId: string) =>
  h.store.query<{ type: string; site_id: string; payload: Record<string, unknown> }>(
    'select type, site_id, payload from events where gateway_id = $1 order by id',
    [gatewayId],
  );

async function poll(gatewayId: string) {
  const ctx = testContext(h.store, { keyring: h.keyring });
  const { vendor, adapter } = await h.app.access.adapters.get(gatewayId);
  return pollGatewayHealth(ctx, h.app.events, gatewayId, liveGateway(vendor, adapter));
}

beforeAll(async () => {
  h = await startAccessHarness('pglite', {}, { applyDelayMs: 0 });
  brainSite = await h.site('brain-site');
  brain = await h.gateway(brainSite, 'site-brain');
  loose = await h.gateway(await h.site('no-role-map'), 'no-role');
  const map = await h.call({
    method: 'PUT',
    url: `/api/v1/firewall/topology/${brainSite}`,
    token: h.ownerToken,
    payload: { assignments: [{ gateway_id: brain, role: 'brain' }] },
  });
  expect(map.statusCode, map.body).toBe(200);
});
afterAll(async () => h?.close());

it('a brain that stops answering emits gateway.brain.offline once, with its site; a gateway of no role map does not', async () => {
  await poll(brain);
  await poll(loose);
  h.emulator.setLive({ power: 'halted' });
  for (let i = 0; i < 2; i++) {
    await poll(brain);
    await poll(loose);
  }
  const onBrain = await events(brain);
  expect(onBrain.map((e) => e.type)).toEqual(['firewall.event.gateway_unreachable', 'gateway.brain.offline']);
  expect(onBrain[1]).toMatchObject({ site_id: brainSite, payload: { gateway: 'site-brain', site_id: brainSite } });
  expect((await events(loose)).map((e) => e.type)).toEqual(['firewall.event.gateway_unreachable']);
  // Back online and gone again: a new transition, a new event.
  h.emulator.setLive({ power: 'on' });
  await poll(brain);
  h.emulator.setLive({ power: 'halted' });
  await poll(brain);
  expect((await events(brain)).filter((e) => e.type === 'gateway.brain.offline')).toHaveLength(2);
  h.emulator.setLive({ power: 'on' });
});

it('is read with gateway.view on the site, like the rest of orchestration', () => {
  expect(EVENT_TYPES['gateway.brain.offline'].permission).toBe('gateway.view');
  const event = { type: 'gateway.brain.offline' as const, siteId: brainSite };
  expect(visibleTo(event, (permission, site) => permission === 'gateway.view' && site === brainSite)).toBe(true);
  expect(visibleTo(event, (permission) => permission === 'firewall.view')).toBe(false);
});
