import type { Command } from '@commander-js/extra-typings';

// Placeholder until this area lands; replaced by the real command definitions.
export function registerGatewayCommands(program: Command): void {
  program.command('gateway').description('(not yet available)');
}
