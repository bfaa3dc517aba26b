/**
 * @module What the box reports (docs/reference/pfrest-emulator.md §6.4): system status, CARP, services and service
 * control, ARP table, OpenVPN/IPsec/WireGuard status, firewall and system logs, reboot and halt.
 *
 * Upstream (pfRest 805c7f0c), each model's fields in declaration order: `Models/SystemStatus.inc:36-181`,
 * `Models/CARP.inc:17-38` (GET/PATCH `enable`, `maintenance_mode`), `Models/Service.inc:13-60` and `_create()`
 * `:83-102` (POST `/status/service` with the service `id`, `name` and `action` start|stop|restart, answers the
 * service re-read), `Models/ARPTable.inc:24-78`, `Models/OpenVPNServerStatus.inc:20-86`,
 * `Models/OpenVPNClientStatus.inc:26-148`, `Models/IPsecSAStatus.inc:39-199`,
 * `Models/WireGuardTunnelStatus.inc:29-123`,
 * `Models/WireGuardPeerStatus.inc:28-119` (`preshared_key` is `sensitive`, hidden unless the package setting
 * `expose_sensitive_fields` is on, `Core/Model.inc:1277-1300`), `Models/FirewallLog.inc:22-33` and
 * `Models/SystemLog.inc:22-33` (one `text` per log line), `Models/SystemReboot.inc`/`SystemHalt.inc:12-16` (no
 * fields: `data` is `[]`); endpoints `Endpoints/Status{System,CARP,Services,Service,OpenVPNServers,OpenVPNClients,
 * IPsecSAs,WireGuardTunnels,WireGuardPeers,LogsFirewall,LogsSystem}Endpoint.inc:15-16`,
 * `Endpoints/DiagnosticsARPTableEndpoint.inc:15`, `Endpoints/Diagnostics{Reboot,HaltSystem}Endpoint.inc:15`.
 */
import type { AreaContext, Endpoint, RequestContext } from '../endpoint.ts';
import { PfRestError } from '../envelope.ts';
import { readList, valueText } from '../query.ts';
import { type ModelSpec, type Row, validateRow } from '../spec.ts';
import { listEndpoint, represent } from './crud.ts';

// biome-ignore format: field tables read better packed
const FIELDS = {
  system: ['platform', 'serial', 'netgate_id', 'uptime', 'bios_vendor', 'bios_version', 'bios_date', 'kernel_pti',
    'mds_mitigation', 'temp_c', 'temp_f', 'cpu_model', 'cpu_load_avg', 'cpu_count', 'cpu_usage', 'mbuf_usage',
    'mem_usage', 'swap_usage', 'disk_usage'],
  service: ['name', 'action', 'description', 'enabled', 'status'],
  arp: ['hostname', 'ip_address', 'mac_address', 'interface', 'type', 'permanent', 'dnsresolve', 'expires'],
  openvpnServer: ['name', 'mode', 'port', 'vpnid', 'mgmt', 'conns', 'routes'],
  openvpnClient: ['name', 'port', 'vpnid', 'mgmt', 'status', 'state', 'state_detail', 'connect_time', 'virtual_addr',
    'virtual_addr6', 'remote_host', 'remote_port', 'local_host', 'local_port'],
  ipsecSa: ['con_id', 'uniqueid', 'version', 'state', 'local_host', 'local_port', 'local_id', 'remote_host',
    'remote_port', 'remote_id', 'initiator_spi', 'responder_spi', 'nat_remote', 'nat_any', 'encr_alg', 'encr_keysize',
    'integ_alg', 'prf_alg', 'dh_group', 'established', 'rekey_time', 'child_sas'],
  wireguardTunnel: ['name', 'status', 'public_key', 'listen_port', 'mtu', 'transfer_rx', 'transfer_tx', 'inpkts',
    'outpkts', 'descr', 'peers'],
  /** Without `preshared_key` (sensitive). */
  wireguardPeer: ['tunnel_device', 'public_key', 'endpoint', 'allowed_ips', 'latest_handshake', 'transfer_rx',
    'transfer_tx', 'persistent_keepalive', 'descr'],
  log: ['text'],
} as const;

/**
 * A log read. Without a query or sort, pfRest hands `limit`, `offset` and `reverse` to the log reader
 * (`Core/Model.inc:2056-2066`, `ModelTraits/LogFileModelTraits.inc:335-383`): `limit` takes the newest lines
 * after skipping the newest `offset`, in file order; `reverse` pages from the oldest and returns the page newest
 * first; ids are page positions plus `offset` (`Core/Model.inc:2101-2105`). With a query or sort, every line is read
 * (ids are line positions) and the usual query → sort → page → reverse applies (`:2160-2175`).
 */
function readLog(lines: readonly string[], r: RequestContext): Row[] {
  const { limit, offset, reverse, sortBy } = r.controls;
  const queried = Object.keys(r.data).length > 0 || sortBy !== null;
  if (queried || (limit <= 0 && offset <= 0 && !reverse)) {
    return readList(
      lines.map((text, id) => ({ id, text })),
      r.data,
      FIELDS.log,
      r.controls,
    );
  }
  let page: string[];
  if (limit <= 0 && offset <= 0) page = [...lines].reverse();
  else if (!reverse) {
    const end = Math.max(0, lines.length - offset);
    page = lines.slice(limit > 0 ? Math.max(0, end - limit) : 0, end);
  } else page = lines.slice(offset, limit > 0 ? offset + limit : undefined).reverse();
  return page.map((text, i) => ({ id: i + offset, text }));
}

const SERVICE_CONTROL: ModelSpec = {
  fields: [
    { name: 'name', type: 'string', required: true },
    { name: 'action', type: 'string', required: true, choices: ['start', 'stop', 'restart'] },
  ],
};

export function statusEndpoints(ctx: AreaContext): Record<string, Endpoint> {
  const live = () => ctx.box().live;
  const logLines = (lines: () => readonly string[]): Endpoint => ({
    methods: ['GET'],
    fields: FIELDS.log,
    handle: (r) => readLog(lines(), r),
  });
  const power = (state: 'rebooting' | 'halted'): Endpoint => ({
    methods: ['POST'],
    fields: [],
    handle: () => {
      live().power = state;
      ctx.effects.persist();
      return [];
    },
  });
  return {
    '/api/v2/status/system': {
      methods: ['GET'],
      fields: FIELDS.system,
      handle: () => {
        const { id: _none, ...row } = represent(FIELDS.system, live().system, 0);
        return row;
      },
    },
    '/api/v2/status/carp': {
      methods: ['GET', 'PATCH'],
      fields: ['enable', 'maintenance_mode'],
      handle: (r) => {
        if (r.method === 'PATCH') {
          const row = validateRow(
            {
              fields: [
                { name: 'enable', type: 'boolean', required: true },
                { name: 'maintenance_mode', type: 'boolean', required: true },
              ],
            },
            { ...live().carp, ...r.data },
            [],
            null,
            null,
          );
          live().carp = { enable: row.enable as boolean, maintenance_mode: row.maintenance_mode as boolean };
          ctx.effects.persist();
        }
        return { ...live().carp };
      },
    },
    '/api/v2/status/services': listEndpoint(FIELDS.service, () => live().services),
    '/api/v2/status/service': {
      methods: ['POST'],
      fields: FIELDS.service,
      handle: (r) => {
        const id = r.data.id;
        const services = live().services;
        if (id === undefined) throw new PfRestError(400, 'MODEL_REQUIRES_ID', "Field 'id' is required.");
        const service = typeof id === 'number' ? services[id] : undefined;
        if (service === undefined) {
          throw new PfRestError(404, 'MODEL_OBJECT_NOT_FOUND', `Object with ID '${valueText(id)}' does not exist.`);
        }
        const row = validateRow(SERVICE_CONTROL, { name: service.name, ...r.data }, [], null, null);
        if (row.name !== service.name) {
          const owner = services.findIndex((s) => s.name === row.name);
          throw new PfRestError(
            400,
            'FIELD_MUST_BE_UNIQUE',
            `Field 'name' must be unique. Value is in use by object with ID '${owner}'.`,
          );
        }
        service.status = row.action !== 'stop';
        ctx.effects.persist();
        return represent(FIELDS.service, { ...service, action: row.action }, id as number);
      },
    },
    // `ARPTable::_delete()` runs `arp -d` for the entry (`Models/ARPTable.inc:91-93`).
    '/api/v2/diagnostics/arp_table': listEndpoint(
      FIELDS.arp,
      () => live().arp,
      (kept) => {
        live().arp = kept;
        ctx.effects.persist();
      },
    ),
    '/api/v2/status/openvpn/servers': listEndpoint(FIELDS.openvpnServer, () => live().openvpnServers),
    '/api/v2/status/openvpn/clients': listEndpoint(FIELDS.openvpnClient, () => live().openvpnClients),
    '/api/v2/status/ipsec/sas': listEndpoint(FIELDS.ipsecSa, () => live().ipsecSas),
    '/api/v2/status/wireguard/tunnels': listEndpoint(FIELDS.wireguardTunnel, () => live().wireguardTunnels),
    '/api/v2/status/wireguard/peers': listEndpoint(FIELDS.wireguardPeer, () => live().wireguardPeers),
    '/api/v2/status/logs/firewall': logLines(() => live().firewallLog),
    '/api/v2/status/logs/system': logLines(() => live().systemLog),
    '/api/v2/diagnostics/reboot': power('rebooting'),
    '/api/v2/diagnostics/halt_system': power('halted'),
  };
}
