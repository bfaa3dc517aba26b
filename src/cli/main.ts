/**
 * @module The `portcullis` command line. Each area registers its own subcommands from `commands/`.
 */
import { Command } from '@commander-js/extra-typings';
import { registerGatewayCommands } from './commands/gateway.ts';
import { registerKeysCommands } from './commands/keys.ts';
import { registerKnockCommand } from './commands/knock.ts';
import { registerLabCommands } from './commands/lab.ts';
import { registerMigrateCommand } from './commands/migrate.ts';
import { registerPolicyCommands } from './commands/policy.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerTokensCommands } from './commands/tokens.ts';
import { registerUsersCommands } from './commands/users.ts';

const program = new Command('portcullis')
  .description('Portcullis firewall control plane')
  .version('0.1.0')
  .showHelpAfterError();

registerServeCommand(program);
registerMigrateCommand(program);
registerUsersCommands(program);
registerTokensCommands(program);
registerKeysCommands(program);
registerLabCommands(program);
registerGatewayCommands(program);
registerPolicyCommands(program);
registerKnockCommand(program);

await program.parseAsync(process.argv);
