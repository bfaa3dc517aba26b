/** @module Policy lint: findings (shadowed, redundant, reject on WAN, …) over a generated pf ruleset. Pure, no I/O. */
import type { PfRuleset } from './model.ts';

/** Severity of a lint finding; `error` makes `portcullis policy lint` exit 1. */
export type LintSeverity = 'error' | 'warning' | 'info';

/** A rule named by a finding. */
export interface LintRuleRef {
  index: number;
  tab: string;
  position: number;
  tracker: string | null;
  descr: string;
}

/** One lint finding with a stable code. */
export interface LintFinding {
  code: string;
  severity: LintSeverity;
  rule: LintRuleRef;
  related: LintRuleRef[];
  why: string;
}

/** Lints a generated ruleset (work in progress: the real checks land next). */
export function lintRuleset(_ruleset: PfRuleset): LintFinding[] {
  return [];
}
