import type { Command } from '@commander-js/extra-typings';

// Placeholder until this area lands; replaced by the real command definitions.
export function registerLabCommands(program: Command): void {
  program.command('lab').description('(not yet available)');
}
