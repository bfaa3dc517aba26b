/**
 * @module The smallest fix for a blocked packet (`proposeFixes`, `applyEdit`, src/policy/fixes.ts): add the source
 * to the alias of a pass rule ranked before a new rule when both open only the flow, a disabled rule enabled and
 * ranked by how much else it opens, a rule inserted above the blocking one, each fix re-applied and re-evaluated
 * here; a packet that already passes, a system rule no edit can pass, run-time contents, bad packets.
 */
import { describe, expect, it } from 'vitest';
import { createEvaluator } from '../../src/policy/evaluate.ts';
import { applyEdit, proposeFixes } from '../../src/policy/fixes.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import type { AliasConfig, PolicyConfig, RuleConfig } from '../../src/policy/model.ts';
import { type Packet, PacketError } from '../../src/policy/packet.ts';
import { baseConfig, userRule } from './fixtures/builders.ts';

const admins: AliasConfig = { name: 'ssh_admins', type: 'host', entries: ['9.9.9.9'], descr: '' };
const toWan = (port: string, fields: Partial<RuleConfig> = {}): RuleConfig =>
  userRule({
    interface: 'wan',
    protocol: 'tcp',
    destination: { kind: 'address', value: '85.10.20.2', port, not: false },
    ...fields,
  });
const sshForAdmins = toWan('22', {
  source: { kind: 'address', value: 'ssh_admins', not: false },
  descr: 'ssh for admins',
  tracker: '100',
});
const ssh: Packet = {
  interface: 'wan',
  direction: 'in',
  proto: 'tcp',
  src: '8.8.8.8',
  srcPort: 40000,
  dst: '85.10.20.2',
  dstPort: 22,
  tcpFlags: 'S',
};

/** Each fix, applied to the config independently here, makes the packet pass. */
function expectVerified(config: PolicyConfig, proposal: ReturnType<typeof proposeFixes>, packet: Packet): void {
  for (const fix of proposal.fixes) {
    const fixed = generateRuleset(applyEdit(config, fix.edit));
    expect(createEvaluator(fixed).evaluate(packet).verdict, fix.description).toBe('pass');
    expect(fix.verified.verdict).toBe('pass');
  }
}

describe('proposeFixes', () => {
  it('a blocked flow: adding the source to the alias of a pass rule ranks before a new rule, then the disabled rule that opens more', () => {
    const config = baseConfig({
      aliases: [admins],
      rules: [sshForAdmins, toWan('22', { disabled: true, descr: 'ssh for all', tracker: '101' })],
    });
    const proposal = proposeFixes(config, ssh);
    expect(proposal.verdict).toBe('block');
    expect(proposal.rule?.descr).toBe('Default deny rule IPv4');
    expect(proposal.fixes.map((f) => [f.edit.kind, f.opens.flows, f.opens.beyond])).toEqual([
      ['add-to-alias', '1', '0'],
      ['insert-rule', '1', '0'],
      // Every source but private, bogon and own networks: pfSense's WAN blocks keep those out.
      ['enable-rule', expect.stringMatching(/^\d{10}$/), expect.stringMatching(/^\d{10}$/)],
    ]);
    expect(proposal.fixes[0]?.edit).toEqual({
      kind: 'add-to-alias',
      alias: 'ssh_admins',
      address: '8.8.8.8',
      side: 'source',
      rule: { tab: 'wan', position: 1, tracker: '100', descr: 'ssh for admins' },
    });
    expect(proposal.fixes[0]?.description).toBe(
      'add 8.8.8.8 to alias ssh_admins (used as source by pass rule wan #1 "ssh for admins")',
    );
    expect(proposal.fixes[0]?.verified.rule?.tracker).toBe('100');
    expect(proposal.fixes[0]?.opens.regions).toEqual([
      expect.objectContaining({ source: ['8.8.8.8/32'], destination: ['85.10.20.2/32'], destinationPorts: ['22'] }),
    ]);
    expect(proposal.fixes[2]?.edit).toMatchObject({ kind: 'enable-rule', tab: 'wan', position: 2, tracker: '101' });
    expect(BigInt(proposal.fixes[2]?.opens.flows ?? '0')).toBeGreaterThan(3_000_000_000n);
    expect(proposal.note).toBeNull();
    expectVerified(config, proposal, ssh);
  });

  it('a tab block rule: the new pass rule goes just above it, exactly for the flow', () => {
    const config = baseConfig({
      rules: [
        toWan('80', { descr: 'web' }),
        toWan('1-1024', { type: 'reject', descr: 'no low ports' }),
        toWan('22', { descr: 'ssh (shadowed)' }),
      ],
    });
    const proposal = proposeFixes(config, ssh);
    expect(proposal.verdict).toBe('reject');
    expect(proposal.fixes).toHaveLength(1);
    const [fix] = proposal.fixes;
    expect(fix?.edit).toMatchObject({
      kind: 'insert-rule',
      tab: 'wan',
      position: 2,
      rule: {
        type: 'pass',
        interface: 'wan',
        protocol: 'tcp',
        source: { kind: 'address', value: '8.8.8.8' },
        destination: { kind: 'address', value: '85.10.20.2', port: '22' },
      },
    });
    expect(fix?.opens).toMatchObject({ flows: '1', beyond: '0', uncertain: 0 });
    const edited = applyEdit(config, fix?.edit as Parameters<typeof applyEdit>[1]);
    expect(edited.rules.map((r) => r.descr)).toEqual([
      'web',
      'Allow tcp 8.8.8.8 to 85.10.20.2 port 22',
      'no low ports',
      'ssh (shadowed)',
    ]);
    expectVerified(config, proposal, ssh);
  });

  it('an outbound packet gets a quick floating rule; a non-SYN packet a rule without the implicit flags', () => {
    const config = baseConfig({ rules: [userRule({ floating: true, quick: true, direction: 'out', interface: 'wan', type: 'block' })] });
    const out: Packet = { ...ssh, direction: 'out', src: '85.10.20.2', dst: '8.8.8.8', tcpFlags: 'A' };
    const proposal = proposeFixes(config, out);
    expect(proposal.fixes[0]?.edit).toMatchObject({
      kind: 'insert-rule',
      tab: 'floating',
      position: 1,
      rule: { floating: true, quick: true, direction: 'out', tcpflagsAny: true },
    });
    expectVerified(config, proposal, out);
  });

  it('a packet that already passes needs no fix', () => {
    const config = baseConfig({ aliases: [{ ...admins, entries: ['8.8.8.8'] }], rules: [sshForAdmins] });
    const proposal = proposeFixes(config, ssh);
    expect(proposal).toMatchObject({ verdict: 'pass', fixes: [], note: 'the packet already passes; nothing to fix' });
  });

  it('a system rule before every user rule (a private source on a WAN that blocks them): no fix, and why', () => {
    const config = baseConfig({ rules: [toWan('22')] });
    const proposal = proposeFixes(config, { ...ssh, src: '10.1.2.3' });
    expect(proposal.verdict).toBe('block');
    expect(proposal.fixes).toEqual([]);
    expect(proposal.note).toMatch(/^blocked by the system rule "Block private networks from WAN.*no rule edit passes it/);
  });

  it('run-time contents: an unknown verdict is fixed only by edits that pass whatever the contents', () => {
    const config = baseConfig({
      aliases: [{ name: 'drop', type: 'urltable', entries: [], descr: '', urls: ['https://example.net/drop.txt'] }],
      rules: [toWan('22', { type: 'block', source: { kind: 'address', value: 'drop', not: false } }), toWan('22')],
    });
    const proposal = proposeFixes(config, ssh);
    expect(proposal.verdict).toBe('unknown');
    expect(proposal.fixes.map((f) => [f.edit.kind, f.edit.kind === 'insert-rule' ? f.edit.position : null])).toEqual([
      ['insert-rule', 1],
    ]);
    expectVerified(config, proposal, ssh);
  });

  it('a bad packet is a PacketError naming the field; an edit naming a missing rule or alias throws', () => {
    const config = baseConfig();
    expect(() => proposeFixes(config, { ...ssh, interface: 'dmz' })).toThrow(PacketError);
    expect(() => proposeFixes(config, { ...ssh, src: 'nope' })).toThrow(PacketError);
    expect(() => applyEdit(config, { kind: 'enable-rule', tab: 'wan', position: 3, tracker: null, descr: '' })).toThrow(
      'no rule wan #3',
    );
    expect(() =>
      applyEdit(config, {
        kind: 'add-to-alias',
        alias: 'x',
        address: '1.2.3.4',
        side: 'source',
        rule: { tab: 'wan', position: 1, tracker: null, descr: '' },
      }),
    ).toThrow('no alias "x"');
  });
});
