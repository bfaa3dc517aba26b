/**
 * OPNsense configurations as they are found in public repositories (test/policy/fixtures/opnsense/real-excerpts.xml
 * names each source with its commit): the parts the hand-written branch-office fixture did not have — an element
 * named `constructor`, a legacy rule without source or destination, one on a comma list of interfaces, `idassoc6`,
 * an assigned WireGuard device, interface networks without an address of the family, and rules naming OPNsense's
 * built-in tables (docs/reference/opnsense-rules.md §2.1, §2.3, §4.4, docs/adr/0235).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEvaluator, type EvaluationResult } from '../../src/policy/evaluate.ts';
import { parseRuntimeFacts, type RuntimeFacts } from '../../src/policy/facts.ts';
import { importPolicyText, loadPolicy } from '../../src/policy/import/index.ts';
import { parsePacketLine } from '../../src/policy/packet.ts';
import { printRuleset } from '../../src/policy/print.ts';
import { PolicyInputError } from '../../src/policy/warnings.ts';

const fixture = readFileSync(new URL('./fixtures/opnsense/real-excerpts.xml', import.meta.url), 'utf8');

function trace(line: string, facts?: RuntimeFacts, text = fixture): EvaluationResult {
  const { ruleset } = loadPolicy(text, facts === undefined ? {} : { facts });
  return createEvaluator(ruleset).evaluate(parsePacketLine(line));
}

/** `verdict by tab#position "descr"`, `verdict by system "descr"`, or `unknown`. */
function summary(result: EvaluationResult): string {
  if (result.verdict === 'unknown') return 'unknown';
  if (result.rule === null) return `${result.verdict} by ${result.decidedBy}`;
  const by = result.rule.kind === 'user' ? `${result.rule.tab}#${result.rule.position}` : 'system';
  return `${result.verdict} by ${by} "${result.rule.descr}"`;
}

const noBogons = parseRuntimeFacts({ tables: { bogons: [], bogonsv6: [] } });

describe('real OPNsense configurations (docs/adr/0235)', () => {
  it('reads a config with an element named like a JavaScript object key (<constructor>)', () => {
    const { config } = importPolicyText(fixture);
    expect(config.interfaces.map((i) => i.key)).toEqual(['wan', 'lan', 'opt1', 'opt2']);
    expect(config.interfaces.find((i) => i.key === 'lan')?.ipv6.mode).toBe('idassoc6');
    for (const name of ['__proto__', 'prototype', 'toString', 'hasOwnProperty']) {
      const changed = fixture.replace('<constructor>lan</constructor>', `<${name}>lan</${name}>`);
      expect(importPolicyText(changed).config.rules.length).toBe(config.rules.length);
    }
  });

  it('LAN to the internet passes by the MVC default rule; an IPv6 link-local source too (fe80::/10 is added)', () => {
    expect(summary(trace('lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S'))).toBe(
      'pass by lan#1 "Default allow LAN to any rule"',
    );
    expect(summary(trace('lan in tcp [fe80::5]:40000 -> [2001:db8::1]:443 flags S', noBogons))).toBe(
      'pass by lan#2 "Default allow LAN IPv6 to any rule"',
    );
    const text = printRuleset(loadPolicy(fixture).ruleset);
    expect(text).toContain(
      'pass in quick on $LAN inet6 from fe80::/10 to any keep state label "USER_RULE: Default allow LAN IPv6 to any rule"',
    );
    expect(text).toContain('from (mismatch0:network) to any');
  });

  it('a global IPv6 source on the idassoc6 LAN is unknown: the prefix is delegated at run time', () => {
    const result = trace('lan in tcp [2001:db8:1::5]:40000 -> [2001:db8::1]:443 flags S', noBogons);
    expect(result.verdict).toBe('unknown');
    expect(result.explanation).toContain('(mismatch0:network)');
  });

  it('a legacy rule without <source> and <destination> matches any (Rule.php legacyMoveAddressFields)', () => {
    const { ruleset } = loadPolicy(fixture);
    expect(ruleset.warnings.filter((w) => w.code === 'POL006')).toEqual([]);
    expect(summary(trace('wan in tcp 8.8.4.4:40000 -> 8.8.8.9:22 flags S', noBogons))).toBe(
      'pass by wan#1 "Allow WAN traffic"',
    );
    // The downloaded bogons list decides first when it is not given.
    expect(trace('wan in tcp 8.8.4.4:40000 -> 8.8.8.9:22 flags S').verdict).toBe('unknown');
  });

  it('a legacy rule on a comma list of interfaces applies on each that exists, after the MVC rules', () => {
    expect(summary(trace('opt2 in tcp 172.17.0.9:40000 -> 8.8.8.8:23 flags S'))).toBe(
      'block by lan,opt2,nosuchif#1 "Final validation test"',
    );
    // On lan the MVC rule (registered first at the same priority) passes it first.
    expect(summary(trace('lan in tcp 192.168.1.50:40000 -> 8.8.8.8:23 flags S'))).toBe(
      'pass by lan#1 "Default allow LAN to any rule"',
    );
    expect(loadPolicy(fixture).ruleset.warnings.filter((w) => w.code === 'POL002')).toEqual([]);
  });

  it('an assigned WireGuard device without an address has run-time networks; facts settle them', () => {
    const line = 'opt1 in tcp 10.9.0.2:40000 -> 172.17.0.1:443 flags S';
    expect(trace(line).verdict).toBe('unknown');
    const facts = parseRuntimeFacts({ interfaces: { opt1: { ipv4: '10.9.0.1/24' } } });
    expect(summary(trace(line, facts))).toBe(`pass by opt1#1 "WGB to the servers' address"`);
    expect(summary(trace('opt1 in tcp 10.8.0.2:40000 -> 172.17.0.1:443 flags S', facts))).toBe(
      'block by system "Default deny / state violation rule"',
    );
  });

  it('__lan_network names the LAN networks, without the link-local addition', () => {
    expect(summary(trace('opt2 in tcp 192.168.1.7:40000 -> 8.8.8.8:443 flags S'))).toBe(
      'pass by opt2#2 "LAN hosts on the server net"',
    );
    expect(summary(trace('opt2 in tcp 172.17.0.9:40000 -> 8.8.8.8:443 flags S'))).toBe(
      'block by system "Default deny / state violation rule"',
    );
    const missing = fixture.replace('<address>__lan_network</address>', '<address>__opt9_network</address>');
    expect(loadPolicy(missing).ruleset.warnings.map((w) => w.code)).toContain('POL004');
  });

  it('a rule naming bogonsv6 is unknown until facts give the table, then exact', () => {
    // Port 25: not an anti-lockout port, so the run-time (self) of the idassoc6 LAN does not enter the answer.
    const line = 'lan in tcp [fe80::5]:40000 -> [2001:db8::1]:25 flags S';
    const { ruleset } = loadPolicy(fixture);
    expect(ruleset.tables.bogonsv6?.dynamic).toBe(true);
    expect(ruleset.warnings.some((w) => w.code === 'POL012' && w.message.includes('No IPv6 bogons'))).toBe(true);
    // fe80::5 may be in the table (the MVC pass rule comes first, so the rule order decides: MVC pass wins).
    expect(summary(trace(line, parseRuntimeFacts({ tables: { bogons: [], bogonsv6: ['fe80::/10'] } })))).toBe(
      'pass by lan#2 "Default allow LAN IPv6 to any rule"',
    );
    // With the MVC IPv6 rule switched off, the legacy bogons rule decides.
    const legacyFirst = fixture.replace(
      '<enabled>1</enabled>\n            <statetype>keep</statetype>\n            <state-policy/>\n            <sequence>11</sequence>',
      '<enabled>0</enabled>\n            <statetype>keep</statetype>\n            <state-policy/>\n            <sequence>11</sequence>',
    );
    expect(legacyFirst).not.toBe(fixture);
    const blocked = trace(line, parseRuntimeFacts({ tables: { bogons: [], bogonsv6: ['fe80::/10'] } }), legacyFirst);
    expect(summary(blocked)).toBe('block by lan#3 "No IPv6 bogons from LAN"');
    expect(trace(line, noBogons, legacyFirst).verdict).toBe('block');
    // Unknown contents: in the table or not, the packet is blocked; which rule decides stays open.
    const open = trace(line, undefined, legacyFirst);
    expect([open.verdict, open.ruleCertain]).toEqual(['block', false]);
  });

  it('a rule naming virusprot reads the lockout table as empty, as the automatic rule does, and says so (POL047)', () => {
    const { ruleset } = loadPolicy(fixture);
    expect(ruleset.tables.virusprot?.dynamic).toBe(false);
    expect(ruleset.warnings.find((w) => w.code === 'POL047')?.message).toContain('<virusprot>');
    expect(summary(trace('opt2 in tcp 192.168.1.7:40000 -> 8.8.8.8:443 flags S'))).toBe(
      'pass by opt2#2 "LAN hosts on the server net"',
    );
    // Given as a fact, an abuser is blocked by the automatic overload rule, which comes first.
    const facts = parseRuntimeFacts({ tables: { virusprot: ['192.168.1.7/32'] } });
    expect(summary(trace('opt2 in tcp 192.168.1.7:40000 -> 8.8.8.8:443 flags S', facts))).toBe(
      'block by system "virusprot overload table"',
    );
  });

  it('refuses every truncated copy of the config with a line and a column', () => {
    const cuts = [8, 30, 200, Math.floor(fixture.length / 3), Math.floor(fixture.length / 2), fixture.length - 12];
    for (const cut of cuts) {
      const error = (() => {
        try {
          importPolicyText(fixture.slice(0, cut));
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error, `cut at ${cut}`).toBeInstanceOf(PolicyInputError);
      expect((error as PolicyInputError).message, `cut at ${cut}`).toMatch(/at line \d+, column \d+/);
    }
  });
});
