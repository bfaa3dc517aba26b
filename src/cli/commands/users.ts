import type { Command } from '@commander-js/extra-typings';

// Placeholder until this area lands; replaced by the real command definitions.
export function registerUsersCommands(program: Command): void {
  program.command('users').description('(not yet available)');
}
