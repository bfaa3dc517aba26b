import type { Command } from '@commander-js/extra-typings';

// Placeholder until this area lands; replaced by the real command definitions.
export function registerTokensCommands(program: Command): void {
  program.command('tokens').description('(not yet available)');
}
