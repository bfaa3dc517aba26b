/**
 * @module `portcullis policy …`: the policy engine's commands. `ruleset` lives here; `trace`, `lint`, `diff` and `test` register
 * from their own files so each can evolve separately.
 */
import { readFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import type { RuntimeFacts } from '../../policy/facts.ts';
import { loadPolicy } from '../../policy/import/index.ts';
import type { PfRuleset, PolicyConfig, PolicyWarning } from '../../policy/model.ts';
import { printRuleset } from '../../policy/print.ts';
import { PolicyInputError } from '../../policy/warnings.ts';
import { registerPolicyCompile } from './policy-compile.ts';
import { registerPolicyDiff } from './policy-diff.ts';
import { registerPolicyExposure } from './policy-exposure.ts';
import { registerPolicyLint } from './policy-lint.ts';
import { registerPolicyTest } from './policy-test.ts';
import { registerPolicyTrace } from './policy-trace.ts';

export function registerPolicyCommands(program: Command): void {
  const policy = program
    .command('policy')
    .description(
      'understand a pfSense or OPNsense policy: generated ruleset, packet traces, lint, semantic diff, policy tests, alias exposure, fixes, nftables compilation',
    );

  policy
    .command('ruleset')
    .description(
      'print the ruleset pfSense 2.7.2 would load for a config.xml (or JSON model); warnings go to stderr',
    )
    .requiredOption('--config <file>', 'pfSense or OPNsense config.xml backup, or a JSON policy model')
    .option(
      '--json',
      'print the structured ruleset (rules with origins, tables, interfaces, warnings) as JSON',
    )
    .action((options) => {
      const ruleset = loadRulesetOrExit(options.config);
      writeWarnings(ruleset.warnings);
      process.stdout.write(options.json ? `${JSON.stringify(ruleset, null, 2)}\n` : printRuleset(ruleset));
    });

  registerPolicyTrace(policy);
  registerPolicyLint(policy);
  registerPolicyDiff(policy);
  registerPolicyCompile(policy);
  registerPolicyTest(policy);
  registerPolicyExposure(policy);
}

/**
 * Reads and generates a ruleset for the CLI; unreadable files and invalid input end the process with exit code 2
 * and a message naming the field.
 */
function loadRulesetOrExit(path: string): PfRuleset {
  return loadPolicyOrExit(path).ruleset;
}

/**
 * Like `loadRulesetOrExit`, also returning the imported config (lint reads trackers of left-out rules). `option`
 * names the command-line option the file came from in messages; `facts` are run-time facts applied to it
 * (`--facts`).
 */
export function loadPolicyOrExit(
  path: string,
  { option = '--config', facts }: { option?: string; facts?: RuntimeFacts } = {},
): { config: PolicyConfig; ruleset: PfRuleset; factsApplied: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    process.stderr.write(
      `error: cannot read ${option} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}\n`,
    );
    process.exit(2);
  }
  try {
    return loadPolicy(text, facts === undefined ? {} : { facts });
  } catch (error) {
    if (error instanceof PolicyInputError) {
      const source = error.field.startsWith('facts') ? '--facts' : `${option} ${path}`;
      process.stderr.write(`error: invalid ${source}: ${error.message}
`);
      process.exit(2);
    }
    throw error;
  }
}

/** One line per warning on stderr: `warning POL004 rule lan #3: …`. */
export function writeWarnings(warnings: readonly PolicyWarning[]): void {
  for (const warning of warnings) {
    const where =
      warning.ref?.tab !== undefined
        ? ` ${warning.ref.tab} #${warning.ref.position}`
        : warning.ref?.name
          ? ` ${warning.ref.name}`
          : '';
    process.stderr.write(
      `${warning.severity} ${warning.code} ${warning.element}${where}: ${warning.message}\n`,
    );
  }
}
