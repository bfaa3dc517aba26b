/**
 * @module `portcullis policy exposure --config X --alias A [--source ip]… [--json]`: what an address gains by being
 * put on an address alias (a knoc's grant), exactly, per interface with the deciding rule (docs/policy.md "Exposure
 * of an alias"); and `portcullis policy fix --config X --packet "<line>" [--json]`: the smallest edits that make a
 * blocked packet pass, each re-verified, ranked by how much else they open (docs/policy.md "Why blocked: the
 * smallest fix"). Exit codes: 0 answered, 2 bad input.
 */
import type { Command } from '@commander-js/extra-typings';
import { type AliasExposure, aliasExposure, type ExposureRegion } from '../../policy/exposure.ts';
import { type FixProposal, proposeFixes } from '../../policy/fixes.ts';
import { PACKET_LINE_SYNTAX, PacketError, parsePacketLine } from '../../policy/packet.ts';
import { PolicyInputError } from '../../policy/warnings.ts';
import { describeRule, list } from './policy-diff.ts';
import { readFacts } from './policy-trace.ts';
import { loadPolicyOrExit, writeWarnings } from './policy.ts';

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `wan in inet tcp to 85.10.20.2/32 port 22 flags S/SA`: the source is the representative, named once above. */
function describeExposureRegion(region: ExposureRegion): string {
  const protocols = region.protocols === null ? 'any protocol' : region.protocols.join(',');
  const parts = [
    `${region.interface} ${region.direction} ${region.family} ${protocols}`,
    `to ${list(region.destination, 'any')}${region.destinationPorts === null ? '' : ` port ${list(region.destinationPorts, '')}`}`,
  ];
  if (region.sourcePorts !== null) parts.push(`from port ${list(region.sourcePorts, '')}`);
  if (region.tcpFlags !== null) parts.push(`flags ${region.tcpFlags.text}`);
  if (region.icmpTypes !== null) parts.push(`icmp-type ${region.icmpTypes.join(',')}`);
  return parts.join(' ');
}

const HEADINGS: Record<ExposureRegion['change'], string> = {
  'newly-pass': 'Opens',
  unknown: 'May open (depends on run-time contents)',
  'newly-block': 'Closes (the alias is used by a block rule)',
  'reply-changed': 'Block ⇄ reject (the reply changes)',
};

function formatExposure(exposure: AliasExposure): string {
  const lines = [
    `Alias ${exposure.alias}: what an address gains on it (representative ${exposure.representatives.join(', ')}, an address no rule or alias names)`,
    '',
  ];
  for (const change of Object.keys(HEADINGS) as Array<ExposureRegion['change']>) {
    const regions = exposure.regions.filter((r) => r.change === change);
    if (regions.length === 0) continue;
    lines.push(`${HEADINGS[change]} (${regions.length})`, '');
    for (const region of regions) {
      lines.push(
        `  ${describeExposureRegion(region)}`,
        `    on the alias: ${region.rule.verdict} by ${describeRule(region.rule.rule)}`,
        `    without it: ${region.baseline.verdict} by ${describeRule(region.baseline.rule)}`,
        '',
      );
    }
  }
  if (exposure.regions.length === 0) {
    lines.push('Nothing: an address on this alias reaches nothing it could not reach without it.', '');
  }
  return `${lines.join('\n')}\n`;
}

function formatFixes(proposal: FixProposal): string {
  const lines = [`${proposal.packet}: ${proposal.verdict} by ${describeRule(proposal.rule)}`, ''];
  proposal.fixes.forEach((fix, i) => {
    const beyond =
      fix.opens.beyond === '0' ? 'opens nothing else' : `also opens ${fix.opens.beyond} other flows (${fix.opens.regions.length} regions)`;
    const uncertain = fix.opens.uncertain > 0 ? `; ${fix.opens.uncertain} regions may open depending on run-time contents` : '';
    lines.push(`${i + 1}. ${fix.description}`, `   verified: pass by ${describeRule(fix.verified.rule)}; ${beyond}${uncertain}`);
  });
  if (proposal.note !== null) lines.push(proposal.note);
  return `${lines.join('\n')}\n`;
}

/** Adds `exposure` and `fix` to `portcullis policy`. */
export function registerPolicyExposure(policy: Command): void {
  policy
    .command('exposure')
    .description('exactly what an address gains by being put on an address alias (a knoc grant), with the deciding rules')
    .requiredOption('--config <file>', 'pfSense config.xml backup, or a JSON policy model')
    .requiredOption('--alias <name>', 'the host or network alias (a knoc\'s alias)')
    .option(
      '--source <address>',
      'representative address to add (at most one per family; default: one no rule or alias names)',
      collect,
    )
    .option('--facts <file>', 'run-time facts (JSON), as `policy trace --facts` reads them')
    .option('--json', 'print the exposure as JSON')
    .addHelpText(
      'after',
      `
Examples:
  portcullis policy exposure --config config.xml --alias ssh_admins
  portcullis policy exposure --config config.xml --alias ssh_admins --source 203.0.113.7 --json`,
    )
    .action((options) => {
      const facts = options.facts === undefined ? undefined : readFacts(options.facts);
      // Facts are applied by the engine to every variant it generates; the config is read as given.
      const { config, ruleset } = loadPolicyOrExit(options.config);
      if (!options.json) writeWarnings(ruleset.warnings.filter((w) => w.severity === 'error'));
      let exposure: AliasExposure;
      try {
        exposure = aliasExposure(config, options.alias, {
          ...(options.source === undefined ? {} : { representatives: options.source }),
          ...(facts === undefined ? {} : { facts }),
        });
      } catch (error) {
        if (error instanceof PolicyInputError) {
          const reason = error.message.slice(error.field.length + 2);
          fail(error.field === 'alias' ? `bad --alias: ${reason}` : `bad --source: ${reason}`);
        }
        throw error;
      }
      process.stdout.write(options.json ? `${JSON.stringify(exposure, null, 2)}\n` : formatExposure(exposure));
    });

  policy
    .command('fix')
    .description('why a packet is blocked, and the smallest edits that make it pass (each re-verified, ranked by what else they open)')
    .requiredOption('--config <file>', 'pfSense config.xml backup, or a JSON policy model')
    .requiredOption('--packet <line>', `the blocked packet: ${PACKET_LINE_SYNTAX}`)
    .option('--limit <n>', 'fixes shown (default 10)')
    .option('--facts <file>', 'run-time facts (JSON), as `policy trace --facts` reads them')
    .option('--json', 'print the proposal as JSON')
    .addHelpText(
      'after',
      `
Example:
  portcullis policy fix --config config.xml --packet "wan in tcp 203.0.113.7:40000 -> 85.10.20.2:22 flags S"`,
    )
    .action((options) => {
      const limit = options.limit === undefined ? 10 : Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) fail('bad --limit: give a whole number from 1 to 100');
      const facts = options.facts === undefined ? undefined : readFacts(options.facts);
      const { config, ruleset } = loadPolicyOrExit(options.config);
      if (!options.json) writeWarnings(ruleset.warnings.filter((w) => w.severity === 'error'));
      let proposal: FixProposal;
      try {
        proposal = proposeFixes(config, parsePacketLine(options.packet), { limit, ...(facts === undefined ? {} : { facts }) });
      } catch (error) {
        if (error instanceof PacketError) fail(`bad packet (${error.field}): ${error.message}`);
        throw error;
      }
      process.stdout.write(options.json ? `${JSON.stringify(proposal, null, 2)}\n` : formatFixes(proposal));
    });
}
