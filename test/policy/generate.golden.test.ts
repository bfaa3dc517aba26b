/**
 * @module Golden rulesets for the fixture configs: the printed pf text and the warnings, compared byte for byte.
 * `UPDATE_GOLDEN=1 npx vitest run test/policy/generate.golden.test.ts` rewrites them; a mismatch writes a
 * gitignored `<name>.actual` next to the golden file so the two can be diffed. Each case also asserts the lines
 * that matter most, so a careless golden update cannot hide a semantic change.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/policy/import/index.ts';
import { printRuleset } from '../../src/policy/print.ts';

const here = (path: string) => new URL(path, import.meta.url);

function matchGolden(name: string, actual: string): void {
  const golden = here(`./golden/${name}`);
  const sidecar = here(`./golden/${name}.actual`);
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(golden, actual);
    rmSync(sidecar, { force: true });
    return;
  }
  const expected = readFileSync(golden, 'utf8').replaceAll('\r\n', '\n');
  if (expected !== actual) writeFileSync(sidecar, actual);
  else rmSync(sidecar, { force: true });
  expect(actual, `golden ${name} differs; see ${name}.actual`).toBe(expected);
}

const cases: Array<[string, string[]]> = [
  [
    'default-2.7',
    [
      'block in log inet all ridentifier 1000000103 label "Default deny rule IPv4"',
      'pass in quick on em1 proto tcp from any to (em1) port { 443 80 } ridentifier 10001 keep state label "anti-lockout rule"',
      'pass in quick on $LAN inet from $LAN__NETWORK to any ridentifier 0100000101 keep state label "USER_RULE: Default allow LAN to any rule" label "id:0100000101"',
    ],
  ],
  [
    'office-2.7',
    [
      'pass in quick on $OpenVPN inet from any to $LAN__NETWORK ridentifier 1700000300 keep state label "USER_RULE: VPN users to LAN" label "id:1700000300"',
      'block return in quick on $WAN reply-to ( igb0 85.10.20.1 ) inet proto tcp from any to 85.10.20.2 port $ADMINPORTS ridentifier 1700000401 flags S/SA label "USER_RULE: Reject admin ports on WAN" label "id:1700000401"',
      "# Unresolvable source alias 'NOSUCHALIAS' for rule 'Refers to a missing alias'",
    ],
  ],
  [
    'ha-pair-2.7',
    [
      'block in quick proto carp from (self) to any ridentifier 1000000201',
      'pass quick proto carp from any to any ridentifier 1000000202 no state',
      'match in on ix1 inet from $LAN__NETWORK to any tag "FROMLAN" ridentifier 1720000001 label "USER_RULE: Tag LAN traffic" label "id:1720000001"',
    ],
  ],
  [
    'nat-2.7',
    [
      'binat on igb0 inet from 192.168.1.20 to any -> 85.10.20.5',
      'no nat on $WAN inet from 192.168.1.0/24 to 198.18.0.0/15 # VPN provider without NAT',
      'nat on $WAN inet from 192.168.1.128/25 to any -> 85.10.20.6/32 port 1024:65535  # Guests via .6',
      'rdr on igb0 inet proto tcp from any to 85.10.20.2 port 8443 -> 192.168.1.10 port 443',
      'rdr on { igb1 } inet proto tcp from any to 85.10.20.2 port 8443 -> 192.168.1.10 port 443',
      'rdr pass on igb0 inet proto tcp from 81.2.69.142 to 85.10.20.2 port 2222 -> 192.168.1.11 port 22',
    ],
  ],
  [
    'wan-only-2.7',
    [
      'block in log quick inet6 all ridentifier 1000000003 label "Block all IPv6"',
      'pass in quick on vtnet0 proto tcp from any to (vtnet0) port { 80 22 } ridentifier 10001 keep state label "anti-lockout rule"',
    ],
  ],
];

describe('golden rulesets', () => {
  it.each(cases)('%s', (name, keyLines) => {
    const { ruleset } = loadPolicy(readFileSync(here(`./fixtures/${name}.xml`), 'utf8'));
    const text = printRuleset(ruleset);
    for (const line of keyLines) expect(text.split('\n')).toContain(line);
    matchGolden(`${name}.pf`, text);
    const warnings = ruleset.warnings
      .map((w) => `${w.severity} ${w.code} ${w.element}: ${w.message}`)
      .join('\n');
    matchGolden(`${name}.warnings.txt`, `${warnings}\n`);
  });
});
