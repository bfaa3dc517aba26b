/**
 * @module `portcullis policy trace` — placeholder registration; the evaluator's CLI replaces this file.
 */
import type { Command } from '@commander-js/extra-typings';

/** Adds the `trace` subcommand to `portcullis policy`. */
export function registerPolicyTrace(policy: Command): void {
  policy.command('trace').description('(not yet available) evaluate packets against a config');
}
