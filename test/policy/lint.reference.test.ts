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
    const cellless = new Set(
      lintRuleset(ruleset)
        .filter((f) => f.code === 'LINT005')
        .flatMap((f) => f.ruleIndexes),
    );
    const members = new Map<string, number[]>();
    for (const rule of ruleset.rules) {
      if (rule.origin.kind !== 'user' || rule.action === 'match') continue;
      members.set(subjectKey(rule), [...(members.get(subjectKey(rule)) ?? []), rule.index]);
    }
    const expected = [...members.values()]
      // All matchable members dead (a subject matching nothing at all is LINT005, not shadowed).
      .filter((indexes) => indexes.every((i) => dead.has(i)) && !indexes.every((i) => cellless.has(i)))
      .map((indexes) => indexes[0])
      .sort((a, b) => (a ?? 0) - (b ?? 0));
    const reported = lintRuleset(ruleset)
      .filter((f) => (f.code === 'LINT001' || f.code === 'LINT002') && f.rule.kind === 'user')
      .map((f) => f.rule.index);
    expect(expected.length).toBeGreaterThan(100);
    expect(reported).toEqual(expected);
  });
});
