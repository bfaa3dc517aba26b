/**
 * @module `portcullis webhooks list|show|create|update|delete|deliveries`: outbound webhooks through a running
 * server (docs/events.md). `create` prints the signing secret once, as the API answers it.
 */
import type { Command } from '@commander-js/extra-typings';
import { connected, perform, queryString, registerResource } from '../resources.ts';

const PATH = '/api/v1/webhooks';

export function registerWebhookCommands(program: Command): void {
  const webhooks = registerResource(program, {
    name: 'webhooks',
    path: PATH,
    description: 'Outbound webhooks (signed event deliveries)',
    columns: ['id', 'name', 'url', 'event_types', 'enabled', 'consecutive_failures', 'secret'],
    operations: ['list', 'show', 'create', 'update', 'delete'],
  });
  connected(webhooks.command('deliveries').description("A webhook's delivery log, newest first").argument('<id>'))
    .option('--query <key=value>', 'a filter or paging parameter (repeatable)', (v, p: string[]) => [...p, v], [])
    .action((id, opts) =>
      perform(opts, ['created_at', 'event_type', 'status', 'attempts', 'response_status', 'error'], (c) =>
        c.request('GET', `${PATH}/${encodeURIComponent(id)}/deliveries${queryString(opts.query)}`),
      ),
    );
}
