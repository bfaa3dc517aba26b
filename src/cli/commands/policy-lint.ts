/**
 * @module `portcullis policy lint` — placeholder registration; the lint CLI replaces this file.
 */
import type { Command } from '@commander-js/extra-typings';

/** Adds the `lint` subcommand to `portcullis policy`. */
export function registerPolicyLint(policy: Command): void {
  policy.command('lint').description('(not yet available) find shadowed and redundant rules');
}
