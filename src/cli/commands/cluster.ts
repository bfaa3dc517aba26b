/**
 * @module `portcullis cluster status`: the nodes serving one store, through a running server — each node's last
 * heartbeat, whether it is alive, and the (gateway, alias) leases it holds (docs/scale-out.md).
 */
import type { Command } from '@commander-js/extra-typings';
import Table from 'cli-table3';
import { ApiClient, OPTION_HELP, runCli } from '../client.ts';

interface ClusterNode {
  id: string;
  hostname: string;
  pid: string;
  started_at: string;
  heartbeat_at: string;
  alive: boolean;
  self: boolean;
  leases: { name: string; gateway_id: string; alias_name: string; expires_at: string }[];
}

interface ClusterNodes {
  store: string;
  lease_seconds: number;
  items: ClusterNode[];
}

export function registerClusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('The nodes serving one store (several nodes on PostgreSQL)');

  cluster
    .command('status')
    .description('List the nodes, their last heartbeat and the aliases each reconciles')
    .option('--url <url>', OPTION_HELP.url)
    .option('--token <token>', OPTION_HELP.token)
    .option('--json', OPTION_HELP.json)
    .action(async (opts) =>
      runCli(opts.json, async () => {
        const status = await new ApiClient(opts).request<ClusterNodes>('GET', '/api/v1/cluster/nodes');
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(status)}\n`);
          return;
        }
        const table = new Table({ head: ['Node', 'Host', 'Pid', 'State', 'Heartbeat', 'Aliases'] });
        for (const node of status.items) {
          table.push([
            `${node.id}${node.self ? ' (this)' : ''}`,
            node.hostname,
            node.pid,
            node.alive ? 'alive' : 'dead',
            node.heartbeat_at,
            node.leases.map((lease) => `${lease.alias_name}@${lease.gateway_id.slice(0, 8)}`).join(' ') || '-',
          ]);
        }
        process.stdout.write(`${table.toString()}\n`);
        const alive = status.items.filter((node) => node.alive).length;
        process.stdout.write(
          `${alive} of ${status.items.length} node(s) alive on ${status.store}; lease ${status.lease_seconds} s\n`,
        );
      }),
    );
}
