import type { Command } from '@commander-js/extra-typings';

// Placeholder until this area lands; replaced by the real command definitions.
export function registerServeCommand(program: Command): void {
  program.command('serve').description('(not yet available)');
}
