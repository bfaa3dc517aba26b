/**
 * @module The nftables compiler without a kernel (docs/adr/0157-nft-compilation.md): golden scripts for the fixture
 * configs (Aerleon-style reference outputs: the compiled text, or the refusal listing every unsupported use), the
 * chain order that turns pf's last-match into first-match, reject answers per protocol, TCP flags on TCP only, and
 * the CLI. `UPDATE_GOLDEN=1` rewrites the golden files. The kernel itself is in nft-kernel.test.ts.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { compileToNft, NftCompileError } from '../../src/policy/compile/nft.ts';
import { loadPolicy } from '../../src/policy/import/index.ts';
import type { PfNatRule } from '../../src/policy/model.ts';
import { r, ruleset } from './evaluate-helpers.ts';
import { kernelSkipReason } from './nft-kernel/harness.ts';

const here = (path: string) => new URL(path, import.meta.url);
const fixture = (name: string) => fileURLToPath(here(`./fixtures/${name}`));

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

function load(name: string) {
  return loadPolicy(readFileSync(fixture(`${name}.xml`), 'utf8')).ruleset;
}

/** Lines of one chain of a script, without the pf state checks at its top. */
function chainRules(script: string, chain: string): string[] {
  const body = script.split(`\tchain ${chain} {\n`)[1]?.split('\n\t}')[0] ?? '';
  return body.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.includes('"pf state"'));
}

describe('golden nftables output for the fixture configs', () => {
  it('default-2.7 compiles with its automatic outbound NAT left to the host', () => {
    const compiled = compileToNft(load('default-2.7'), { leaveOut: ['nat'] });
    matchGolden('default-2.7.nft', compiled.script);
    expect(compiled.script).toContain(
      'iifname "em1" meta nfproto ipv4 ip saddr @LAN__NETWORK_v4 meta l4proto tcp tcp flags & (syn | ack) == syn goto pf_keep_in comment "pf57 lan #1: Default allow LAN to any rule"',
    );
    // The non-quick default deny is the last rule of each leg: every other match beats it.
    expect(chainRules(compiled.script, 'pf_in').at(-1)).toContain('Default deny rule IPv4');
    expect(chainRules(compiled.script, 'pf_out').at(-1)).toContain('Default deny rule IPv4');
    expect(compiled.runtimeSets).toContain('if_wan_address_v4');
    expect(compiled.script).toContain('# Left out as asked (the host\'s job): nat (1 use).');
  });

  it('wan-only-2.7 compiles with NAT and policy routing left to the host; its WAN user rules stay', () => {
    const compiled = compileToNft(load('wan-only-2.7'), { leaveOut: ['nat', 'route-to', 'reply-to'] });
    matchGolden('wan-only-2.7.nft', compiled.script);
    expect(compiled.script).toContain('nat (1 use), route-to (1 use), reply-to (2 uses)');
    expect(compiled.script).toMatch(/comment "pf\d+ wan #1: SSH from the office"/);
  });

  it.each(['default-2.7', 'wan-only-2.7', 'nat-2.7', 'office-2.7', 'ha-pair-2.7'])(
    '%s as it is is refused, every unsupported use listed',
    (name) => {
      let error: unknown;
      try {
        compileToNft(load(name));
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(NftCompileError);
      matchGolden(`${name}.nft-refused.txt`, `${(error as Error).message}\n`);
    },
  );

  it.runIf(kernelSkipReason() === null)('the golden script is accepted by nft (checked in a private namespace)', () => {
    const ns = `pcnftc-${process.pid}`;
    spawnSync('ip', ['netns', 'add', ns]);
    try {
      const check = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', fileURLToPath(here('./golden/default-2.7.nft'))], {
        encoding: 'utf8',
      });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });
});

describe('compileToNft', () => {
  it('orders each leg as quick rules in order, then non-quick rules reversed (docs/reference/pf-semantics.md §4.2)', () => {
    const rs = ruleset([
      r('block in all label "r1"'),
      r('pass in proto udp from any to any port 9000:9010 no state label "r2"'),
      r('block in quick proto udp from any to any port 9005 label "r3"'),
      r('block in proto udp from any to any port 9001 label "r4"'),
    ]);
    const rules = chainRules(compileToNft(rs).script, 'pf_in');
    expect(rules.map((l) => /comment "pf\d+ \S+ #?\d*:? ?(r\d)"/.exec(l)?.[1])).toEqual(['r3', 'r4', 'r2', 'r1']);
    expect(chainRules(compileToNft(rs).script, 'pf_out')).toEqual([]);
  });

  it('rejects as pf block return: RST for TCP, nothing for ICMP, port unreachable otherwise (§2.6)', () => {
    const any = chainRules(compileToNft(ruleset([r('reject in quick on lan from any to 10.0.0.0/8')])).script, 'pf_in');
    expect(any).toEqual([
      expect.stringMatching(/^iifname "em1" meta nfproto ipv4 ip daddr 10\.0\.0\.0\/8 meta l4proto tcp meta mark set .* reject with tcp reset/),
      expect.stringMatching(/meta l4proto \{ icmp, ipv6-icmp \} drop/),
      expect.stringMatching(/ip daddr 10\.0\.0\.0\/8 meta mark set meta mark \| 0x04000000 reject with icmpx type port-unreachable/),
    ]);
    const icmp = chainRules(compileToNft(ruleset([r('reject quick inet proto icmp from any to any')])).script, 'pf_in');
    expect(icmp).toEqual([expect.stringMatching(/meta l4proto icmp drop/)]);
  });

  it('tests TCP flags on TCP packets only: a rule without proto keeps matching UDP', () => {
    const rules = chainRules(compileToNft(ruleset([r('pass in quick all')])).script, 'pf_in');
    expect(rules).toEqual([
      expect.stringMatching(/^meta l4proto tcp tcp flags & \(syn \| ack\) == syn goto pf_keep_in/),
      expect.stringMatching(/^meta l4proto != tcp goto pf_keep_in/),
    ]);
  });

  it('compiles tables to per-family sets (merged intervals) and negation to !=; an impossible rule to nothing', () => {
    const rs = ruleset(
      [r('block in quick from !<mixed> to any'), r('pass in quick from !any to any'), r('pass in quick inet6 from 10.0.0.0/8 to any')],
      { tables: { mixed: ['10.0.0.0/25', '10.0.0.128/25', '10.0.1.7', '2001:db8::/64'] } },
    );
    const { script, counts } = compileToNft(rs);
    expect(script).toContain('elements = { 10.0.0.0/24, 10.0.1.7 }');
    expect(script).toContain('ip6 saddr != @mixed_v6');
    expect(counts.pfRules).toBe(1);
    // Table names become valid, distinct nft identifiers.
    const odd = compileToNft(
      ruleset([r('block in quick from <a-b> to <a_b>'), r('block in quick from <9x> to any')], {
        tables: { 'a-b': ['10.0.0.1'], a_b: ['10.0.0.2'], '9x': ['10.0.0.3'] },
      }),
    ).script;
    expect(odd).toContain('ip saddr @a_b_v4 ip daddr @a_b_2_v4');
    expect(odd).toContain('ip saddr @t_9x_v4');
  });

  it('refuses every unsupported use at once, naming each rule', () => {
    const nat: PfNatRule = {
      index: 0, kind: 'nat', no: false, pass: false, on: { interfaces: ['wan'], negate: false }, af: 'inet',
      protocols: null, from: { match: { kind: 'any' }, negate: false }, fromPort: null,
      to: { match: { kind: 'any' }, negate: false }, toPort: null, target: null, targetPort: null, staticPort: false,
      origin: { kind: 'outbound', descr: 'x' }, text: 'nat on em0 -> (em0)',
    };
    const rs = {
      ...ruleset(
        [
          { ...r('pass in quick on lan all tag T'), routing: 'route-to ( em0 198.51.100.1 )' },
          r('pass in quick all tagged T schedule work'),
          { ...r('pass out all'), state: 'modulate' as const, unmodelledOptions: ['os "Linux"'], stateOptions: 'max 10' },
          r('pass in quick proto tcp from any to any port $DYNPORTS'),
        ],
        { statePolicy: 'if-bound' },
      ),
      nat: [nat],
    };
    let error: NftCompileError | undefined;
    try {
      compileToNft(rs);
    } catch (caught) {
      error = caught as NftCompileError;
    }
    expect(error).toBeInstanceOf(NftCompileError);
    expect(error?.unsupported.map((u) => u.feature)).toEqual([
      'state-policy if-bound', 'nat', 'tag', 'route-to', 'tagged', 'schedule', 'option', 'modulate state',
      'state options', 'run-time port alias',
    ]);
    expect(error?.message).toContain('10 unsupported uses');
    expect(error?.message).toContain('(nat, route-to can be left out to the host: leave out nat,route-to)');
    // Leaving out what changes only where packets go still refuses what changes verdicts.
    expect(() => compileToNft(rs, { leaveOut: ['nat', 'route-to'] })).toThrow(/8 unsupported uses/);
    expect(() => compileToNft(ruleset([]), { table: 'bad name' })).toThrow(/invalid nft table name/);
  });
});

describe('portcullis policy compile', () => {
  const run = promisify(execFile);
  const bin = fileURLToPath(here('../../bin/portcullis.js'));
  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [bin, 'policy', 'compile', ...args]);
      return { code: 0, stdout, stderr };
    } catch (error) {
      return error as { code: number; stdout: string; stderr: string };
    }
  }

  it('writes the script to -o with devices renamed, and exits 1 listing every refusal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcnft-'));
    try {
      const out = join(dir, 'rules.nft');
      const ok = await cli('--target', 'nft', '--config', fixture('default-2.7.xml'), '--leave-out', 'nat', '--device', 'lan=eth1', '-o', out);
      expect(ok.code).toBe(0);
      expect(ok.stderr).toContain('note: sets filled at run time by the host');
      expect(readFileSync(out, 'utf8')).toContain('iifname "eth1"');
      const refused = await cli('--target', 'nft', '--config', fixture('wan-only-2.7.xml'));
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain('error: cannot compile to nftables: 4 unsupported uses');
      expect(refused.stderr).toContain('reply-to: user rule 2 on the wan tab "Ping the firewall"');
      const bad = await cli('--target', 'nft', '--config', fixture('default-2.7.xml'), '--device', 'lan');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('invalid --device lan');
      const leave = await cli('--target', 'nft', '--config', fixture('default-2.7.xml'), '--leave-out', 'tag');
      expect(leave.code).toBe(2);
      expect(leave.stderr).toContain('invalid --leave-out tag');
      const target = await cli('--target', 'iptables', '--config', fixture('default-2.7.xml'));
      expect(target.code).not.toBe(0);
      expect(target.stderr).toMatch(/iptables/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
