/**
 * @module The drift sources' comparison rules (src/orchestration/drift/sources.ts, ADR 0251) and the suppression
 * glob, pure: which change of a rule is critical, warning or info; an added allow rule is critical; a knoc alias
 * ignores tagged entries; a rule a neutral write cannot carry is refused for reapply.
 */
import { describe, expect, it } from 'vitest';
import type { DriftResource } from '../../src/orchestration/drift/model.ts';
import { globMatcher } from '../../src/orchestration/drift/model.ts';
import { aliasSource, firewallRuleSource } from '../../src/orchestration/drift/sources.ts';

const rule = (body: Record<string, unknown> = {}): DriftResource => ({
  key: '100',
  name: 'web',
  body: {
    position: 0,
    action: 'allow',
    interfaces: ['lan'],
    direction: 'in',
    ip_version: 'inet',
    protocol: 'tcp',
    source_address: 'any',
    source_port: null,
    dest_address: '10.0.0.5',
    dest_port: '443',
    is_enabled: true,
    floating: false,
    quick: true,
    icmp_types: null,
    schedule: null,
    unmodelled_options: [],
    description: 'web',
    log_enabled: false,
    ...body,
  },
});

describe('firewall rules', () => {
  const severity = (change: Record<string, unknown>) => firewallRuleSource.compare(rule(), rule(change), null)[0]?.severity;
  it('rates a change by what it does to traffic', () => {
    expect(severity({ dest_port: '22' })).toBe('critical');
    expect(severity({ is_enabled: false })).toBe('critical');
    expect(severity({ unmodelled_options: ['tcp flags'] })).toBe('warning');
    expect(severity({ description: 'renamed' })).toBe('info');
    expect(severity({ log_enabled: true })).toBe('info');
    expect(firewallRuleSource.compare(rule(), rule({ position: 7 }), null)).toEqual([]);
  });
  it('an added allow rule is critical, an added block rule a warning; a missing rule critical', () => {
    expect(firewallRuleSource.compare(null, rule(), null)[0]).toMatchObject({ driftType: 'resource_added', severity: 'critical' });
    expect(firewallRuleSource.compare(null, rule({ action: 'deny' }), null)[0]).toMatchObject({ severity: 'warning' });
    expect(firewallRuleSource.compare(rule(), null, null)[0]).toMatchObject({ driftType: 'resource_missing', severity: 'critical' });
  });
  it('refuses to reapply a rule the neutral write cannot carry, and re-creates a missing one in its place', () => {
    const event = (expected: DriftResource) => ({ resourceKey: '100', resourceName: 'web', driftType: 'resource_modified' as const, expected: expected.body, actual: null });
    expect(() => firewallRuleSource.remedy(event(rule({ floating: true })), [], [], null)).toThrow(/floating/);
    expect(() => firewallRuleSource.remedy(event(rule({ unmodelled_options: ['dscp'] })), [], [], null)).toThrow(/dscp/);
    const baseline = [rule(), { ...rule({ position: 1 }), key: '200' }, { ...rule({ position: 2 }), key: '300' }];
    const missing = { ...event(rule()), driftType: 'resource_missing' as const };
    expect(firewallRuleSource.remedy(missing, baseline, [baseline[2] as DriftResource], null)).toMatchObject({ op: 'create', before: '300' });
  });
});

describe('knoc aliases', () => {
  const alias = (entries: Array<{ address: string; detail: string }>): DriftResource => ({
    key: 'pc_jit',
    name: 'pc_jit',
    body: { name: 'pc_jit', type: 'host', description: '', entries },
  });
  const context = { aliases: new Map([['pc_jit', new Map([['198.51.100.9', 'g-1']])]]) };
  const admin = { address: '192.0.2.1', detail: 'office' };
  it('ignores tagged entries, reports a hand-added entry and a removed tag', () => {
    const expected = alias([admin]);
    expect(aliasSource.compare(expected, alias([admin, { address: '198.51.100.20', detail: 'portcullis:g-2' }]), context)).toEqual([]);
    expect(aliasSource.compare(alias([]), null, context)).toEqual([]);
    const handAdded = aliasSource.compare(expected, alias([admin, { address: '203.0.113.5', detail: '' }]), context);
    expect(handAdded).toMatchObject([{ driftType: 'resource_modified', severity: 'critical' }]);
    const untagged = aliasSource.compare(expected, alias([admin, { address: '198.51.100.9', detail: 'mine' }]), context);
    expect(untagged).toMatchObject([{ driftType: 'tag_removed', severity: 'critical' }]);
  });
  it('restores tags and the accepted manual entries on reapply', () => {
    const write = aliasSource.remedy(
      { resourceKey: 'pc_jit', resourceName: 'pc_jit', driftType: 'tag_removed', expected: alias([admin]).body, actual: null },
      [],
      [alias([{ address: '198.51.100.9', detail: 'mine' }, { address: '203.0.113.5', detail: '' }])],
      context,
    );
    expect(write).toMatchObject({ op: 'update', body: { entries: [admin, { address: '198.51.100.9', detail: 'portcullis:g-1' }] } });
  });
});

it('suppression globs match whole names with * and ?, literally otherwise', () => {
  const match = globMatcher('pc_*.v?');
  expect(match('pc_lists.v1')).toBe(true);
  expect(match('pc_lists.v10')).toBe(false);
  expect(match('xpc_lists.v1')).toBe(false);
  expect(globMatcher('a.b')('axb')).toBe(false);
});
