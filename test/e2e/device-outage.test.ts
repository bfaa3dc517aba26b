/**
 * @module Device outage and recovery through a server process: with a fault injected into the pfRest emulator,
 * a new grant stays `pending` and the knoc status shows the adapter's PFS code (with `since`); once the fault is
 * cleared the reconciler's retry converges — the address is applied, the grant turns `live`, the error clears.
 * One named row per fault kind; they run in order against the same server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultSpec, type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { type AccessWorld, accessWorld, appliedAddresses, knocStatus, listGrants } from './support/access-world.ts';
import { eventually, ownerToken, type ServerProcess, spawnServer } from './support/server-process.ts';

const ALIAS = 'pc_outage';
const ALWAYS = 1_000_000;

const ROWS: { row: string; fault: FaultSpec; code: string }[] = [
  { row: 'key refused (401)', fault: { kind: 'status', status: 401, times: ALWAYS }, code: 'PFS001' },
  { row: 'privilege missing (403)', fault: { kind: 'status', status: 403, times: ALWAYS }, code: 'PFS002' },
  { row: 'pfRest package absent (nginx 404)', fault: { kind: 'package-absent', times: ALWAYS }, code: 'PFS005' },
  {
    row: 'alias write refused (500 on PATCH)',
    fault: { kind: 'status', status: 500, times: ALWAYS, method: 'PATCH', path: '/api/v2/firewall/alias' },
    code: 'PFS102',
  },
  {
    row: 'apply failing (503 on POST apply)',
    fault: { kind: 'status', status: 503, times: ALWAYS, method: 'POST', path: '/api/v2/firewall/apply' },
    code: 'PFS200',
  },
  { row: 'answers that are not JSON', fault: { kind: 'non-json', times: ALWAYS }, code: 'PFS400' },
  { row: 'connections dropped', fault: { kind: 'drop', times: ALWAYS }, code: 'PFS000' },
];

describe('device outage → PFS code on the knoc → recovery (server process, emulator with a 200 ms apply)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-outage-'));
  let emulator: PfRestEmulator;
  let server: ServerProcess;
  let world: AccessWorld;
  let knocId: string;
  let n = 0;

  beforeAll(async () => {
    emulator = await startPfRestEmulator({ applyDelayMs: 200 });
    server = await spawnServer({ dataDir, env: { PORTCULLIS_ALLOW_GATEWAY_HOSTS: '127.0.0.1', PORTCULLIS_LAB: 'off' } });
    world = await accessWorld(server.url, await ownerToken(server.url), emulator);
    knocId = (await world.knoc({ name: 'outage', alias_name: ALIAS })).id;
  }, 300_000);

  afterAll(async () => {
    await server?.stop('SIGTERM');
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(ROWS)('$row → $code while it lasts, converged after', async ({ fault, code }) => {
    n++;
    const address = `198.18.0.${n}`;
    emulator.injectFault(fault);
    const created = await world.admin.call<{ id: string }>('POST', '/api/v1/access/grants', {
      knoc_id: knocId,
      ip: address,
      ttl_seconds: 3_600,
      reason: `outage ${code}`,
    });

    const failing = await eventually(async () => {
      const status = await knocStatus(world.admin, knocId);
      return status.error?.code === code ? status : undefined;
    }, `status error ${code}`, { timeoutMs: 90_000, everyMs: 100 });
    expect(failing.error?.message).toContain(code);
    expect(Number.isNaN(Date.parse(failing.error?.since ?? ''))).toBe(false);
    const pending = (await listGrants(world.admin, `knoc_id=${knocId}`)).find((g) => g.id === created.id);
    expect(pending?.sync_state).toBe('pending');
    expect(appliedAddresses(emulator, ALIAS)).not.toContain(address);

    emulator.clearFaults();
    await eventually(
      async () => {
        const status = await knocStatus(world.admin, knocId);
        const row = (await listGrants(world.admin, `knoc_id=${knocId}`)).find((g) => g.id === created.id);
        return status.error === null && row?.sync_state === 'live' && appliedAddresses(emulator, ALIAS).includes(address)
          ? true
          : undefined;
      },
      'recovery',
      { timeoutMs: 120_000, everyMs: 200 },
    );
    const status = await knocStatus(world.admin, knocId);
    expect(status.desired_count).toBe(n);
    expect(status.device_count).toBe(n);
  }, 240_000);
});
