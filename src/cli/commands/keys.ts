import type { Command } from '@commander-js/extra-typings';

// Placeholder until this area lands; replaced by the real command definitions.
export function registerKeysCommands(program: Command): void {
  program.command('keys').description('(not yet available)');
}
