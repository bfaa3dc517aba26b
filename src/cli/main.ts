/**
 * @module The `portcullis` command line. Each area registers its own subcommands from `commands/`.
 *
 * Only the module of the command being run is loaded (tsx compiles every imported file at start, and the
 * policy engine or the emulator are heavy); `--help` and unknown commands load them all to list them.
 */
import { Command } from '@commander-js/extra-typings';

type Registrar = (program: Command) => void;

const COMMAND_MODULES: Record<string, () => Promise<Registrar>> = {
  serve: async () => (await import('./commands/serve.ts')).registerServeCommand,
  migrate: async () => (await import('./commands/migrate.ts')).registerMigrateCommand,
  users: async () => (await import('./commands/users.ts')).registerUsersCommands,
  'identity-providers': async () =>
    (await import('./commands/identity-providers.ts')).registerIdentityProviderCommands,
  tokens: async () => (await import('./commands/tokens.ts')).registerTokensCommands,
  keys: async () => (await import('./commands/keys.ts')).registerKeysCommands,
  lab: async () => (await import('./commands/lab.ts')).registerLabCommands,
  gateway: async () => (await import('./commands/gateway.ts')).registerGatewayCommands,
  policy: async () => (await import('./commands/policy.ts')).registerPolicyCommands,
  knock: async () => (await import('./commands/knock.ts')).registerKnockCommand,
  firewall: async () => (await import('./commands/firewall.ts')).registerFirewallCommands,
  webhooks: async () => (await import('./commands/webhooks.ts')).registerWebhookCommands,
  requests: async () => (await import('./commands/requests.ts')).registerRequestsCommands,
  drift: async () => (await import('./commands/drift.ts')).registerDriftCommands,
  dashboard: async () => (await import('./commands/dashboard.ts')).registerDashboardCommand,
  audit: async () => (await import('./commands/audit.ts')).registerAuditCommands,
  topology: async () => (await import('./commands/orchestration.ts')).registerTopologyCommands,
  vlans: async () => (await import('./commands/orchestration.ts')).registerVlanCommands,
  dhcp: async () => (await import('./commands/orchestration.ts')).registerDhcpCommands,
  dns: async () => (await import('./commands/orchestration.ts')).registerDnsCommands,
  import: async () => (await import('./commands/import.ts')).registerImportCommands,
  reconcile: async () => (await import('./commands/import.ts')).registerReconcileCommands,
  distribution: async () => (await import('./commands/distribution.ts')).registerDistributionCommands,
  cluster: async () => (await import('./commands/cluster.ts')).registerClusterCommands,
};

const program = new Command('portcullis')
  .description('Portcullis firewall control plane')
  .version('0.1.0')
  .showHelpAfterError();

const requested = process.argv[2];
const names = requested !== undefined && requested in COMMAND_MODULES ? [requested] : Object.keys(COMMAND_MODULES);
for (const name of names) {
  const load = COMMAND_MODULES[name];
  if (load) (await load())(program);
}

await program.parseAsync(process.argv);
