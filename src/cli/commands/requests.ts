/**
 * @module `portcullis requests list|show|approve|deny`: access requests through a running server
 * (docs/access-requests.md). `list` takes the API's filters, e.g. `--awaiting-me`, `--status pending`.
 */
import type { Command } from '@commander-js/extra-typings';
import { connected, perform, queryString } from '../resources.ts';

const PATH = '/api/v1/access/requests';
const COLUMNS = [
  'id',
  'knoc_name',
  'requester_name',
  'ip',
  'ttl_seconds',
  'status',
  'approvals',
  'approvals_required',
  'justification',
  'expires_at',
  'grant_id',
];

export function registerRequestsCommands(program: Command): void {
  const requests = program.command('requests').description('Access requests on knocs that require approval');
  connected(requests.command('list').description('List requests you may see, newest first'))
    .option('--status <status>', 'pending | approved | denied | expired')
    .option('--awaiting-me', 'only pending requests you may still decide')
    .option('--mine', 'only your own requests')
    .option('--query <key=value>', 'another filter or paging parameter (repeatable)', (v, p: string[]) => [...p, v], [])
    .action((opts) => {
      const query = [
        ...(opts.status ? [`status=${opts.status}`] : []),
        ...(opts.awaitingMe ? ['awaiting_me=true'] : []),
        ...(opts.mine ? ['mine=true'] : []),
        ...opts.query,
      ];
      return perform(opts, COLUMNS, (c) => c.request('GET', `${PATH}${queryString(query)}`));
    });
  connected(requests.command('show').description('One request with its decisions').argument('<id>')).action((id, opts) =>
    perform(opts, COLUMNS, (c) => c.request('GET', `${PATH}/${encodeURIComponent(id)}`)),
  );
  for (const decision of ['approve', 'deny'] as const) {
    connected(
      requests
        .command(decision)
        .description(decision === 'approve' ? 'Approve a request (the last approval starts the grant)' : 'Deny a request')
        .argument('<id>'),
    )
      .option('--comment <text>', 'why (kept with the decision)')
      .action((id, opts) =>
        perform(opts, COLUMNS, (c) =>
          c.request('POST', `${PATH}/${encodeURIComponent(id)}/${decision}`, opts.comment ? { comment: opts.comment } : {}),
        ),
      );
  }
}
