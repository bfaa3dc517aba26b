/**
 * @module The compiled nftables ruleset on a real kernel (issue 12 item 8, docs/adr/0157-nft-compilation.md):
 * seeded random pf rulesets and forwarded packets; the kernel's verdict for every packet sent through the veth
 * pairs of a private router namespace must equal the engine's, replies of delivered flows included (states).
 * `NFT_DIFF_SEED` / `NFT_DIFF_RULESETS` change the seed and the size; the seed is printed first. Skips, saying
 * why, when not root or without nft/ip/conntrack/python3 — CI runs as root with all of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileToNft } from '../../src/policy/compile/nft.ts';
import { randomCases, runDifferential } from './nft-kernel/differential.ts';
import { KernelLab, kernelSkipReason } from './nft-kernel/harness.ts';

const skipReason = kernelSkipReason();
const SEED = Number(process.env.NFT_DIFF_SEED ?? 20261207);
const RULESETS = Number(process.env.NFT_DIFF_RULESETS ?? 40);

describe.skipIf(skipReason !== null)(`nftables differential on the kernel${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let lab: KernelLab;
  beforeAll(async () => {
    lab = await KernelLab.open();
  }, 30_000);
  afterAll(() => lab?.close());

  it('the kernel agrees with the engine on every packet of seeded random rulesets', async () => {
    console.log(`nft differential: seed ${SEED}, ${RULESETS} rulesets`);
    const report = await runDifferential(lab, randomCases(SEED, RULESETS, 30));
    console.log(
      `nft differential: ${report.agreed}/${report.packets} packets agree (${report.replies} replies; ${report.rerun} cases rerun) over ` +
        `${report.rulesets} rulesets; kernel verdicts ${JSON.stringify(report.verdicts)}, IPv6 ${JSON.stringify(report.ipv6)}, to the router ${JSON.stringify(report.local)}, ` +
        `from the router (output hook) ${JSON.stringify(report.fromRouter)}`,
    );
    expect(report.disagreements.slice(0, 5)).toEqual([]);
    expect(report.agreed).toBe(report.packets);
    // The run exercises every outcome, replies (states) included.
    expect(report.packets).toBeGreaterThan(RULESETS * 20);
    expect(report.replies).toBeGreaterThan(0);
    for (const verdict of ['pass', 'block', 'reject'] as const) {
      expect(report.verdicts[verdict]).toBeGreaterThan(0);
      expect(report.ipv6[verdict]).toBeGreaterThan(0);
      expect(report.local[verdict]).toBeGreaterThan(0);
      expect(report.fromRouter[verdict]).toBeGreaterThan(0);
    }
  }, 120_000);

  it('a reply deciding a keep-state pass gets a state of its own, which does not pass it on the other leg', async () => {
    // Found by the random run: the original passes both legs by the default pass (no state); its reply passes `in`
    // on lan by a keep-state rule and must still meet the `block out` on wan (pf keys states by direction).
    const packet = {
      id: 0, local: false, ingress: 'wan', egress: 'lan', proto: 17, src: '10.2.0.2', dst: '10.1.0.2', sport: 22, dport: 443,
      flags: 0, seq: 0, ack: 0, icmpType: 0, icmpId: 0,
    } as const;
    const report = await runDifferential(lab, [
      {
        lines: ['pass quick on !wan proto udp from any port 443 to any port 22', 'block out proto udp from 10.1.0.2 to 10.2.0.0/24'],
        tables: { ta: [], tb: [] },
        packets: [{ ...packet }],
      },
    ]);
    expect(report.replies).toBe(1);
    expect(report.verdicts).toEqual({ pass: 1, block: 1, reject: 0 });
    expect(report.disagreements).toEqual([]);
  }, 30_000);

  it('catches a compiler that gets the order wrong (non-quick rules not reversed)', async () => {
    // A deliberately wrong compiler: first match in pf order, which is not pf's last-match semantics.
    const wrong = (rs: Parameters<typeof compileToNft>[0]) =>
      compileToNft({ ...rs, rules: rs.rules.map((rule) => ({ ...rule, quick: true })) }, { table: 'pcdiff' }).script;
    const report = await runDifferential(lab, randomCases(SEED, 8, 30), wrong);
    expect(report.disagreements.length).toBeGreaterThan(0);
  }, 60_000);

  it("catches a compiler whose output hook skips pf's out rules (the router's own packets)", async () => {
    const noOutput = (rs: Parameters<typeof compileToNft>[0]) => {
      const script = compileToNft(rs, { table: 'pcdiff' }).script;
      const jump = script.indexOf('jump pf_out', script.indexOf('hook output'));
      return `${script.slice(0, jump)}accept${script.slice(jump + 'jump pf_out'.length)}`;
    };
    const report = await runDifferential(lab, randomCases(SEED, 8, 30), noOutput);
    expect(report.disagreements.length).toBeGreaterThan(0);
    expect(report.disagreements.every((d) => d.packet.startsWith('router -> '))).toBe(true);
  }, 60_000);
});
