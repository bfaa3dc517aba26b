/**
 * @module Orchestration for scripts (docs/orchestration.md), through a running server:
 * - `portcullis topology get|set|validate|delete <site_id>`: the site's role map (one brain, limbs, authority map);
 *   `validate` prints the problems and exits 1 when the map is not valid.
 * - `portcullis vlans list|show|create|update|delete` (canonical VLANs), `vlans apply-template <template_id>
 *   <site_id>` and `vlans templates list|create|update|delete` (the org's VLAN templates).
 * - `portcullis dhcp scopes|reservations list|create|delete` and `portcullis dns records list|create|update|delete`.
 * A refusal exits 1 with the server's code and the field it names.
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
  connected(topology.command('delete').description("Remove a site's role map").argument('<site_id>')).action((siteId, opts) =>
    runCli(opts.json, async () => {
      await new ApiClient(opts).request('DELETE', topologyPath(siteId));
      process.stdout.write(opts.json ? `${JSON.stringify({ deleted: siteId })}\n` : `deleted role map of ${siteId}\n`);
    }),
  );
}

const VLAN_COLUMNS = ['id', 'site_id', 'vlan_id', 'name', 'ipv4_subnet', 'ipv6_subnet'];

export function registerVlanCommands(program: Command): void {
  const vlans = registerResource(program, {
    name: 'vlans',
    path: '/api/v1/firewall/vlans',
    description: 'Canonical VLANs (site-wide definitions; filters: --query site_id=…)',
    columns: VLAN_COLUMNS,
    operations: ['list', 'show', 'create', 'update', 'delete'],
  });
  connected(
    vlans
      .command('apply-template')
      .description('Create a VLAN at a site from a template (--data overrides its values, e.g. {"vlan_id":31})')
      .argument('<template_id>')
      .argument('<site_id>'),
  )
    .option('--data <json>', 'overrides: JSON text, @file, or - for stdin')
    .action((templateId, siteId, opts) =>
      perform(opts, VLAN_COLUMNS, (c) =>
        c.request(
          'POST',
          `/api/v1/firewall/templates/${encodeURIComponent(templateId)}/apply/${encodeURIComponent(siteId)}`,
          opts.data !== undefined ? readData(opts.data) : {},
        ),
      ),
    );
  registerResource(vlans, {
    name: 'templates',
    path: '/api/v1/firewall/templates',
    description: "The org's VLAN templates (blueprints applied to a site with `vlans apply-template`)",
    columns: ['id', 'name', 'vlan_id', 'vlan_name', 'ipv4_subnet', 'ipv6_subnet'],
    operations: ['list', 'create', 'update', 'delete'],
  });
}

export function registerDhcpCommands(program: Command): void {
  const dhcp = program.command('dhcp').description('Canonical DHCP scopes and reservations of VLANs');
  registerResource(dhcp, {
    name: 'scopes',
    path: '/api/v1/firewall/dhcp/scopes',
    description: "A VLAN's DHCP scopes (filters: --query site_id=… or canonical_vlan_id=…)",
    columns: ['id', 'canonical_vlan_id', 'ip_version', 'range_start', 'range_end', 'lease_seconds'],
    operations: ['list', 'create', 'delete'],
  });
  registerResource(dhcp, {
    name: 'reservations',
    path: '/api/v1/firewall/dhcp/reservations',
    description: "A scope's fixed addresses per MAC (filters: --query site_id=… or scope_id=…)",
    columns: ['id', 'scope_id', 'mac', 'ip_address', 'hostname'],
    operations: ['list', 'create', 'delete'],
  });
}

export function registerDnsCommands(program: Command): void {
  const dns = program.command('dns').description('Canonical DNS host overrides of sites');
  registerResource(dns, {
    name: 'records',
    path: '/api/v1/firewall/dns/records',
    description: 'DNS host overrides, host.domain → address (filters: --query site_id=…)',
    columns: ['id', 'site_id', 'host', 'domain', 'record_type', 'ip_address'],
    operations: ['list', 'create', 'update', 'delete'],
  });
}
