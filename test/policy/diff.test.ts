/**
 * @module Truth tables for the semantic diff and the lock-out check on generated pfSense rulesets: a newly opened
 * port shows exactly that region, a moved rule, a disabled rule, an alias edit, inet46, floating quick versus
 * non-quick, a dynamic alias (unknown, never confident), interfaces on one side only; each region cross-checked
 * with the packet evaluator on packets inside and just outside it.
 */
import { describe, expect, it } from 'vitest';
import { type DiffRegion, diffRulesets } from '../../src/policy/diff/index.ts';
import { createEvaluator } from '../../src/policy/evaluate.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { checkLockout } from '../../src/policy/lockout.ts';
import type { AliasConfig, PolicyConfig, RuleConfig } from '../../src/policy/model.ts';
import { type Packet, PacketError } from '../../src/policy/packet.ts';
import { baseConfig, iface, userRule } from './fixtures/builders.ts';

const tcpTo = (address: string, port: string, fields: Partial<RuleConfig> = {}): RuleConfig =>
  userRule({ protocol: 'tcp', destination: { kind: 'address', value: address, port, not: false }, ...fields });

function diffOf(before: PolicyConfig, after: PolicyConfig) {
  const a = generateRuleset(before);
  const b = generateRuleset(after);
  return { a, b, diff: diffRulesets(a, b) };
}

/** The verdicts of one packet before and after, from the evaluator. */
function verdicts(a: ReturnType<typeof generateRuleset>, b: ReturnType<typeof generateRuleset>, p: Packet) {
  return [createEvaluator(a).evaluate(p).verdict, createEvaluator(b).evaluate(p).verdict];
}

const syn = (iface: string, src: string, dst: string, dstPort: number, proto = 'tcp'): Packet => ({
  interface: iface,
  direction: 'in',
  proto,
  src,
  srcPort: 40000,
  dst,
  dstPort,
  ...(proto === 'tcp' ? { tcpFlags: 'S' } : {}),
});

describe('diffRulesets', () => {
  it('identical configs differ nowhere', () => {
    const config = baseConfig({ rules: [tcpTo('10.1.1.5', '22')] });
    const { diff } = diffOf(config, baseConfig({ rules: [tcpTo('10.1.1.5', '22')] }));
    expect(diff.regions).toEqual([]);
    expect(diff.changedRules).toEqual({ before: [], after: [] });
  });

  it('a rule that newly opens a port shows exactly that region: WAN, in, TCP SYN to the address and port', () => {
    const open = tcpTo('85.10.20.2', '443', { interface: 'wan', tracker: '7001', descr: 'Allow HTTPS' });
    const { a, b, diff } = diffOf(baseConfig(), baseConfig({ rules: [open] }));
    expect(diff.regions.length).toBeGreaterThan(0);
    for (const region of diff.regions) {
      expect(region).toMatchObject({
        change: 'newly-pass',
        interface: 'wan',
        direction: 'in',
        family: 'inet',
        protocols: ['tcp'],
        destination: ['85.10.20.2/32'],
        destinationPorts: ['443'],
        tcpFlags: { text: 'S/SA' },
        after: { verdict: 'pass', rule: { tab: 'wan', position: 1, tracker: '7001' }, certain: true },
      });
      expect(region.before.verdict).toBe('block');
    }
    // Port 0 and private/bogon sources stay blocked by pfSense's quick system rules: not in the region.
    expect(diff.regions.flatMap((r) => r.sourcePorts ?? ['0-65535'])).not.toContain('0-65535');
    expect(diff.counts).toEqual({ 'newly-pass': diff.regions.length, 'newly-block': 0, 'reply-changed': 0, unknown: 0 });
    expect(verdicts(a, b, syn('wan', '8.8.8.8', '85.10.20.2', 443))).toEqual(['block', 'pass']);
    expect(verdicts(a, b, syn('wan', '8.8.8.8', '85.10.20.2', 444))).toEqual(['block', 'block']);
    expect(verdicts(a, b, syn('wan', '10.0.0.1', '85.10.20.2', 443))).toEqual(['block', 'block']);
    const sources = diff.regions.flatMap((r) => r.source ?? []);
    expect(sources).toContain('1.0.0.0-9.255.255.255');
    expect(sources.some((s) => s.startsWith('10.'))).toBe(false);
    expect(diff.changedRules.after.map((r) => r.tracker)).toEqual(['7001']);
  });

  it('a moved rule: the block that came first now comes after a pass, so its SYNs newly pass', () => {
    const block = tcpTo('10.9.9.9', '22', { type: 'block', descr: 'no ssh', tracker: '1' });
    const pass = userRule({ protocol: 'tcp', descr: 'tcp out', tracker: '2' });
    const { diff } = diffOf(baseConfig({ rules: [block, pass] }), baseConfig({ rules: [pass, block] }));
    expect(diff.regions).toHaveLength(1);
    expect(diff.regions[0]).toMatchObject({
      change: 'newly-pass',
      interface: 'lan',
      direction: 'in',
      family: 'inet',
      protocols: ['tcp'],
      destination: ['10.9.9.9/32'],
      destinationPorts: ['22'],
      tcpFlags: { text: 'S/SA' },
      before: { verdict: 'block', rule: { tracker: '1', position: 1 } },
      after: { verdict: 'pass', rule: { tracker: '2', position: 1 } },
    });
  });

  it('a disabled pass rule newly blocks its flows, decided by the default deny afterwards', () => {
    const allow = userRule({ destination: { kind: 'address', value: '10.1.1.0/24', not: false }, tracker: '5' });
    const { a, b, diff } = diffOf(
      baseConfig({ rules: [allow] }),
      baseConfig({ rules: [{ ...allow, disabled: true }] }),
    );
    expect(diff.regions.length).toBeGreaterThan(0);
    for (const region of diff.regions) {
      expect(region).toMatchObject({ change: 'newly-block', interface: 'lan', destination: ['10.1.1.0/24'] });
      expect(region.before.rule?.tracker).toBe('5');
      // Spoofed sources are now blocked by the (non-quick, later) antispoof rules, the rest by the default deny.
      expect(['Default deny rule IPv4', 'antispoof for LAN', 'antispoof for WAN']).toContain(region.after.rule?.descr);
    }
    expect(diff.regions.filter((r) => r.after.rule?.descr === 'Default deny rule IPv4')).not.toEqual([]);
    expect(verdicts(a, b, syn('lan', '192.168.1.50', '10.1.1.77', 80))).toEqual(['pass', 'block']);
    expect(verdicts(a, b, syn('lan', '192.168.1.50', '10.1.2.1', 80))).toEqual(['block', 'block']);
  });

  it('an alias edit changes exactly the added member', () => {
    const alias = (entries: string[]): AliasConfig => ({ name: 'WEB', type: 'host', entries, descr: '' });
    const rule = tcpTo('WEB', '80', { tracker: '9' });
    const { diff } = diffOf(
      baseConfig({ aliases: [alias(['10.1.1.5'])], rules: [rule] }),
      baseConfig({ aliases: [alias(['10.1.1.5', '10.1.1.6'])], rules: [rule] }),
    );
    expect(diff.regions.map((r) => [r.change, r.destination, r.destinationPorts])).toEqual(
      diff.regions.map(() => ['newly-pass', ['10.1.1.6/32'], ['80']]),
    );
    expect(diff.regions.length).toBeGreaterThan(0);
    expect(diff.changedRules.before.map((r) => r.tracker)).toEqual(['9']);
  });

  it('an inet46 rule opens both families', () => {
    const dns = userRule({ ipprotocol: 'inet46', protocol: 'udp', destination: { kind: 'any', port: '53', not: false } });
    const { diff } = diffOf(baseConfig(), baseConfig({ rules: [dns] }));
    const families = new Set(diff.regions.map((r) => r.family));
    expect(families).toEqual(new Set(['inet', 'inet6']));
    for (const region of diff.regions) {
      expect(region).toMatchObject({ change: 'newly-pass', interface: 'lan', protocols: ['udp'], destinationPorts: ['53'] });
    }
  });

  it('a non-quick floating block loses to the quick LAN pass; made quick, it newly blocks', () => {
    const lanPass = userRule({ tracker: '1' });
    const floating = userRule({
      type: 'block',
      floating: true,
      interface: 'lan',
      direction: 'in',
      destination: { kind: 'address', value: '10.2.2.2', not: false },
      tracker: '2',
    });
    const without = baseConfig({ rules: [lanPass] });
    const nonQuick = diffOf(without, baseConfig({ rules: [lanPass, floating] })).diff;
    expect(nonQuick.regions).toEqual([]);
    const quick = diffOf(without, baseConfig({ rules: [lanPass, { ...floating, quick: true }] })).diff;
    for (const region of quick.regions) {
      expect(region).toMatchObject({
        change: 'newly-block',
        interface: 'lan',
        direction: 'in',
        family: 'inet',
        destination: ['10.2.2.2/32'],
        after: { verdict: 'block', rule: { tab: 'floating', tracker: '2' } },
        before: { verdict: 'pass', rule: { tab: 'lan', tracker: '1' } },
      });
    }
    // The LAN pass keeps state, so for TCP only its SYNs passed (implicit flags S/SA); every protocol is covered.
    expect(quick.regions.flatMap((r) => r.protocols ?? []).sort()).toEqual(['icmp', 'ipv6-icmp', 'other', 'tcp', 'udp']);
    expect(quick.regions.find((r) => r.protocols?.includes('tcp'))?.tcpFlags?.text).toBe('S/SA');
  });

  it('a dynamic alias gives unknown regions, never a confident answer', () => {
    const feed: AliasConfig = { name: 'FEED', type: 'urltable', entries: [], descr: '', urls: ['https://x.test/list'] };
    const rule = tcpTo('FEED', '443', { interface: 'wan' });
    const { diff } = diffOf(baseConfig({ aliases: [feed] }), baseConfig({ aliases: [feed], rules: [rule] }));
    expect(diff.regions.length).toBeGreaterThan(0);
    for (const region of diff.regions) {
      expect(region.change).toBe('unknown');
      expect(region.after.verdict).toBe('unknown');
      // The rule shown is the one under the known contents (none), and it is marked uncertain.
      expect(region.after.certain).toBe(false);
    }
  });

  it('an interface present on one side only is listed, not diffed', () => {
    const extra = iface({ key: 'opt1', device: 'em2', ipv4: { mode: 'static', address: '10.5.0.1', prefixLength: 24 } });
    const before = baseConfig();
    const { diff } = diffOf(before, baseConfig({ interfaces: [...before.interfaces, extra] }));
    expect(diff.interfaces).toEqual({ onlyBefore: [], onlyAfter: ['opt1'] });
    expect(diff.regions.every((r) => r.interface !== 'opt1')).toBe(true);
  });

  it('regions hold packets whose verdict changed and nothing next to them (evaluator cross-check)', () => {
    const before = baseConfig({ rules: [tcpTo('10.1.1.0/24', '1000-2000')] });
    const after = baseConfig({ rules: [tcpTo('10.1.1.0/25', '1000-1500')] });
    const { a, b, diff } = diffOf(before, after);
    const boxes = new Set(diff.regions.map((r: DiffRegion) => `${r.change} ${String(r.destination)} ${String(r.destinationPorts)}`));
    expect(boxes).toEqual(new Set(['newly-block 10.1.1.0/25 1501-2000', 'newly-block 10.1.1.128/25 1000-2000']));
    expect(verdicts(a, b, syn('lan', '192.168.1.9', '10.1.1.3', 1501))).toEqual(['pass', 'block']);
    expect(verdicts(a, b, syn('lan', '192.168.1.9', '10.1.1.3', 1500))).toEqual(['pass', 'pass']);
    expect(verdicts(a, b, syn('lan', '192.168.1.9', '10.1.1.200', 1000))).toEqual(['pass', 'block']);
    expect(verdicts(a, b, syn('lan', '192.168.1.9', '10.1.1.200', 999))).toEqual(['block', 'block']);
  });
});

describe('checkLockout', () => {
  const path = { interface: 'lan', source: '192.168.1.50', address: '192.168.1.1', port: 443 };

  it('passes when the anti-lockout rule still lets the GUI through', () => {
    const a = generateRuleset(baseConfig());
    const check = checkLockout(a, a, path);
    expect(check.status).toBe('passes');
    expect(check.after.rule?.descr).toMatch(/anti-lockout/i);
  });

  it('reports a cut, with the rules before and after, when the change removes the only pass', () => {
    const before = baseConfig();
    const after = baseConfig({ system: { ...before.system, webgui: { ...before.system.webgui, noAntiLockout: true } } });
    const check = checkLockout(generateRuleset(before), generateRuleset(after), path);
    expect(check.status).toBe('cut');
    expect(check.before.verdict).toBe('pass');
    expect(check.after).toMatchObject({ verdict: 'block', rule: { descr: 'Default deny rule IPv4' } });
  });

  it('says blocked when the path did not pass before either, and unknown on a dynamic alias', () => {
    const a = generateRuleset(baseConfig());
    const wanPath = { interface: 'wan', source: '8.8.8.8', address: '85.10.20.2', port: 443 };
    expect(checkLockout(a, a, wanPath).status).toBe('blocked');
    const feed: AliasConfig = { name: 'FEED', type: 'urltable', entries: [], descr: '', urls: ['https://x.test/l'] };
    const b = generateRuleset(
      baseConfig({ aliases: [feed], rules: [userRule({ interface: 'wan', source: { kind: 'address', value: 'FEED', not: false } })] }),
    );
    expect(checkLockout(a, b, wanPath).status).toBe('unknown');
  });

  it('names the field of a bad path', () => {
    const a = generateRuleset(baseConfig());
    expect(() => checkLockout(a, a, { ...path, interface: 'nope' })).toThrow(PacketError);
    try {
      checkLockout(a, a, { ...path, source: 'not-an-ip' });
    } catch (error) {
      expect((error as PacketError).field).toBe('src');
    }
  });
});
