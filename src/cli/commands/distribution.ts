/**
 * @module `portcullis distribution list|show|trigger|retry|rollback` (docs/orchestration.md "Distribution"): the
 * distribution engine through a running server. `show` prints the plan and per-step results; `trigger SITE_ID
 * VLAN_ID --force` runs the saga (without `--force` it is only planned); a distribution that did not complete
 * makes the command exit 1, so scripts can stop.
 */
import type { Command } from '@commander-js/extra-typings';
import { ApiClient, runCli } from '../client.ts';
import { connected, perform, print, queryString, readData } from '../resources.ts';

const PATH = '/api/v1/firewall/distribution';
const COLUMNS = ['id', 'site_id', 'vlan_tag', 'vlan_name', 'status', 'attempt', 'created_at'];
const STEP_COLUMNS = ['tier', 'device_name', 'kind', 'resource_key', 'action', 'status'];

interface Detail {
  status: string;
  error: { message: string } | null;
  steps: unknown[];
}

/** Prints a detail (its steps as the table, or everything with --json); exit 1 unless it reached `ok` (when given). */
function showDetail(detail: Detail, json: boolean | undefined, ok: readonly string[] | null): void {
  if (json) print(detail, [], true);
  else {
    process.stdout.write(`status: ${detail.status}${detail.error ? ` (${detail.error.message})` : ''}\n`);
    print({ items: detail.steps }, STEP_COLUMNS, false);
  }
  if (ok !== null && !ok.includes(detail.status)) process.exitCode = 1;
}

export function registerDistributionCommands(program: Command): void {
  const distribution = program.command('distribution').description('Distributions of canonical VLANs to a site\u2019s brain and limbs');
  connected(distribution.command('list').description('Distributions, newest first (e.g. --query site_id=… --query status=failed)'))
    .option('--query <key=value>', 'a filter or paging parameter (repeatable)', (v, p: string[]) => [...p, v], [])
    .action((opts) => perform(opts, COLUMNS, (c) => c.request('GET', `${PATH}${queryString(opts.query)}`)));
  connected(distribution.command('show').description('One distribution: its plan and per-step results').argument('<id>')).action((id, opts) =>
    runCli(opts.json, async () => showDetail(await new ApiClient(opts).request<Detail>('GET', `${PATH}/${encodeURIComponent(id)}`), opts.json, null)),
  );
  connected(distribution.command('trigger').description('Distribute a canonical VLAN (its id) to a site').argument('<site_id>').argument('<vlan_id>'))
    .option('--force', 'run the saga now (without it the distribution is only planned)')
    .option('--placement <json>', 'where the VLAN goes: {brain_parent, limbs: {gateway_id: {bridge, tagged, untagged}}} (JSON, @file or -)')
    .action((siteId, vlanId, opts) =>
      runCli(opts.json, async () => {
        const detail = await new ApiClient(opts).request<Detail>('POST', `${PATH}/trigger`, {
          site_id: siteId,
          vlan_id: vlanId,
          ...(opts.force ? { force: true } : {}),
          ...(opts.placement !== undefined ? { placement: readData(opts.placement) } : {}),
        });
        showDetail(detail, opts.json, opts.force ? ['completed'] : ['planned']);
      }),
    );
  connected(distribution.command('retry').description('Run a planned distribution, or a failed / rolled back one again').argument('<id>')).action((id, opts) =>
    runCli(opts.json, async () =>
      showDetail(await new ApiClient(opts).request<Detail>('POST', `${PATH}/${encodeURIComponent(id)}/retry`, {}), opts.json, ['completed']),
    ),
  );
  connected(distribution.command('rollback').description('Undo a distribution on every device (runs its compensations)').argument('<id>'))
    .option('--confirmed', 'required: a rollback deletes what the distribution created')
    .action((id, opts) =>
      runCli(opts.json, async () =>
        showDetail(
          await new ApiClient(opts).request<Detail>('POST', `${PATH}/${encodeURIComponent(id)}/rollback`, opts.confirmed ? { confirmed: true } : {}),
          opts.json,
          ['rolled_back'],
        ),
      ),
    );
}
