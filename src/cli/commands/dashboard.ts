/**
 * @module `portcullis dashboard`: the orchestration roll-up through a running server (docs/orchestration.md,
 * `GET /api/v1/firewall/dashboard/overview`). Human output is the totals, then one row per orchestrated site
 * with its brain and the sizes of the brain's cached snapshots; `--json` prints the whole answer.
 */
import type { Command } from '@commander-js/extra-typings';
import { ApiClient, runCli } from '../client.ts';
import { connected, print } from '../resources.ts';

interface Snapshot {
  count: number;
  last_synced_at: string | null;
}
interface Overview {
  gateways: Record<string, number>;
  sites_with_orchestration: number;
  canonical_vlans: number;
  drift: { total: number; pending: number; critical: number; warning: number; info: number };
  sites: Array<{
    site_name: string;
    brain: { name: string; vendor: string; sync_status: string } | null;
    limbs: number;
    canonical_vlans: number;
    snapshots: Record<'rules' | 'nat' | 'vpn_tunnels' | 'ids_events' | 'interfaces', Snapshot> | null;
  }>;
}

const COLUMNS = ['site', 'brain', 'sync', 'limbs', 'vlans', 'rules', 'nat', 'vpn', 'ids', 'interfaces', 'rules_synced_at'];

export function registerDashboardCommand(program: Command): void {
  connected(program.command('dashboard').description('Orchestration roll-up: gateways, role maps, VLANs, drift, brain snapshots')).action(
    (opts) =>
      runCli(opts.json, async () => {
        const overview = await new ApiClient(opts).request<Overview>('GET', '/api/v1/firewall/dashboard/overview');
        if (opts.json) {
          print(overview, [], true);
          return;
        }
        const g = overview.gateways;
        const d = overview.drift;
        process.stdout.write(
          `gateways: ${g.total} (online ${g.online}, offline ${g.offline}, unknown ${g.unknown}, sync failed ${g.sync_failed}, never synced ${g.never_synced})\n` +
            `sites with orchestration: ${overview.sites_with_orchestration}; canonical VLANs: ${overview.canonical_vlans}\n` +
            `drift: ${d.pending} pending of ${d.total} (critical ${d.critical}, warning ${d.warning}, info ${d.info})\n`,
        );
        const size = (s: Snapshot | undefined) => (s === undefined ? '-' : s.count);
        const items = overview.sites.map((site) => ({
          site: site.site_name,
          brain: site.brain ? `${site.brain.name} (${site.brain.vendor})` : '-',
          sync: site.brain?.sync_status ?? '-',
          limbs: site.limbs,
          vlans: site.canonical_vlans,
          rules: size(site.snapshots?.rules),
          nat: size(site.snapshots?.nat),
          vpn: size(site.snapshots?.vpn_tunnels),
          ids: size(site.snapshots?.ids_events),
          interfaces: size(site.snapshots?.interfaces),
          rules_synced_at: site.snapshots?.rules.last_synced_at ?? '-',
        }));
        print({ items }, COLUMNS, false);
      }),
  );
}
