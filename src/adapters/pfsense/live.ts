/**
 * @module Live reads of a pfSense box over pfRest v2: one typed method per endpoint, each the pfRest endpoint the
 * map in docs/reference/pfsense-live-reads.md §2 names. Rows are returned as pfRest represents them (field names
 * of the upstream model); normalising them is the caller's job (src/firewall/live.ts). Failures are
 * `PfSenseError`s: PFS300 for an error envelope, the transport/auth codes otherwise, PFS400 for a wrong shape.
 * pfRest has no endpoint for the kernel routing table or pf info (§3): there are no methods for them.
 */
import type { VersionInfo } from '../types.ts';
import type { PfSenseAdapter } from './adapter.ts';
import { PfSenseError } from './errors.ts';

/** One row as pfRest represents it: `id` (list position) first, then the model's fields. */
export type PfRestRow = Record<string, unknown>;

/** The part of the adapter the live reads use. */
type LiveSource = Pick<PfSenseAdapter, 'read' | 'version'>;

const isRow = (v: unknown): v is PfRestRow => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Highest `limit` a live read asks for (states, logs): bounds the device's work and our memory. */
export const MAX_LIVE_LIMIT = 1_000;

export class PfSenseLiveReads {
  constructor(private readonly source: LiveSource) {}

  private async list(path: string, what: string, query?: URLSearchParams): Promise<PfRestRow[]> {
    const data = await this.source.read(path, what, query);
    if (!Array.isArray(data) || !data.every(isRow)) {
      const detail = `Unexpected data from ${path} while trying to ${what}: not a list of objects.`;
      throw new PfSenseError('PFS400', detail);
    }
    return data;
  }

  private async one(path: string, what: string): Promise<PfRestRow> {
    const data = await this.source.read(path, what);
    if (!isRow(data)) {
      throw new PfSenseError('PFS400', `Unexpected data from ${path} while trying to ${what}: not an object.`);
    }
    return data;
  }

  private static limited(limit: number): URLSearchParams {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIVE_LIMIT) {
      throw new RangeError(`limit must be an integer 1..${MAX_LIVE_LIMIT}, got ${limit}`);
    }
    return new URLSearchParams({ limit: String(limit) });
  }

  /** pfSense's version and pfRest's (`unknown` when the key may not read it), as the adapter reads them. */
  version(): Promise<VersionInfo> {
    return this.source.version();
  }

  /** `SystemStatus`: platform, uptime, CPU, memory, disk, temperature. */
  systemStatus(): Promise<PfRestRow> {
    return this.one('/api/v2/status/system', 'read the system status');
  }

  /** `RoutingGatewayStatus`: name, srcip, monitorip, delay, stddev, loss, status, substatus. */
  gatewayStatus(): Promise<PfRestRow[]> {
    return this.list('/api/v2/status/gateways', 'read the gateway status');
  }

  /** `FirewallRule` rows in rule order. */
  rules(): Promise<PfRestRow[]> {
    return this.list('/api/v2/firewall/rules', 'list firewall rules');
  }

  portForwards(): Promise<PfRestRow[]> {
    return this.list('/api/v2/firewall/nat/port_forwards', 'list port forwards');
  }

  outboundMappings(): Promise<PfRestRow[]> {
    return this.list('/api/v2/firewall/nat/outbound/mappings', 'list outbound NAT mappings');
  }

  /** `OutboundNATMode`: `{mode}` — automatic, hybrid, advanced or disabled. */
  outboundMode(): Promise<PfRestRow> {
    return this.one('/api/v2/firewall/nat/outbound/mode', 'read the outbound NAT mode');
  }

  oneToOneMappings(): Promise<PfRestRow[]> {
    return this.list('/api/v2/firewall/nat/one_to_one/mappings', 'list 1:1 NAT mappings');
  }

  aliases(): Promise<PfRestRow[]> {
    return this.list('/api/v2/firewall/aliases', 'list aliases');
  }

  /** `NetworkInterface` rows: the configuration (`if`, `descr`, `enable`, addressing). */
  interfaces(): Promise<PfRestRow[]> {
    return this.list('/api/v2/interfaces', 'list interfaces');
  }

  /** `InterfaceStats` rows: link status, addresses and counters. */
  interfaceStats(): Promise<PfRestRow[]> {
    return this.list('/api/v2/status/interfaces', 'read the interface statistics');
  }

  dhcpLeases(): Promise<PfRestRow[]> {
    return this.list('/api/v2/status/dhcp_server/leases', 'list DHCP leases');
  }

  arp(): Promise<PfRestRow[]> {
    return this.list('/api/v2/diagnostics/arp_table', 'read the ARP table');
  }

  /** `CARP`: enable, maintenance_mode. */
  carp(): Promise<PfRestRow> {
    return this.one('/api/v2/status/carp', 'read the CARP status');
  }

  services(): Promise<PfRestRow[]> {
    return this.list('/api/v2/status/services', 'list services');
  }

  openvpnServers(): Promise<PfRestRow[]> {
    return this.list('/api/v2/status/openvpn/servers', 'read the OpenVPN server status');
  }

  openvpnClients(): Promise<PfRestRow[]> {
    return this.list('/api/v2/status/openvpn/clients', 'read the OpenVPN client status');
  }

  ipsecSas(): Promise<PfRestRow[]> {
    return this.list('/api/v2/status/ipsec/sas', 'read the IPsec security associations');
  }

  wireguardTunnels(): Promise<PfRestRow[]> {
    return this.list('/api/v2/status/wireguard/tunnels', 'read the WireGuard tunnel status');
  }

  wireguardPeers(): Promise<PfRestRow[]> {
    return this.list('/api/v2/status/wireguard/peers', 'read the WireGuard peer status');
  }

  /** The first `limit` rows of the state table (pfRest's own default would be 100). */
  states(limit: number): Promise<PfRestRow[]> {
    return this.list('/api/v2/firewall/states', 'read the state table', PfSenseLiveReads.limited(limit));
  }

  /** `FirewallStatesSize`: maximumstates, defaultmaximumstates, currentstates. */
  statesSize(): Promise<PfRestRow> {
    return this.one('/api/v2/firewall/states/size', 'read the state table size');
  }

  /** The newest `limit` raw lines of a log, oldest first (log paging: docs/reference/pfrest-emulator.md §6.4). */
  async log(kind: 'firewall' | 'system', limit: number): Promise<string[]> {
    const path = `/api/v2/status/logs/${kind}`;
    const rows = await this.list(path, `read the ${kind} log`, PfSenseLiveReads.limited(limit));
    return rows.map((row) => {
      if (typeof row.text !== 'string') {
        throw new PfSenseError('PFS400', `Unexpected data from ${path}: a log row without a \`text\` string.`);
      }
      return row.text;
    });
  }
}
