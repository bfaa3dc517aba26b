/**
 * @module `portcullis policy lint --config config.xml [--json]`: lint findings grouped by severity with the why
 * (or `{findings, warnings}` as JSON). Exit code: 0 when no finding has severity `error`, 1 otherwise, 2 when the
 * config cannot be read or is invalid (docs/policy-lint.md).
 */
import type { Command } from '@commander-js/extra-typings';
import { describeRef, groupBySeverity, type LintFinding, lintReport } from '../../policy/lint.ts';
import { loadPolicyOrExit } from './policy.ts';

const HEADINGS = { error: 'Errors', warning: 'Warnings', info: 'Notes' } as const;

/** Adds the `lint` subcommand to `portcullis policy`. */
export function registerPolicyLint(policy: Command): void {
  policy
    .command('lint')
    .description(
      'find rules that never decide a packet (shadowed, redundant), reject on WAN, non-quick floating rules ' +
        'overriding defaults, missing aliases and disabled rules; exit 1 when any finding is an error',
    )
    .requiredOption('--config <file>', 'pfSense or OPNsense config.xml backup, or a JSON policy model')
    .option('--json', 'print {"findings": [...], "warnings": [...]} (warnings = import/generation warnings)')
    .action((options) => {
      const { config, ruleset } = loadPolicyOrExit(options.config);
      const report = lintReport(ruleset, config);
      const { findings } = report;
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatFindings(findings));
      process.exitCode = findings.some((f) => f.severity === 'error') ? 1 : 0;
    });
}

/** Human output: one block per severity, each finding with its rule, the rules involved and why. */
function formatFindings(findings: readonly LintFinding[]): string {
  if (findings.length === 0) return 'No findings.\n';
  const lines: string[] = [];
  for (const [severity, group] of groupBySeverity(findings)) {
    lines.push(`${HEADINGS[severity]} (${group.length})`, '');
    for (const f of group) {
      const tracker = f.rule.tracker ? ` [tracker ${f.rule.tracker}]` : '';
      lines.push(`  ${f.code} ${f.kind}: ${describeRef(f.rule)}${tracker}`);
      if (f.related.length > 0) {
        const related = [...new Set(f.related.map((r) => describeRef(r)))];
        lines.push(`    involves: ${related.join(', ')}`);
      }
      lines.push(`    why: ${f.why}`, '');
    }
  }
  const counts = groupBySeverity(findings)
    .map(([severity, group]) => `${group.length} ${severity}${group.length === 1 ? '' : 's'}`)
    .join(', ');
  lines.push(`${findings.length} finding${findings.length === 1 ? '' : 's'}: ${counts}`);
  return `${lines.join('\n')}\n`;
}
