/**
 * @module Sign-in → alias → sign-out through the portal API of a server process, onto a pfRest emulator with an
 * apply delay: the person's address reaches the applied table and the grant turns `live`; an entry an admin put
 * on the alias by hand stays untouched; sign-out ends the grant (`logout`), the address leaves the applied table,
 * the grant turns `removed`, and the open states of the address are killed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PfSenseAdapter } from '../../src/adapters/pfsense/index.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { liveState } from '../pfsense/helpers.ts';
import { type AccessWorld, accessWorld, appliedAddresses, listGrants, type Person } from './support/access-world.ts';
import { caller, eventually, ownerToken, type ServerProcess, signIn, spawnServer } from './support/server-process.ts';

const ALIAS = 'pc_flow';
const MANUAL = { address: '192.0.2.10', detail: 'office printer (by hand)' };

describe('portal sign-in → alias → sign-out (server process, emulator with a 300 ms apply)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-flow-'));
  let emulator: PfRestEmulator;
  let server: ServerProcess;
  let world: AccessWorld;
  let bob: Person;
  let knocId: string;

  beforeAll(async () => {
    emulator = await startPfRestEmulator({ applyDelayMs: 300 });
    // The alias exists with an admin's own entry before Portcullis ever touches it.
    const box = new PfSenseAdapter({ url: emulator.url, apiKey: emulator.apiKey, tls: { mode: 'ca', caPem: emulator.caPem } });
    await box.createAlias(ALIAS, 'host', 'VPN users');
    await box.setAliasEntries(ALIAS, [MANUAL]);
    await box.apply();
    await box.close();
    server = await spawnServer({ dataDir, env: { PORTCULLIS_ALLOW_GATEWAY_HOSTS: '127.0.0.1', PORTCULLIS_LAB: 'off' } });
    world = await accessWorld(server.url, await ownerToken(server.url), emulator);
    bob = await world.person('bob');
    knocId = (await world.knoc({ name: 'flow', alias_name: ALIAS, users: [bob.id], kill_states_on_revoke: true })).id;
  }, 300_000);

  afterAll(async () => {
    await server?.stop('SIGTERM');
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('grants on sign-in, keeps the manual entry, and removes the address and its states on sign-out', async () => {
    const session = await signIn(server.url, bob.username, bob.password, '/api/v1/portal/login');
    const granted = session.body.granted as { knoc_id: string }[];
    expect(granted.map((g) => g.knoc_id)).toEqual([knocId]);

    await eventually(
      () => (appliedAddresses(emulator, ALIAS).includes('127.0.0.1') ? true : undefined),
      'the address in the applied table',
    );
    const [live] = await eventually(async () => {
      const rows = await listGrants(world.admin, `knoc_id=${knocId}`);
      return rows.every((g) => g.sync_state === 'live') && rows.length > 0 ? rows : undefined;
    }, 'the grant live');
    expect(live).toMatchObject({ ip: '127.0.0.1', user_id: bob.id, ended_at: null });
    const configured = emulator.state().aliases.find((a) => a.name === ALIAS);
    expect(configured?.address).toContain(MANUAL.address);
    expect(configured?.detail[configured.address.indexOf(MANUAL.address)]).toBe(MANUAL.detail);
    expect(appliedAddresses(emulator, ALIAS)).toContain(MANUAL.address);

    const me = await caller(server.url, session).call<{ ip: string; grants: { seconds_left: number }[] }>(
      'GET',
      '/api/v1/portal/me',
    );
    expect(me.ip).toBe('127.0.0.1');
    expect(me.grants[0]?.seconds_left).toBeGreaterThan(0);

    // An open connection from the address; sign-out must not let it outlive the grant.
    emulator.setStates([
      liveState('127.0.0.1:50000', '198.51.100.5:22'),
      liveState('198.51.100.77:40000', '198.51.100.5:443'),
    ]);

    await caller(server.url, session).call('POST', '/api/v1/portal/logout', {});

    await eventually(
      () => (appliedAddresses(emulator, ALIAS).includes('127.0.0.1') ? undefined : true),
      'the address gone from the applied table',
    );
    expect(appliedAddresses(emulator, ALIAS)).toContain(MANUAL.address);
    const ended = await eventually(async () => {
      const [row] = await listGrants(world.admin, `knoc_id=${knocId}`);
      return row?.sync_state === 'removed' ? row : undefined;
    }, 'the grant removed');
    expect(ended).toMatchObject({ end_reason: 'logout' });
    expect(ended.ended_at).not.toBeNull();
    await eventually(
      () => (emulator.state().states.some((s) => s.source.startsWith('127.0.0.1:')) ? undefined : true),
      'the states of the address killed',
    );
    expect(emulator.state().states.map((s) => s.source)).toEqual(['198.51.100.77:40000']);
  }, 120_000);
});
