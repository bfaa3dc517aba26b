/**
 * @module `portcullis import start|show|step|cancel|list` and `portcullis reconcile import|alignment|distribute`:
 * the brownfield import wizard and reconciliation through a running server (docs/orchestration.md). A script walks
 * the wizard with `import start SITE`, `import step ID 2 --role GW=brain --role GW=limb`, `import step ID 4
 * --decide vlan:20=adopt` (or `--data @decisions.json`), `import step ID 5 --force`; every command prints the
 * session (the step it waits for, each step's status), `--json` the whole answer.
 */
import type { Command } from '@commander-js/extra-typings';
import { connected, perform, queryString, readData } from '../resources.ts';

const IMPORT = '/api/v1/firewall/import';
const RECONCILE = '/api/v1/firewall/reconciliation';
const SESSION_COLUMNS = ['id', 'site_id', 'status', 'current_step', 'next'];
const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `key=value` pairs into an object (the key may itself contain `:` or `=`-free text such as `vlan:20`). */
function pairs(list: readonly string[], option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of list) {
    const at = pair.lastIndexOf('=');
    if (at <= 0) throw new Error(`${option} ${pair} is not key=value`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

interface Session {
  steps: Array<{ step: number; name: string; status: string; error: { message: string } | null }>;
}

/** The session as a table: one row per step (with `--json`, the whole answer). */
const bySteps = (json: boolean | undefined) => (session: Session) =>
  json ? session : { items: session.steps.map((s) => ({ ...s, error: s.error?.message ?? '' })) };
const STEP_COLUMNS = ['step', 'name', 'status', 'error'];

export function registerImportCommands(program: Command): void {
  const wizard = program.command('import').description('Brownfield import wizard: six steps from the running devices to the canonical state');
  connected(wizard.command('start').description('Start an import of a site (runs step 1, discover)').argument('<site_id>')).action((siteId, opts) =>
    perform(opts, STEP_COLUMNS, async (c) => bySteps(opts.json)(await c.request<Session>('POST', `${IMPORT}/start`, { site_id: siteId }))),
  );
  connected(wizard.command('show').description('A session: each step with its status (--json: payloads and results)').argument('<id>')).action((id, opts) =>
    perform(opts, STEP_COLUMNS, async (c) => bySteps(opts.json)(await c.request<Session>('GET', `${IMPORT}/${encodeURIComponent(id)}`))),
  );
  connected(wizard.command('list').description('Import sessions, newest first (e.g. --query site_id=…)'))
    .option('--query <key=value>', 'a filter or paging parameter (repeatable)', collect, [])
    .action((opts) => perform(opts, SESSION_COLUMNS, (c) => c.request('GET', `${IMPORT}${queryString(opts.query)}`)));
  connected(
    wizard
      .command('step')
      .description('Run the step the session waits for: 2 (--role GW=brain|limb …), 4 (--decide KEY=adopt|skip|merge|ignore …), 5 (--force writes to the devices)')
      .argument('<id>')
      .argument('<step>'),
  )
    .option('--role <gateway_id=role>', 'step 2: a gateway and its role (repeatable)', collect, [])
    .option('--decide <key=decision>', 'step 4: a resource key and its decision (repeatable; undecided resources are skipped)', collect, [])
    .option('--data <json>', 'the step\u2019s payload as JSON ({"roles": …} or {"decisions": …}), @file or - for stdin')
    .option('--force', 'step 5: run the distributions\u2019 device writes (else they are only planned)')
    .action((id, step, opts) =>
      perform(opts, STEP_COLUMNS, async (c) => {
        const number = Number(step);
        const payload = opts.data
          ? readData(opts.data)
          : number === 2
            ? { roles: pairs(opts.role, '--role') }
            : number === 4
              ? { decisions: pairs(opts.decide, '--decide') }
              : undefined;
        const body = { step: number, ...(payload !== undefined ? { payload } : {}), ...(opts.force ? { force: true } : {}) };
        return bySteps(opts.json)(await c.request<Session>('POST', `${IMPORT}/${encodeURIComponent(id)}/step`, body));
      }),
    );
  connected(wizard.command('cancel').description('Cancel a session that has not ended').argument('<id>')).action((id, opts) =>
    perform(opts, SESSION_COLUMNS, (c) => c.request('POST', `${IMPORT}/${encodeURIComponent(id)}/cancel`)),
  );
}

export function registerReconcileCommands(program: Command): void {
  const reconcile = program.command('reconcile').description('Reconciliation of a site with a role map: import from the brain, alignment, distribute to limbs');
  connected(reconcile.command('import').description("Import the brain's VLAN interfaces into the canonical VLANs; orphans are listed").argument('<site_id>'))
    .option('--dry-run', 'show what would change, change nothing')
    .action((siteId, opts) =>
      perform(opts, ['vlan_id', 'name', 'ipv4_subnet', 'action'], async (c) => {
        const answer = await c.request<{ vlans: unknown[]; orphaned: Array<{ vlan_id: number; name: string }> }>(
          'POST',
          `${RECONCILE}/${encodeURIComponent(siteId)}/import`,
          { dry_run: opts.dryRun === true },
        );
        if (opts.json) return answer;
        return { items: [...answer.vlans, ...answer.orphaned.map((o) => ({ ...o, action: 'orphan' }))] };
      }),
    );
  connected(reconcile.command('alignment').description('Canonical state against every device: aligned, missing, modified, extra, error').argument('<site_id>'))
    .option('--status <status>', 'only items of this status')
    .action((siteId, opts) =>
      perform(opts, ['key', 'device_name', 'role', 'status', 'message'], async (c) => {
        const answer = await c.request<{ items: Array<{ status: string }> }>('GET', `${RECONCILE}/${encodeURIComponent(siteId)}/alignment`);
        if (opts.json) return answer;
        return { items: answer.items.filter((i) => opts.status === undefined || i.status === opts.status) };
      }),
    );
  connected(reconcile.command('distribute').description('Distribute canonical VLANs some limb does not carry').argument('<site_id>'))
    .option('--vlan <id>', 'only this 802.1Q VLAN id (repeatable)', collect, [])
    .option('--force', 'run the device writes (else the distributions are only planned)')
    .action((siteId, opts) =>
      perform(opts, ['vlan_id', 'limbs_missing', 'distribution', 'error'], async (c) => {
        const answer = await c.request<{ distributed: unknown[] }>('POST', `${RECONCILE}/${encodeURIComponent(siteId)}/distribute`, {
          ...(opts.vlan.length > 0 ? { vlan_ids: opts.vlan.map(Number) } : {}),
          ...(opts.force ? { force: true } : {}),
        });
        return opts.json ? answer : { items: answer.distributed };
      }),
    );
}
