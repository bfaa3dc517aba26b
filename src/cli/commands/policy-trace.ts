/**
 * @module `portcullis policy trace`: would this packet pass, and which rule decides? One packet from a line
 * (`--packet "lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S"`) or a sequence from a JSON file
 * (`--packets steps.json`: an array of items each with a `packet` object; other fields are ignored) evaluated in
 * order against one state table. Human output: one paragraph plus the trace; `--json` for scripts.
 * Bad input (packet line, file, unknown interface) → a message naming the problem and exit code 2.
 */
import { readFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { createEvaluator, type EvaluationResult } from '../../policy/evaluate.ts';
import { parseRuntimeFacts, type RuntimeFacts } from '../../policy/facts.ts';
import { PACKET_LINE_SYNTAX, type Packet, PacketError, parsePacketLine } from '../../policy/packet.ts';
import { PolicyInputError } from '../../policy/warnings.ts';
import { loadPolicyOrExit, writeWarnings } from './policy.ts';

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

/** Reads `--packets`: a JSON array whose items carry a `packet` object. */
function readPacketSteps(path: string): Packet[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    fail(`cannot read --packets ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let steps: unknown;
  try {
    steps = JSON.parse(text);
  } catch (error) {
    fail(`--packets ${path} is not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(steps)) fail(`--packets ${path} must hold a JSON array of steps`);
  return steps.map((step, i) => {
    if (
      typeof step !== 'object' ||
      step === null ||
      typeof (step as { packet?: unknown }).packet !== 'object'
    ) {
      fail(`--packets ${path}: step [${i}] has no "packet" object`);
    }
    return (step as { packet: Packet }).packet;
  });
}

function formatTrace(result: EvaluationResult): string {
  const lines = result.trace.map((entry) => {
    const mark = entry.result === 'match' ? 'MATCH' : entry.result === 'unknown' ? '  ?  ' : '  -  ';
    const where = entry.kind === 'user' ? `${entry.tab} #${entry.position}` : 'system';
    const quick = entry.quick ? ' quick' : '';
    return `  ${mark} [${entry.index}] ${entry.action}${quick} (${where}) ${entry.descr}: ${entry.reason}`;
  });
  if (result.skippedRules > 0) {
    lines.push(
      `  (${result.skippedRules} rules on other interfaces, directions or address families not considered)`,
    );
  }
  return lines.join('\n');
}

/** Reads and validates `--facts` (docs/adr/0152-honest-inputs-and-runtime-facts.md); a bad file ends the process naming the field. */
export function readFacts(path: string): RuntimeFacts {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    fail(code ? `cannot read --facts ${path}: ${code}` : `--facts ${path} is not valid JSON (${(error as Error).message})`);
  }
  try {
    return parseRuntimeFacts(value);
  } catch (error) {
    if (error instanceof PolicyInputError) fail(`invalid --facts ${path}: ${error.message}`);
    throw error;
  }
}

function formatHuman(result: EvaluationResult): string {
  const parts = [result.explanation];
  if (result.assumptions.length > 0) parts.push(`Assumed: ${result.assumptions.join('; ')}.`);
  if (result.warnings.length > 0) {
    parts.push(
      `Warnings that can change this answer:\n${result.warnings.map((w) => `  ${w.code} ${w.message}`).join('\n')}`,
    );
  }
  if (result.trace.length > 0) parts.push(`Trace:\n${formatTrace(result)}`);
  return `${parts.join('\n')}\n`;
}

/** Adds the `trace` subcommand to `portcullis policy`. */
export function registerPolicyTrace(policy: Command): void {
  policy
    .command('trace')
    .description('evaluate packets against a config with pf semantics: verdict, deciding rule, trace')
    .requiredOption('--config <file>', 'pfSense or OPNsense config.xml backup, or a JSON policy model')
    .option('--packet <line>', `one packet: ${PACKET_LINE_SYNTAX}`)
    .option(
      '--packets <file>',
      'JSON array of steps, each with a "packet" object, evaluated in order with one state table',
    )
    .option(
      '--facts <file>',
      'run-time facts (JSON): {"interfaces":{"wan":{"ipv4":"a/p"}},"names":{"host":["ip"]},"tables":{"t":["cidr"]}}',
    )
    .option('--json', 'print the result (or, with --packets, an array of results) as JSON')
    .addHelpText(
      'after',
      `
Packet lines: ${PACKET_LINE_SYNTAX}
  IPv6 addresses go in brackets when a port follows: opt1 in udp [2001:db8::5]:5000 -> [2001:db8::1]:53
Packet objects (--packets): {"interface","direction","af"?,"proto","src","srcPort","dst","dstPort","tcpFlags"?,"icmpType"?}
Examples:
  portcullis policy trace --config config.xml --packet "lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S"
  portcullis policy trace --config config.xml --packets steps.json --json`,
    )
    .action((options) => {
      if ((options.packet === undefined) === (options.packets === undefined)) {
        fail('give exactly one of --packet "<line>" or --packets <file>');
      }
      const packets = options.packets !== undefined ? readPacketSteps(options.packets) : [];
      const facts = options.facts === undefined ? undefined : readFacts(options.facts);
      const { ruleset, factsApplied } = loadPolicyOrExit(options.config, { facts });
      if (!options.json) {
        writeWarnings(ruleset.warnings.filter((w) => w.severity === 'error'));
        for (const line of factsApplied) process.stderr.write(`fact: ${line}\n`);
      }
      const evaluator = createEvaluator(ruleset);
      try {
        if (options.packet !== undefined) {
          const result = evaluator.evaluate(parsePacketLine(options.packet));
          process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatHuman(result));
          return;
        }
        // A bad step does not hide the others: its slot holds the error, and the exit code is 2.
        const failures: string[] = [];
        const results = packets.map(
          (packet, i): EvaluationResult | { error: { field: string; message: string } } => {
            try {
              return evaluator.evaluate(packet);
            } catch (error) {
              if (!(error instanceof PacketError)) throw error;
              failures.push(`error: bad packet (${error.field}): step [${i}]: ${error.message}`);
              return { error: { field: error.field, message: `step [${i}]: ${error.message}` } };
            }
          },
        );
        process.stdout.write(
          options.json
            ? `${JSON.stringify(results, null, 2)}\n`
            : results
                .map((result, i) =>
                  'error' in result
                    ? `[${i}] ${result.error.message}\n`
                    : `[${i}] ${result.packet}\n${formatHuman(result)}`,
                )
                .join('\n'),
        );
        if (failures.length > 0) {
          process.stderr.write(`${failures.join('\n')}\n`);
          process.exitCode = 2;
        }
      } catch (error) {
        if (error instanceof PacketError) fail(`bad packet (${error.field}): ${error.message}`);
        throw error;
      }
    });
}
