/**
 * @module Orchestration for scripts (docs/orchestration.md): `portcullis topology get|set|validate <site_id>`
 * (the site's role map: one brain, limbs) and `portcullis vlans list|show|create|update|delete` (canonical VLANs),
 * through a running server. `topology validate` prints the problems and exits 1 when the map is not valid.
 */
import type { Command } from '@commander-js/extra-typings';
import { ApiClient, runCli } from '../client.ts';
import { connected, perform, print, readData, registerResource } from '../resources.ts';

const topologyPath = (siteId: string) => `/api/v1/firewall/topology/${encodeURIComponent(siteId)}`;
const TOPOLOGY_COLUMNS = ['site_id', 'brain', 'limbs', 'authority_map'];
const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface ValidationReport {
  valid: boolean;
  problems: Array<{ field: string; message: string }>;
}

interface MapOptions {
  brain?: string;
  limb: string[];
  authority: string[];
  data?: string;
}

/** The body of `set` / `validate`: `--data` as given, else built from `--brain`, `--limb` and `--authority`. */
function mapBody(opts: MapOptions): Record<string, unknown> | undefined {
  if (opts.data !== undefined) return readData(opts.data) as Record<string, unknown>;
  if (opts.brain === undefined && opts.limb.length === 0 && opts.authority.length === 0) return undefined;
  const assignments = [
    ...(opts.brain !== undefined ? [{ gateway_id: opts.brain, role: 'brain' }] : []),
    ...opts.limb.map((id) => ({ gateway_id: id, role: 'limb' })),
  ];
  const authority = Object.fromEntries(
    opts.authority.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`--authority ${pair} is not resource=brain|portcullis|limb`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  return { assignments, ...(opts.authority.length > 0 ? { authority_map: authority } : {}) };
}

export function registerTopologyCommands(program: Command): void {
  const topology = program.command('topology').description("A site's role map (brain, limbs, authority map)");
  connected(topology.command('get').description("Show a site's role map").argument('<site_id>')).action((siteId, opts) =>
    perform(opts, TOPOLOGY_COLUMNS, (c) => c.request('GET', topologyPath(siteId))),
  );
  const withMapOptions = (name: string, description: string) =>
    connected(topology.command(name).description(description).argument('<site_id>'))
      .option('--brain <gateway_id>', 'the brain (pfSense or OPNsense gateway of the site)')
      .option('--limb <gateway_id>', 'a limb (RouterOS or OpenWrt gateway of the site; repeatable)', collect, [])
      .option('--authority <resource=owner>', 'an authority_map entry, e.g. dns=portcullis (repeatable)', collect, [])
      .option('--data <json>', 'the whole body instead: JSON text, @file, or - for stdin');
  withMapOptions('set', "Replace a site's role map").action((siteId, opts) =>
    perform(opts, TOPOLOGY_COLUMNS, (c) => c.request('PUT', topologyPath(siteId), mapBody(opts) ?? { assignments: [] })),
  );
  withMapOptions('validate', 'Check a proposed role map (options) or the stored one (none); exit 1 when not valid').action((siteId, opts) =>
    runCli(opts.json, async () => {
      const report = await new ApiClient(opts).request<ValidationReport>(
        'POST',
        `${topologyPath(siteId)}/validate`,
        mapBody(opts) ?? {},
      );
      if (opts.json) print(report, [], true);
      else if (report.valid) process.stdout.write('valid\n');
      else print({ items: report.problems }, ['field', 'message'], false);
      if (!report.valid) process.exitCode = 1;
    }),
  );
}

export function registerVlanCommands(program: Command): void {
  registerResource(program, {
    name: 'vlans',
    path: '/api/v1/firewall/vlans',
    description: 'Canonical VLANs (site-wide definitions; filters: --query site_id=…)',
    columns: ['id', 'site_id', 'vlan_id', 'name', 'ipv4_subnet', 'ipv6_subnet'],
    operations: ['list', 'show', 'create', 'update', 'delete'],
  });
}
