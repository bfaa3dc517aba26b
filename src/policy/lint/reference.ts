/**
 * @module The slow, obviously-correct dead-rule relation the lint's indexed search must agree with: for every
 * decisive pf rule and every (leaf, direction, family) cell it applies to, scan ALL other rules for the one that
 * certainly covers it and decides instead, by pf's closed form (docs/reference/pf-semantics.md §2.1): for a quick rule the
 * first earlier quick coverer; for a non-quick rule the first quick coverer anywhere, else the last later
 * non-quick coverer. No buckets, no indexes. Used by the equivalence test and as the benchmark baseline. Pure.
 */
import type { PfRuleset } from '../model.ts';
import { Cover, covers, type RuleSpace, SpaceBuilder, subjectKey } from './space.ts';

/**
 * Decisive pf rules that never decide a packet (every cell certainly covered by another GUI rule's pf rule, or
 * no cell at all), each with the indexes of the rules that decide its cells instead (ascending).
 */
export function referenceDeadRules(ruleset: PfRuleset): Map<number, number[]> {
  const builder = new SpaceBuilder(ruleset);
  const spaces = ruleset.rules.map((rule) => builder.build(rule));
  const dead = new Map<number, number[]>();
  for (const r of spaces) {
    if (r.rule.action === 'match') continue;
    const deciders = new Set<number>();
    let open = false;
    for (const family of [4, 6] as const) {
      if (r.families[family] === null) continue;
      for (const leaf of r.leaves) {
        for (const direction of [1, 2]) {
          if ((r.directions & direction) === 0) continue;
          const coverers = spaces.filter(
            (q: RuleSpace) =>
              q.rule.action !== 'match' &&
              subjectKey(q.rule) !== subjectKey(r.rule) &&
              (q.directions & direction) !== 0 &&
              q.leaves.includes(leaf) &&
              covers(q, r, family) === Cover.Certain,
          );
          const quick = coverers.find((q) => q.rule.quick && (!r.rule.quick || q.rule.index < r.rule.index));
          const later = coverers.filter((q) => !r.rule.quick && !q.rule.quick && q.rule.index > r.rule.index);
          const decider = quick ?? later[later.length - 1];
          if (decider === undefined) open = true;
          else deciders.add(decider.rule.index);
        }
      }
    }
    if (!open)
      dead.set(
        r.rule.index,
        [...deciders].sort((a, b) => a - b),
      );
  }
  return dead;
}
