/**
 * @module RouterOS's live view: the vendor-neutral live reads (src/adapters/live.ts) from RouterOS REST menus
 * (docs/reference/routeros-api.md §5, §6). Every row is read with one bulk GET per menu (the REST server is serial,
 * §7). Dynamic rules and entries are listed, marked in `vendor_data.dynamic`. What RouterOS REST cannot serve
 * through this contract is in `ROUTEROS_LIVE_UNAVAILABLE`.
 */
import type {
  HealthCheck,
  LiveAlias,
  LiveArpEntry,
  LiveBridgeVlan,
  LiveConnections,
  LiveGateway,
  LiveHaStatus,
  LiveHealth,
  LiveInterface,
  LiveLease,
  LiveLogEntry,
  LiveNat,
  LiveNatRule,
  LiveRule,
  LiveService,
  LiveStatus,
  LiveVpn,
  LogKind,
  RuleAction,
} from '../live.ts';
import type { FirewallAdapter } from '../types.ts';
import { RouterOsAdapter, type RosRow, normalizeListAddress } from './adapter.ts';
import { bridgeVlanRows } from './bridge-vlan.ts';
import { RouterOsError } from './errors.ts';

/** Why RouterOS cannot serve a read through the live contract (docs/reference/routeros-api.md §6, §8). */
export const ROUTEROS_LIVE_UNAVAILABLE = {
  'read.routes':
    'the live-read contract has no route read yet (RouterOS serves ip/route over REST, see docs/reference/routeros-api.md §6); not offered until it has one',
  'read.vpn':
    'RouterOS keeps each tunnel type in its own menu (interface/wireguard, ip/ipsec, interface/ovpn-*) with no common status; not mapped yet',
  'read.services':
    'RouterOS has no service list with running state like a Unix host (ip/service lists management ports only)',
  'read.ha_status': 'RouterOS has no CARP; VRRP interfaces are ordinary interfaces (interface/vrrp)',
  'read.pf_info': 'RouterOS does not run pf',
  'read.ids_alerts':
    'RouterOS has no IDS/IPS engine and its REST menus serve no alert list (docs/reference/routeros-api.md §6)',
  'read.config':
    'RouterOS REST has no configuration download (export is a console command whose output REST does not return as a file)',
  'read.vlan_interfaces': 'not read by this adapter yet: no VLAN interface mapping for RouterOS (docs/reference/brain-l3.md §6)',
  'read.dhcp_scopes': 'not read by this adapter yet: no DHCP scope mapping for RouterOS (docs/reference/brain-l3.md §6)',
  'read.dhcp_static_mappings': 'not read by this adapter yet: no DHCP static mapping read for RouterOS (docs/reference/brain-l3.md §6)',
  'read.dns_overrides': 'not read by this adapter yet: no DNS host override read for RouterOS (docs/reference/brain-l3.md §6)',
} as const;

/** The live view of a RouterOS adapter built by this vendor's descriptor. */
export function routerOsLiveView(adapter: FirewallAdapter): LiveGateway {
  if (!(adapter instanceof RouterOsAdapter)) throw new TypeError(`not a RouterOS adapter: ${adapter.vendor}`);
  return new RouterOsLiveGateway(adapter);
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
};
const bool = (v: unknown): boolean => v === true || v === 'true' || v === 'yes';

/** `*1A` → 26 (the numeric part of a RouterOS `.id`), or null. */
export function idNumber(id: unknown): number | null {
  return typeof id === 'string' && /^\*[0-9A-Fa-f]+$/.test(id) ? Number.parseInt(id.slice(1), 16) : null;
}

const ACTIONS: Readonly<Record<string, RuleAction>> = { accept: 'allow', drop: 'deny', reject: 'reject' };

/** Filter properties the neutral rule carries (anything else set on a rule is an unmodelled option). */
const MODELLED = new Set([
  '.id', '.nextid', 'chain', 'action', 'src-address', 'dst-address', 'src-address-list', 'dst-address-list',
  'src-port', 'dst-port', 'protocol', 'in-interface', 'out-interface', 'in-interface-list', 'out-interface-list',
  'comment', 'disabled', 'log', 'log-prefix', 'icmp-options', 'dynamic', 'invalid', 'bytes', 'packets', 'place-before',
]);

/** The neutral rule of a filter row (`position` is its index in the chain order RouterOS returns). */
export function ruleFromRow(row: RosRow, position: number, family: 'ip' | 'ipv6'): LiveRule {
  const action = str(row.action);
  const interfaces = [row['in-interface'], row['out-interface'], row['in-interface-list'], row['out-interface-list']]
    .map(str)
    .filter((x): x is string => x !== null);
  const unmodelled = Object.keys(row)
    .filter((k) => !MODELLED.has(k) && str(row[k]) !== null && row[k] !== 'false')
    .sort();
  if (action !== null && ACTIONS[action] === undefined) unmodelled.unshift(`action=${action}`);
  return {
    vendor_rule_id: str(row['.id']),
    position,
    action: action === null ? null : (ACTIONS[action] ?? null),
    interfaces,
    direction: str(row.chain),
    ip_version: family === 'ip' ? 'inet' : 'inet6',
    protocol: str(row.protocol) ?? 'any',
    source_address: str(row['src-address']) ?? str(row['src-address-list']) ?? 'any',
    source_port: str(row['src-port']),
    dest_address: str(row['dst-address']) ?? str(row['dst-address-list']) ?? 'any',
    dest_port: str(row['dst-port']),
    description: str(row.comment) ?? '',
    is_enabled: !bool(row.disabled),
    log_enabled: bool(row.log),
    floating: false,
    quick: true,
    icmp_types: str(row['icmp-options']) === null ? null : [str(row['icmp-options']) as string],
    schedule: null,
    unmodelled_options: unmodelled,
    vendor_data: { ...row, dynamic: bool(row.dynamic) },
  };
}

/** The neutral NAT entry of a nat row. */
export function natFromRow(row: RosRow): LiveNatRule {
  const chain = str(row.chain);
  const action = str(row.action);
  const dnat = chain === 'dstnat';
  return {
    nat_type: action === 'netmap' ? 'binat' : dnat ? 'dnat' : 'snat',
    vendor_id: idNumber(row['.id']),
    write_target: bool(row.dynamic) ? null : str(row['.id']),
    interface: str(row['in-interface']) ?? str(row['out-interface']) ?? str(row['in-interface-list']) ?? str(row['out-interface-list']),
    protocol: str(row.protocol),
    original_address: str(row['src-address']) ?? str(row['src-address-list']),
    original_port: str(row['src-port']),
    destination_address: str(row['dst-address']) ?? str(row['dst-address-list']),
    destination_port: str(row['dst-port']),
    translated_address: action === 'masquerade' ? 'interface address' : str(row['to-addresses']),
    translated_port: str(row['to-ports']),
    description: str(row.comment) ?? '',
    is_enabled: !bool(row.disabled),
    vendor_data: { ...row, dynamic: bool(row.dynamic) },
  };
}

class RouterOsLiveGateway implements LiveGateway {
  constructor(private readonly ros: RouterOsAdapter) {}

  /** A menu that may be absent on this router (IPv6 off, a package missing) reads as empty. */
  private async optional(path: string, what: string): Promise<RosRow[]> {
    try {
      return await this.ros.read(path, what);
    } catch (err) {
      if (err instanceof RouterOsError && err.code === 'ROS104') return [];
      throw err;
    }
  }

  async status(): Promise<LiveStatus> {
    const r = await this.ros.systemResource();
    const total = num(r['total-memory']);
    const free = num(r['free-memory']);
    const hddTotal = num(r['total-hdd-space']);
    const hddFree = num(r['free-hdd-space']);
    const pct = (t: number | null, f: number | null) => (t !== null && f !== null && t > 0 ? Math.round(((t - f) / t) * 1000) / 10 : null);
    return {
      product_version: str(r.version),
      api_version: 'REST',
      platform: str(r['board-name']) ?? str(r['architecture-name']),
      uptime: str(r.uptime),
      cpu: { model: str(r.cpu), count: num(r['cpu-count']), usage_percent: num(r['cpu-load']), load_avg: [] },
      memory_usage_percent: pct(total, free),
      disk_usage_percent: pct(hddTotal, hddFree),
      temperature_c: null,
      vendor_data: r,
    };
  }

  async firewallRules(): Promise<{ items: LiveRule[] }> {
    const v4 = await this.ros.read('/ip/firewall/filter', 'read the firewall filter rules');
    const v6 = await this.optional('/ipv6/firewall/filter', 'read the IPv6 firewall filter rules');
    return {
      items: [...v4.map((r, i) => ruleFromRow(r, i, 'ip')), ...v6.map((r, i) => ruleFromRow(r, v4.length + i, 'ipv6'))],
    };
  }

  async natRules(): Promise<LiveNat> {
    const rows = await this.ros.read('/ip/firewall/nat', 'read the NAT rules');
    const port_forwards: LiveNatRule[] = [];
    const mappings: LiveNatRule[] = [];
    const one_to_one: LiveNatRule[] = [];
    for (const row of rows) {
      const rule = natFromRow(row);
      if (rule.nat_type === 'binat') one_to_one.push(rule);
      else if (row.chain === 'dstnat') port_forwards.push(rule);
      else if (row.chain === 'srcnat') mappings.push(rule);
    }
    return { port_forwards, outbound: { mode: 'rules', mappings }, one_to_one };
  }

  async aliases(): Promise<{ items: LiveAlias[] }> {
    const lists = new Map<string, LiveAlias>();
    const rows = [
      ...(await this.ros.read('/ip/firewall/address-list', 'read the address lists')),
      ...(await this.optional('/ipv6/firewall/address-list', 'read the IPv6 address lists')),
    ];
    for (const row of rows) {
      const name = str(row.list);
      const address = str(row.address);
      if (name === null || address === null || bool(row.disabled)) continue;
      let alias = lists.get(name);
      if (alias === undefined) {
        alias = { name, type: 'host', description: '', entries: [] };
        lists.set(name, alias);
      }
      alias.entries.push({ address: normalizeListAddress(address), detail: str(row.comment) ?? '' });
    }
    return { items: [...lists.values()].sort((a, b) => a.name.localeCompare(b.name)) };
  }

  async interfaces(): Promise<{ items: LiveInterface[] }> {
    const rows = await this.ros.read('/interface', 'read the interfaces');
    const addresses = await this.optional('/ip/address', 'read the IP addresses');
    const v6 = await this.optional('/ipv6/address', 'read the IPv6 addresses');
    const firstOn = (list: RosRow[], name: string) =>
      str(list.find((a) => a.interface === name && !bool(a.disabled))?.address);
    return {
      items: rows.map((r): LiveInterface => {
        const name = str(r.name) ?? str(r['.id']) ?? '';
        const dhcp = addresses.find((a) => a.interface === name && bool(a.dynamic));
        return {
          id: name,
          device: str(r['default-name']) ?? name,
          description: str(r.comment) ?? name,
          enabled: !bool(r.disabled),
          status: bool(r.running) ? 'up' : 'down',
          mac: str(r['mac-address']),
          mtu: num(r['actual-mtu']) ?? num(r.mtu),
          ipv4: firstOn(addresses, name),
          ipv6: firstOn(v6, name),
          ipv4_mode: firstOn(addresses, name) === null ? null : dhcp ? 'dhcp' : 'static',
          ipv6_mode: null,
          block_private: null,
          block_bogons: null,
          media: str(r.type),
          gateway: null,
          counters: {
            in_bytes: num(r['rx-byte']),
            out_bytes: num(r['tx-byte']),
            in_packets: num(r['rx-packet']),
            out_packets: num(r['tx-packet']),
            in_errors: num(r['rx-error']),
            out_errors: num(r['tx-error']),
            collisions: null,
          },
          vendor_data: r,
        };
      }),
    };
  }

  async dhcpLeases(): Promise<{ items: LiveLease[] }> {
    const rows = await this.optional('/ip/dhcp-server/lease', 'read the DHCP leases');
    return {
      items: rows.map((r) => ({
        ip: str(r['active-address']) ?? str(r.address),
        mac: str(r['active-mac-address']) ?? str(r['mac-address']),
        hostname: str(r['host-name']),
        interface: str(r.server),
        starts: null,
        ends: str(r['expires-after']),
        state: str(r.status),
        online: str(r['last-seen']),
        vendor_data: r,
      })),
    };
  }

  /** Every bridge VLAN entry (dynamic ones made from a port's pvid included, without a write target), §9. */
  async bridgeVlans(): Promise<{ items: LiveBridgeVlan[] }> {
    const bridges = await this.ros.read('/interface/bridge', 'read the bridges');
    const entries = await this.ros.read('/interface/bridge/vlan', 'read the bridge VLANs');
    return { items: bridgeVlanRows(entries, bridges) };
  }

  async arp(): Promise<{ items: LiveArpEntry[] }> {
    const rows = await this.ros.read('/ip/arp', 'read the ARP table');
    return {
      items: rows.map((r) => ({
        ip: str(r.address),
        mac: str(r['mac-address']),
        hostname: null,
        interface: str(r.interface),
        type: bool(r.dynamic) ? 'dynamic' : 'static',
        permanent: !bool(r.dynamic),
        expires: null,
      })),
    };
  }

  async healthCheck(): Promise<LiveHealth> {
    const checks: HealthCheck[] = [];
    let reachable = true;
    try {
      const s = await this.ros.systemResource();
      checks.push({ name: 'reachability', healthy: true, detail: `RouterOS ${str(s.version) ?? '?'} answered`, error: null });
    } catch (err) {
      reachable = false;
      const e = err instanceof RouterOsError ? { code: err.code, message: err.message } : { code: 'ROS000', message: String(err) };
      checks.push({ name: 'reachability', healthy: false, detail: 'RouterOS did not answer', error: e });
    }
    if (reachable) {
      try {
        const rows = await this.ros.read('/interface', 'read the interfaces');
        const down = rows.filter((r) => !bool(r.disabled) && !bool(r.running)).map((r) => str(r.name) ?? '?');
        checks.push({
          name: 'interfaces',
          healthy: down.length === 0,
          detail: down.length === 0 ? 'every enabled interface is running' : `not running: ${down.join(', ')}`,
          error: null,
        });
      } catch (err) {
        const e = err instanceof RouterOsError ? { code: err.code, message: err.message } : { code: 'ROS300', message: String(err) };
        checks.push({ name: 'interfaces', healthy: null, detail: 'interfaces unread', error: e });
      }
    } else {
      checks.push({ name: 'interfaces', healthy: null, detail: 'skipped: the router is unreachable', error: null });
    }
    return {
      healthy: checks.every((c) => c.healthy !== false),
      checked_at: new Date().toISOString(),
      checks,
      wan: null,
    };
  }

  async haStatus(): Promise<LiveHaStatus> {
    throw new RouterOsError('ROS300', ROUTEROS_LIVE_UNAVAILABLE['read.ha_status']);
  }

  async vpn(): Promise<LiveVpn> {
    throw new RouterOsError('ROS300', ROUTEROS_LIVE_UNAVAILABLE['read.vpn']);
  }

  async services(): Promise<{ items: LiveService[] }> {
    throw new RouterOsError('ROS300', ROUTEROS_LIVE_UNAVAILABLE['read.services']);
  }

  async connections(limit: number): Promise<LiveConnections> {
    const rows = await this.ros.read('/ip/firewall/connection', 'read the connection table');
    return {
      items: rows.slice(0, Math.max(0, limit)).map((r) => ({
        interface: null,
        protocol: str(r.protocol),
        direction: null,
        source: str(r['src-address']),
        destination: str(r['dst-address']),
        state: str(r['tcp-state']) ?? str(r['connection-state']),
        age: null,
        expires_in: str(r.timeout),
        packets: (num(r['orig-packets']) ?? 0) + (num(r['repl-packets']) ?? 0) || null,
        bytes: (num(r['orig-bytes']) ?? 0) + (num(r['repl-bytes']) ?? 0) || null,
      })),
      current: rows.length,
      maximum: null,
    };
  }

  private async logRows(kind: LogKind): Promise<RosRow[]> {
    const rows = await this.ros.read('/log', 'read the log');
    return rows.filter((r) => (kind === 'firewall') === /firewall/.test(str(r.topics) ?? ''));
  }

  async logs(kind: LogKind, limit: number): Promise<{ items: Array<{ line: string }> }> {
    const rows = await this.logRows(kind);
    return {
      items: rows.slice(-Math.max(0, limit)).map((r) => ({
        line: [str(r.time), str(r.topics), str(r.message)].filter((x) => x !== null).join(' '),
      })),
    };
  }

  async firewallLog(limit: number): Promise<{ items: LiveLogEntry[]; skipped: number }> {
    const rows = (await this.logRows('firewall')).slice(-Math.max(0, limit));
    const items: LiveLogEntry[] = [];
    let skipped = 0;
    for (const r of rows) {
      const entry = parseFirewallLogMessage(str(r.message) ?? '', str(r.time));
      if (entry === null) skipped++;
      else items.push(entry);
    }
    return { items, skipped };
  }
}

/**
 * One RouterOS firewall log message (a rule with `log=yes`), e.g.
 * `input: in:ether1 out:(unknown 0), connection-state:new proto TCP (SYN), 203.0.113.9:40000->192.0.2.1:22, len 60`.
 * The action is read from a log prefix naming it (`drop`, `reject`, `accept`), else `block` for chains that drop
 * by default is not assumed: a line without one is `pass` only when the prefix says so, else skipped.
 */
export function parseFirewallLogMessage(message: string, time: string | null): LiveLogEntry | null {
  const m = /^(?:(\S+)\s+)?([\w-]+): in:(\(unknown \d+\)|[^\s,]+) out:(\(unknown \d+\)|[^\s,]+),.*?proto (\w+)(?: \([^)]*\))?, ([^\s,]+)->([^\s,]+)(?:, len (\d+))?/.exec(
    message,
  );
  if (!m) return null;
  const prefix = (m[1] ?? '').toLowerCase();
  const action = /drop|block|deny/.test(prefix) ? 'block' : /reject/.test(prefix) ? 'reject' : /accept|pass|allow/.test(prefix) ? 'pass' : null;
  const src = endpoint(m[6] as string);
  const dst = endpoint(m[7] as string);
  if (action === null || src === null || dst === null) return null;
  return {
    logged_at: time ?? new Date(0).toISOString(),
    action,
    interface: (m[3] as string).startsWith('(') ? null : (m[3] as string),
    direction: m[2] === 'output' ? 'out' : 'in',
    ip_version: src.ip.includes(':') ? 6 : 4,
    protocol: (m[5] as string).toLowerCase(),
    source_ip: src.ip,
    source_port: src.port,
    dest_ip: dst.ip,
    dest_port: dst.port,
    vendor_rule_id: null,
    reason: prefix || null,
    length: m[8] === undefined ? null : Number(m[8]),
  };
}

/** `1.2.3.4:80`, `1.2.3.4`, `[2001:db8::1]:443` or `2001:db8::1` → address and port. */
function endpoint(text: string): { ip: string; port: number | null } | null {
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(text);
  if (v4) return { ip: v4[1] as string, port: v4[2] === undefined ? null : Number(v4[2]) };
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { ip: v6[1] as string, port: v6[2] === undefined ? null : Number(v6[2]) };
  return /^[0-9a-fA-F:.]+$/.test(text) && text.includes(':') ? { ip: text, port: null } : null;
}
