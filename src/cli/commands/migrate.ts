import type { Command } from '@commander-js/extra-typings';

// Placeholder until this area lands; replaced by the real command definitions.
export function registerMigrateCommand(program: Command): void {
  program.command('migrate').description('(not yet available)');
}
