/**
 * @module The emulated lab on `npm start` (ADR 0101): a fresh data directory with no gateway gets an in-process
 * pfRest emulator, one lab gateway (fingerprint-pinned) whose test endpoint answers ok, and the demo knoc; the
 * owner can knock on it. A restart brings the same gateway back (same fingerprint, test still ok, nothing
 * registered twice); `PORTCULLIS_LAB=off` starts without it; the blanket loopback stays forbidden for gateways.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { caller, ownerToken, spawnServer } from './support/server-process.ts';

interface Gateway {
  id: string;
  name: string;
  url: string;
  fingerprint_sha256: string | null;
  has_credentials: boolean;
}

describe('emulated lab on npm start', () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-lab-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('starts the lab, registers its gateway and demo knoc once, and survives a restart', async () => {
    const dataDir = freshDir();
    const first = await spawnServer({ dataDir, env: { PORTCULLIS_LAB: undefined, PORTCULLIS_ALLOW_GATEWAY_HOSTS: undefined } });
    let token: string;
    let gateway: Gateway;
    try {
      expect(first.stderr()).toMatch(/Emulated lab/);
      token = await ownerToken(first.url);
      const admin = caller(first.url, { token });
      const { items } = await admin.call<{ items: Gateway[] }>('GET', '/api/v1/firewall/gateways');
      expect(items).toHaveLength(1);
      gateway = items[0] as Gateway;
      expect(gateway).toMatchObject({ has_credentials: true });
      expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(gateway.fingerprint_sha256?.replaceAll(':', '')).toMatch(/^[0-9a-fA-F]{64}$/);
      expect(JSON.stringify(items)).not.toMatch(/api_key"/);
      expect(first.stderr()).toContain(gateway.url);

      const tested = await admin.call<{ ok: boolean; error: unknown }>('POST', `/api/v1/firewall/gateways/${gateway.id}/test`, {});
      expect(tested).toMatchObject({ ok: true, error: null });

      const knocs = await admin.call<{ items: { name: string; gateway_id: string; alias_name: string }[] }>(
        'GET',
        '/api/v1/access/knocs',
      );
      expect(knocs.items).toEqual([expect.objectContaining({ name: 'lab-demo', gateway_id: gateway.id })]);

      // Only the lab's exact endpoint is allowed: another loopback port is still refused for a gateway.
      const other = await admin.raw('POST', '/api/v1/firewall/gateways/test', {
        vendor: 'pfsense',
        url: `https://127.0.0.1:${Number(new URL(gateway.url).port) + 1}`,
        api_key: 'x',
      });
      expect(other.status).toBe(400);
      expect(other.body).toMatchObject({ error: { field: 'url' } });

      expect(statSync(join(dataDir, 'lab', 'lab.json')).mode & 0o777).toBe(0o600);
    } finally {
      expect(await first.stop('SIGINT')).toBe(0);
    }

    const second = await spawnServer({ dataDir, env: { PORTCULLIS_LAB: undefined, PORTCULLIS_ALLOW_GATEWAY_HOSTS: undefined } });
    try {
      const admin = caller(second.url, { token });
      const { items } = await admin.call<{ items: Gateway[] }>('GET', '/api/v1/firewall/gateways');
      expect(items).toEqual([expect.objectContaining({ id: gateway.id, fingerprint_sha256: gateway.fingerprint_sha256 })]);
      const tested = await admin.call<{ ok: boolean }>('POST', `/api/v1/firewall/gateways/${gateway.id}/test`, {});
      expect(tested.ok).toBe(true);
      const knocs = await admin.call<{ items: unknown[] }>('GET', '/api/v1/access/knocs');
      expect(knocs.items).toHaveLength(1);
    } finally {
      await second.stop('SIGINT');
    }
  }, 240_000);

  it('PORTCULLIS_LAB=off starts without a lab', async () => {
    const server = await spawnServer({ dataDir: freshDir(), env: { PORTCULLIS_LAB: 'off' } });
    try {
      expect(server.stderr()).not.toMatch(/Emulated lab/);
      const admin = caller(server.url, { token: await ownerToken(server.url) });
      const { items } = await admin.call<{ items: unknown[] }>('GET', '/api/v1/firewall/gateways');
      expect(items).toEqual([]);
    } finally {
      await server.stop('SIGINT');
    }
  }, 120_000);
});
