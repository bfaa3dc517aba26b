/**
 * @module The slow, obviously-correct dead-rule relation the lint's indexed search must agree with: for every
 * decisive pf rule and every (leaf, direction, family) cell it applies to, scan ALL other rules for one that
 * certainly covers it under pf's closed form (first matching quick rule, else last match; pf-semantics.md §2.1).
 * No buckets, no indexes. Used by the equivalence test and as the benchmark baseline. Pure.
 */
import type { PfRuleset } from '../model.ts';
import { Cover, covers, type RuleSpace, SpaceBuilder, subjectKey } from './space.ts';

/** Indexes of the decisive pf rules that never decide a packet: every cell certainly covered by another rule. */
export function referenceDeadRules(ruleset: PfRuleset): Set<number> {
  const builder = new SpaceBuilder(ruleset);
  const spaces = ruleset.rules.map((rule) => builder.build(rule));
  const dead = new Set<number>();
  for (const r of spaces) {
    if (r.rule.action === 'match') continue;
    let cells = 0;
    let covered = 0;
    for (const family of [4, 6] as const) {
      if (r.families[family] === null) continue;
      for (const leaf of r.leaves) {
        for (const direction of [1, 2]) {
          if ((r.directions & direction) === 0) continue;
          cells++;
          const pre = (q: RuleSpace) =>
            q.rule.action !== 'match' &&
            subjectKey(q.rule) !== subjectKey(r.rule) &&
            (q.directions & direction) !== 0 &&
            q.leaves.includes(leaf) &&
            (r.rule.quick
              ? q.rule.quick && q.rule.index < r.rule.index
              : q.rule.quick || q.rule.index > r.rule.index) &&
            covers(q, r, family) === Cover.Certain;
          if (spaces.some(pre)) covered++;
        }
      }
    }
    // A rule that can match nothing (no cell) never decides either.
    if (covered === cells) dead.add(r.rule.index);
  }
  return dead;
}
