/**
 * @module `portcullis policy test --config config.xml --tests tests.json [--facts facts.json] [--json]`: runs a
 * declarative policy-test file (flows that must pass or be blocked, optionally via a named rule; docs/policy.md
 * "Policy tests") against a configuration. Exit codes: 0 every flow as expected, 1 some flow failed, is unknown or
 * does not fit the config, 2 bad input (a bad test file names every problem with its path and line).
 */
import { readFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import {
  type FlowTestResult,
  formatIssue,
  parsePolicyTestsText,
  PolicyTestFileError,
  type PolicyTestReport,
  type PolicyTestSuite,
  runPolicyTests,
} from '../../policy/tests.ts';
import { loadPolicyOrExit, writeWarnings } from './policy.ts';
import { readFacts } from './policy-trace.ts';

const MARKS: Record<FlowTestResult['status'], string> = { ok: 'ok  ', failed: 'FAIL', unknown: '??  ', error: 'ERR ' };

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

/** Reads `--tests`; a bad file ends the process listing every problem. */
function readTests(path: string): PolicyTestSuite {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    fail(`cannot read --tests ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return parsePolicyTestsText(text);
  } catch (error) {
    if (!(error instanceof PolicyTestFileError)) throw error;
    fail(`invalid --tests ${path}:\n${error.issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`);
  }
}

/** One line per flow, the explanation under each flow that is not as expected, then a summary. */
function formatReport(report: PolicyTestReport): string {
  const lines: string[] = [];
  for (const result of report.results) {
    const via = result.via === null ? '' : ` via "${result.via}"`;
    lines.push(`${MARKS[result.status]} ${result.name}: expect ${result.expected}${via} — ${result.why}`);
    if (!result.ok) {
      lines.push(`       ${result.packet}`);
      if (result.explanation !== null) lines.push(`       ${result.explanation}`);
    }
  }
  const { counts } = report;
  lines.push(
    '',
    `${report.total} flow${report.total === 1 ? '' : 's'}: ${counts.ok} ok, ${counts.failed} failed, ` +
      `${counts.unknown} unknown, ${counts.error} not applicable to this config — ${report.passed ? 'PASSED' : 'FAILED'}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Adds the `test` subcommand to `portcullis policy`. */
export function registerPolicyTest(policy: Command): void {
  policy
    .command('test')
    .description(
      'run a policy-test file (flows that must pass or be blocked, optionally via a rule) against a config; ' +
        'exit 0 when every flow is as expected, 1 when not, 2 on bad input',
    )
    .requiredOption('--config <file>', 'pfSense config.xml backup, or a JSON policy model')
    .requiredOption('--tests <file>', 'policy-test file (JSON): {"version": 1, "flows": [...]}')
    .option('--facts <file>', 'run-time facts (JSON), as for `policy trace`')
    .option('--json', 'print the report {passed, total, counts, results} as JSON')
    .addHelpText(
      'after',
      `
Flow fields: name, interface, direction (in|out, default in), protocol, source, source_port?, destination,
  destination_port (tcp/udp), tcp_flags?, icmp_type?, expect (pass|block|reject), via? (tracker, label or
  description of the rule that must decide), comment?
Example file:
  {"version": 1, "flows": [{"name": "LAN reaches the web", "interface": "lan", "protocol": "tcp",
    "source": "192.168.1.50", "destination": "93.184.216.34", "destination_port": 443, "expect": "pass",
    "via": "Default allow LAN to any rule"}]}
Example:
  portcullis policy test --config config.xml --tests tests.json`,
    )
    .action((options) => {
      const suite = readTests(options.tests);
      const facts = options.facts === undefined ? undefined : readFacts(options.facts);
      const { ruleset, factsApplied } = loadPolicyOrExit(options.config, { facts });
      if (!options.json) {
        writeWarnings(ruleset.warnings.filter((w) => w.severity === 'error'));
        for (const line of factsApplied) process.stderr.write(`fact: ${line}\n`);
      }
      const report = runPolicyTests(ruleset, suite);
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      process.exitCode = report.passed ? 0 : 1;
    });
}
