/**
 * @module `portcullis firewall rules|nat|vpn|ids|logs|settings`: the firewall module's normalized tables and
 * settings through a running server, for scripts (docs/firewall.md). Each table gets list/show/create/update/
 * delete where the API offers it (src/cli/resources.ts), plus its own verbs: `rules reorder`, `vpn stats`,
 * `ids stats|ack`, `settings show|set`.
 */
import type { Command } from '@commander-js/extra-typings';
import { connected, perform, queryString, readData, registerResource } from '../resources.ts';

const CRUD = ['list', 'show', 'create', 'update', 'delete'] as const;
const BASE = '/api/v1/firewall';

export function registerFirewallTableCommands(firewall: Command): void {
  const rules = registerResource(firewall, {
    name: 'rules',
    path: `${BASE}/rules`,
    description: 'Normalized firewall rules',
    columns: ['id', 'device_id', 'rule_order', 'action', 'protocol', 'source_address', 'dest_address', 'dest_port', 'is_enabled', 'description'],
    operations: CRUD,
  });
  connected(
    rules
      .command('reorder')
      .description("Set rule_order 1..n on exactly the listed rules of a gateway (every one of its rules, in order)")
      .argument('<ids...>', 'rule ids in their new order'),
  )
    .requiredOption('--device-id <id>', 'the gateway whose rules are ordered')
    .action((ids, opts) =>
      perform(opts, ['device_id', 'order'], (c) =>
        c.request('POST', `${BASE}/rules/reorder${queryString([`device_id=${opts.deviceId}`])}`, ids),
      ),
    );

  registerResource(firewall, {
    name: 'nat',
    path: `${BASE}/nat`,
    description: 'Normalized NAT rules (snat, dnat, masquerade, redirect)',
    columns: ['id', 'device_id', 'nat_type', 'interface', 'protocol', 'dest_address', 'dest_port', 'translated_address', 'translated_port', 'is_enabled'],
    operations: CRUD,
  });

  const vpn = registerResource(firewall, {
    name: 'vpn',
    path: `${BASE}/vpn`,
    description: 'Normalized VPN tunnels',
    columns: ['id', 'device_id', 'name', 'vpn_type', 'vpn_status', 'remote_address', 'is_enabled'],
    operations: CRUD,
  });
  connected(vpn.command('stats').description('Tunnel counts: total, up, down, error')).action((opts) =>
    perform(opts, ['total', 'up', 'down', 'error'], (c) => c.request('GET', `${BASE}/vpn/stats`)),
  );

  const ids = registerResource(firewall, {
    name: 'ids',
    path: `${BASE}/ids/alerts`,
    description: 'IDS/IPS alerts',
    columns: ['id', 'device_id', 'severity', 'signature', 'source_ip', 'dest_ip', 'dest_port', 'occurred_at', 'acknowledged'],
    operations: ['list', 'show'],
  });
  connected(ids.command('stats').description('Alert counts by severity and acknowledgement')).action((opts) =>
    perform(opts, ['total', 'unacknowledged', 'by_severity'], (c) => c.request('GET', `${BASE}/ids/alerts/stats`)),
  );
  connected(ids.command('ack').description('Acknowledge an alert').argument('<id>')).action((id, opts) =>
    perform(opts, ['id', 'acknowledged', 'acknowledged_at'], (c) =>
      c.request('POST', `${BASE}/ids/alerts/${encodeURIComponent(id)}/acknowledge`),
    ),
  );

  registerResource(firewall, {
    name: 'logs',
    path: `${BASE}/logs`,
    description: 'Firewall log entries ingested from gateways',
    columns: ['logged_at', 'device_id', 'action', 'interface', 'direction', 'protocol', 'source_ip', 'dest_ip', 'dest_port'],
    operations: ['list'],
  });

  const settings = firewall.command('settings').description("The org's firewall module settings");
  connected(settings.command('show').description('Every setting, with defaults for keys never set')).action((opts) =>
    perform(opts, ['setting', 'value'], async (c) => asRows(await c.request('GET', `${BASE}/settings`), opts.json)),
  );
  connected(settings.command('set').description('Change some settings; the others keep their value'))
    .requiredOption('--data <json>', 'the changed settings: JSON text, @file, or - for stdin')
    .action((opts) =>
      perform(opts, ['setting', 'value'], async (c) =>
        asRows(await c.request('PATCH', `${BASE}/settings`, readData(opts.data)), opts.json),
      ),
    );
}

/** A settings object as `{setting, value}` rows for the table (left as is for `--json`). */
function asRows(settings: unknown, json: boolean | undefined): unknown {
  if (json || settings === null || typeof settings !== 'object') return settings;
  return { items: Object.entries(settings as Record<string, unknown>).map(([setting, value]) => ({ setting, value })) };
}
