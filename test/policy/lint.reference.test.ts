/**
 * @module The indexed lint (buckets, protocol lists, interval-tree address index) agrees with the naive reference
 * (`src/policy/lint/reference.ts`, every rule against every rule in every cell) on which GUI rules never decide a
 * packet — on seeded synthetic configs large enough that the indexes are used (docs/adr/0082).
 */
import { describe, expect, it } from 'vitest';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { referenceDeadRules } from '../../src/policy/lint/reference.ts';
import { subjectKey } from '../../src/policy/lint/space.ts';
import { lintRuleset } from '../../src/policy/lint.ts';
import { syntheticConfig } from './fixtures/synthetic.ts';

describe('indexed lint = naive reference', () => {
  it.each([
    ['seed 1, 1,200 rules, 8 interfaces', { seed: 1, rules: 1200, aliasCidrs: 20_000 }],
    [
      'seed 7, 900 rules, 3 interfaces (bigger buckets)',
      { seed: 7, rules: 900, interfaces: 3, aliasCidrs: 5_000 },
    ],
  ])('%s', (_name, options) => {
    const ruleset = generateRuleset(syntheticConfig(options));
    const dead = referenceDeadRules(ruleset);
    const findings = lintRuleset(ruleset);
    const cellless = new Set(findings.filter((f) => f.code === 'LINT005').flatMap((f) => f.ruleIndexes));
    const members = new Map<string, number[]>();
    for (const rule of ruleset.rules) {
      if (rule.origin.kind !== 'user' || rule.action === 'match') continue;
      members.set(subjectKey(rule), [...(members.get(subjectKey(rule)) ?? []), rule.index]);
    }
    // GUI rules whose matchable pf rules are all dead (matching nothing at all is LINT005), with their deciders.
    const expected = [...members.values()]
      .filter((indexes) => indexes.every((i) => dead.has(i)) && !indexes.every((i) => cellless.has(i)))
      .map((indexes) => ({
        index: indexes[0],
        deciders: [...new Set(indexes.flatMap((i) => dead.get(i) ?? []))].sort((a, b) => a - b),
      }));
    const reported = findings
      .filter((f) => (f.code === 'LINT001' || f.code === 'LINT002') && f.rule.kind === 'user')
      .map((f) => ({
        index: f.rule.index,
        deciders: f.related.map((r) => r.index).sort((a, b) => (a ?? 0) - (b ?? 0)),
      }));
    expect(expected.length).toBeGreaterThan(100);
    expect(reported).toEqual(expected);
  });
});
