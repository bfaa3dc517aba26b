/**
 * @module The rollback truth table per firmware profile (docs/adr/0187-opnsense-rollback-truth.md): 24.x has a
 * timed revert that works, so filter writes go savepoint → apply/<rev> → cancel_rollback; 26.1.11 (rounded
 * revision, opnsense/core#10721) and 26.7 (endpoints removed) fall back to Portcullis's own verified restore and
 * say so in version() and the warnings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type OpnSenseLiveWriter, opnsenseLiveWriter, rollbackTruth } from '../../src/adapters/opnsense/index.ts';
import type { LiveRuleBody } from '../../src/adapters/live-write.ts';
import { type OpnSenseDouble, startDouble } from './device-double.ts';
import { adapterAt } from './helpers.ts';

const rule: LiveRuleBody = {
  action: 'allow',
  interface: 'lan',
  ip_version: 'inet',
  protocol: 'tcp',
  source_address: 'any',
  source_port: null,
  dest_address: 'any',
  dest_port: '443',
  description: 'rollback truth',
  is_enabled: true,
  log_enabled: false,
};

describe('rollbackTruth(version)', () => {
  it.each([
    ['23.7.12', 'none'],
    ['24.1', 'device'],
    ['24.7.12', 'device'],
    ['25.7.4', 'device'],
    ['26.1', 'none'],
    ['26.1.11', 'none'],
    ['26.7', 'none'],
    ['27.1.a', 'none'],
    ['OPNsense 24.7.3_1-amd64', 'device'],
    ['garbage', 'none'],
  ])('%s → %s', (version, kind) => {
    expect(rollbackTruth(version).kind).toBe(kind);
  });
});

describe('rollback per firmware profile', () => {
  let dev: OpnSenseDouble | undefined;
  afterEach(async () => {
    await dev?.close();
  });

  it('24.7.12: savepoint → apply/<rev> → cancel_rollback; the device revert is real', async () => {
    dev = await startDouble({ version: '24.7.12' });
    const ad = adapterAt(dev.url, dev.credentials);
    const v = await ad.version();
    expect(v.product).toBe('24.7.12');
    expect((v.raw as { rollback: { kind: string } }).rollback.kind).toBe('device');
    expect(ad.warnings.join(' ')).not.toContain('No device rollback');
    const w = opnsenseLiveWriter(ad);
    const { target } = await w.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule });
    await w.apply();
    const paths = dev.requests.map((r) => r.path);
    const save = paths.indexOf('/api/firewall/filter/savepoint');
    const add = paths.indexOf('/api/firewall/filter/add_rule');
    const apply = paths.findIndex((p) => p.startsWith('/api/firewall/filter/apply/'));
    const cancel = paths.findIndex((p) => p.startsWith('/api/firewall/filter/cancel_rollback/'));
    expect(save).toBeGreaterThanOrEqual(0);
    expect(save).toBeLessThan(add);
    expect(add).toBeLessThan(apply);
    expect(apply).toBeLessThan(cancel);
    expect(dev.timers.size).toBe(0);
    dev.advance(120_000);
    expect(dev.rules.filter.map((r) => r.uuid)).toEqual([target]);

    // Had Portcullis been cut off before the cancel, the device reverts by itself after 60 s.
    const w2 = opnsenseLiveWriter(ad);
    await w2.write({ kind: 'firewall_rule', op: 'delete', target: target as string, body: {} });
    const rev = dev.requests.filter((r) => r.path === '/api/firewall/filter/savepoint').length;
    expect(rev).toBe(2);
    dev.fault('/api/firewall/filter/cancel_rollback', { kind: 'drop' });
    await expect(w2.apply()).rejects.toMatchObject({ code: 'OPN000' });
    expect(dev.rules.filter).toEqual([]);
    dev.advance(61_000);
    expect(dev.rules.filter.map((r) => r.uuid)).toEqual([target]);
    await ad.close();
  });

  it.each(['26.1.11', '26.7'])('%s: no savepoint is taken, no safety net claimed; plain apply', async (version) => {
    dev = await startDouble({ version });
    const ad = adapterAt(dev.url, dev.credentials);
    const v = await ad.version();
    expect((v.raw as { rollback: { kind: string; reason: string } }).rollback.kind).toBe('none');
    expect(ad.warnings.join(' ')).toContain('No device rollback');
    expect(ad.warnings.join(' ')).toContain(version === '26.7' ? '17b84612eb' : 'opnsense/core#10721');
    const w = opnsenseLiveWriter(ad) as OpnSenseLiveWriter;
    await w.write({ kind: 'firewall_rule', op: 'create', target: null, body: rule });
    await w.apply();
    const paths = dev.requests.map((r) => r.path);
    expect(paths.some((p) => /savepoint|cancel_rollback|revert/.test(p))).toBe(false);
    expect(paths).toContain('/api/firewall/filter/apply');
    expect(w.lastRollback).toBe('none');
    await ad.close();
  });

  it('26.1.11 in the double: the rounded revision never matches its backup, so the timer restores nothing', async () => {
    dev = await startDouble({ version: '26.1.11' });
    const ad = adapterAt(dev.url, dev.credentials);
    const sp = (await ad.call({ code: 'OPN201', what: 'savepoint' }, 'POST', '/api/firewall/filter/savepoint')) as { revision: string };
    expect(sp.revision).toMatch(/^\d+\.\d{2}$/);
    await ad.call({ code: 'OPN500', what: 'add' }, 'POST', '/api/firewall/filter/add_rule', { rule: { interface: 'lan', action: 'pass' } });
    await ad.call({ code: 'OPN200', what: 'apply' }, 'POST', `/api/firewall/filter/apply/${sp.revision}`);
    dev.advance(120_000);
    expect(dev.rules.filter).toHaveLength(1);
    const revert = await ad.call({ code: 'OPN201', what: 'revert' }, 'POST', `/api/firewall/filter/revert/${sp.revision}`);
    expect(revert).toEqual({ status: 'unknown (or removed) savepoint' });
    await ad.close();
  });
});
