/**
 * @module `portcullis drift check|list|summary|resolve|suppressions`: drift detection through a running server
 * (docs/drift.md). `check SITE_ID` checks every gateway of the site now; `resolve ID --resolution reapply|accept|ignore`.
 */
import { type Command, Option } from '@commander-js/extra-typings';
import { connected, perform, queryString, registerResource } from '../resources.ts';

const PATH = '/api/v1/firewall/drift';
const EVENT_COLUMNS = ['id', 'severity', 'drift_type', 'resource_type', 'resource_name', 'status', 'occurrences', 'last_seen_at'];

export function registerDriftCommands(program: Command): void {
  const drift = program.command('drift').description('Configuration drift of gateways (events, checks, suppressions)');
  connected(drift.command('check').description('Check every gateway of a site for drift now').argument('<site_id>')).action((siteId, opts) =>
    perform(opts, ['gateway_id', 'outcome', 'baseline_taken', 'opened', 'updated', 'cleared', 'suppressed', 'error'], async (c) => {
      const answer = await c.request<{ gateways: unknown[] }>('POST', `${PATH}/check/${encodeURIComponent(siteId)}`);
      return opts.json ? answer : { items: answer.gateways };
    }),
  );
  connected(drift.command('list').description('Drift events, most recently seen first (e.g. --query status=open)'))
    .option('--query <key=value>', 'a filter or paging parameter (repeatable)', (v, p: string[]) => [...p, v], [])
    .action((opts) => perform(opts, EVENT_COLUMNS, (c) => c.request('GET', `${PATH}/events${queryString(opts.query)}`)));
  connected(drift.command('summary').description('Counts by severity and pending/resolved'))
    .option('--site-id <id>', 'one site only')
    .action((opts) =>
      perform(opts, ['total', 'critical', 'warning', 'info', 'pending', 'resolved', 'gateways_not_checked'], (c) =>
        c.request('GET', `${PATH}/summary${opts.siteId ? `?site_id=${encodeURIComponent(opts.siteId)}` : ''}`),
      ),
    );
  connected(drift.command('resolve').description('Resolve a drift event').argument('<id>'))
    .addOption(new Option('--resolution <action>', 'what to do').choices(['reapply', 'accept', 'ignore'] as const).makeOptionMandatory())
    .option('--force', 'reapply: apply the restoring write at once (where the deployment allows live writes)')
    .option('--confirmed', 'reapply with --force of a deletion: the confirmation a forced delete needs')
    .option('--suppress', 'ignore: also silence this drift type on this resource')
    .option('--reason <text>', 'why (kept in the audit log and on the suppression)')
    .action((id, opts) =>
      perform(opts, ['id', 'status', 'resolution', 'pending_change_id'], async (c) => {
        const answer = await c.request<{ event: unknown }>('POST', `${PATH}/events/${encodeURIComponent(id)}/resolve`, {
          resolution: opts.resolution,
          ...(opts.force ? { force: true } : {}),
          ...(opts.confirmed ? { confirmed: true } : {}),
          ...(opts.suppress ? { suppress: true } : {}),
          ...(opts.reason ? { reason: opts.reason } : {}),
        });
        return opts.json ? answer : answer.event;
      }),
    );
  registerResource(drift, {
    name: 'suppressions',
    path: `${PATH}/suppressions`,
    description: 'Suppression rules (silence a drift type, or forbid matching resources); delete deactivates',
    columns: ['id', 'site_id', 'resource_type', 'pattern', 'mode', 'drift_type', 'reason', 'is_active'],
    operations: ['list', 'create', 'delete'],
  });
}
