import type { Command } from '@commander-js/extra-typings';

// Placeholder until this area lands; replaced by the real command definitions.
export function registerKnockCommand(program: Command): void {
  program.command('knock').description('(not yet available)');
}
