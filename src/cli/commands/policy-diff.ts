/**
 * @module `portcullis policy diff --before A.xml --after B.xml [--json] [--management "<path>"]`: the exact flows a
 * change newly passes or blocks (docs/policy.md "Semantic diff"), grouped by kind, each with the deciding rules
 * before and after; with `--management`, whether Portcullis's own path to the gateway's API still passes.
 * Exit codes: 0 nothing changes, 1 some flows change, 2 bad input, 3 the management path is cut.
 */
import type { Command } from '@commander-js/extra-typings';
import { type DiffChange, type DiffRegion, diffRulesets, type PolicyDiff } from '../../policy/diff/index.ts';
import type { RuleRef } from '../../policy/evaluate.ts';
import {
  checkLockout,
  type LockoutCheck,
  MANAGEMENT_LINE_SYNTAX,
  parseManagementLine,
} from '../../policy/lockout.ts';
import { PacketError } from '../../policy/packet.ts';
import { loadPolicyOrExit, writeWarnings } from './policy.ts';

const HEADINGS: Record<DiffChange, string> = {
  'newly-pass': 'Newly pass',
  'newly-block': 'Newly blocked',
  'reply-changed': 'Block ⇄ reject (reply changes)',
  unknown: 'May change (depends on run-time contents)',
};

/** Addresses shown per region in human output; `--json` has all of them. */
const SHOWN_RANGES = 6;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

/** `lan #3 "Allow web" [tracker 17]`, `system rule "Default deny rule IPv4"`, or pf's default pass. */
export function describeRule(rule: RuleRef | null): string {
  if (rule === null) return 'the default pass (no rule matches)';
  const tracker = rule.tracker ? ` [tracker ${rule.tracker}]` : '';
  const name = rule.descr || rule.label || '';
  return rule.kind === 'user'
    ? `${rule.tab} #${rule.position} "${name}"${tracker}`
    : `system rule "${name}"${tracker}`;
}

export function list(values: readonly string[] | null, any: string): string {
  if (values === null) return any;
  const shown = values.slice(0, SHOWN_RANGES).join(', ');
  return values.length > SHOWN_RANGES ? `${shown}, … (${values.length - SHOWN_RANGES} more)` : shown;
}

/** One region in words: `lan in inet tcp from any port 1-65535 to 10.0.0.5/32 port 443 flags S/SA`. */
function describeRegion(region: DiffRegion): string {
  const protocols = region.protocols === null ? 'any protocol' : region.protocols.join(',');
  const ports = (p: readonly string[] | null) => (p === null ? '' : ` port ${list(p, '')}`);
  const parts = [
    `${region.interface} ${region.direction} ${region.family} ${protocols}`,
    `from ${list(region.source, 'any')}${ports(region.sourcePorts)}`,
    `to ${list(region.destination, 'any')}${ports(region.destinationPorts)}`,
  ];
  if (region.tcpFlags !== null) parts.push(`flags ${region.tcpFlags.text}`);
  if (region.icmpTypes !== null) parts.push(`icmp-type ${region.icmpTypes.join(',')}`);
  return parts.join(' ');
}

function side(label: string, s: DiffRegion['before']): string {
  const uncertain = s.certain ? '' : ' (deciding rule depends on run-time contents; shown: under the known contents)';
  return `${label}: ${s.verdict} by ${describeRule(s.rule)}${uncertain}`;
}

/** Human output: changed rules, then regions grouped by kind, then the lock-out check and a summary. */
function formatDiff(diff: PolicyDiff, lockout: LockoutCheck | null): string {
  const lines: string[] = [];
  const changed = [
    ...diff.changedRules.before.map((r) => `  - ${describeRule(r)} (before)`),
    ...diff.changedRules.after.map((r) => `  + ${describeRule(r)} (after)`),
  ];
  if (changed.length > 0) lines.push('Rules that differ (pf rules outside the alignment):', ...changed, '');
  for (const key of ['onlyBefore', 'onlyAfter'] as const) {
    const keys = diff.interfaces[key];
    if (keys.length > 0) {
      const when = key === 'onlyBefore' ? 'before' : 'after';
      lines.push(`Interfaces only ${when} (not compared): ${keys.join(', ')}`, '');
    }
  }
  for (const change of Object.keys(HEADINGS) as DiffChange[]) {
    const regions = diff.regions.filter((r) => r.change === change);
    if (regions.length === 0) continue;
    lines.push(`${HEADINGS[change]} (${regions.length})`, '');
    for (const region of regions) {
      lines.push(
        `  ${describeRegion(region)}`,
        `    ${side('before', region.before)}`,
        `    ${side('after', region.after)}`,
        '',
      );
    }
  }
  if (diff.regions.length === 0) lines.push('No flow changes verdict.', '');
  if (lockout !== null) {
    lines.push(
      `Management path ${lockout.packet}: ${lockout.status.toUpperCase()}`,
      `  before: ${lockout.before.verdict} by ${describeRule(lockout.before.rule)}`,
      `  after: ${lockout.after.verdict} by ${describeRule(lockout.after.rule)}`,
      '',
    );
  }
  const { counts } = diff;
  lines.push(
    `${diff.regions.length} region${diff.regions.length === 1 ? '' : 's'}: ${counts['newly-pass']} newly pass, ` +
      `${counts['newly-block']} newly blocked, ${counts['reply-changed']} reply changed, ${counts.unknown} may change` +
      (diff.regions.some((r) => r.protocols?.includes('other'))
        ? ` ("other" = every protocol except ${diff.namedProtocols.join(', ')})`
        : ''),
  );
  return `${lines.join('\n')}\n`;
}

/** Adds the `diff` subcommand to `portcullis policy`. */
export function registerPolicyDiff(policy: Command): void {
  policy
    .command('diff')
    .description(
      'exactly which flows a change newly passes or blocks (regions with the deciding rules before and after); ' +
        'exit 0 when nothing changes, 1 when flows change, 3 when --management is cut',
    )
    .requiredOption('--before <file>', 'the configuration before the change (config.xml or JSON model)')
    .requiredOption('--after <file>', 'the configuration after the change (config.xml or JSON model)')
    .option('--management <path>', `Portcullis's path to the gateway's API: ${MANAGEMENT_LINE_SYNTAX}`)
    .option('--json', 'print {"diff": {...}, "lockout": {...} | null} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  portcullis policy diff --before old.xml --after new.xml
  portcullis policy diff --before old.xml --after new.xml --management "lan 192.168.1.50 -> 192.168.1.1:443" --json`,
    )
    .action((options) => {
      let path = null;
      try {
        path = options.management === undefined ? null : parseManagementLine(options.management);
      } catch (error) {
        if (error instanceof PacketError) fail(`bad --management (${error.field}): ${error.message}`);
        throw error;
      }
      const before = loadPolicyOrExit(options.before, { option: '--before' }).ruleset;
      const after = loadPolicyOrExit(options.after, { option: '--after' }).ruleset;
      if (!options.json) writeWarnings(after.warnings.filter((w) => w.severity === 'error'));
      const diff = diffRulesets(before, after);
      let lockout: LockoutCheck | null = null;
      try {
        lockout = path === null ? null : checkLockout(before, after, path);
      } catch (error) {
        if (error instanceof PacketError) fail(`bad --management (${error.field}): ${error.message}`);
        throw error;
      }
      process.stdout.write(
        options.json ? `${JSON.stringify({ diff, lockout }, null, 2)}\n` : formatDiff(diff, lockout),
      );
      process.exitCode = lockout?.status === 'cut' ? 3 : diff.regions.length > 0 ? 1 : 0;
    });
}
