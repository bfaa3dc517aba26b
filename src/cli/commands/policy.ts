import type { Command } from '@commander-js/extra-typings';

// Placeholder until this area lands; replaced by the real command definitions.
export function registerPolicyCommands(program: Command): void {
  program.command('policy').description('(not yet available)');
}
