/**
 * @module OpenWrt's live view: the vendor-neutral live reads (src/adapters/live.ts) over ubus. Where each read
 * comes from (docs/reference/openwrt-api.md §5, §6): `system.board` + `system.info` (status), UCI `firewall`
 * sections in file order (rules, redirects, nat), ipset sections with their LIVE nft sets (aliases),
 * `network.interface dump` (interfaces), `luci.getConntrackList` (connections), `luci-rpc.getDHCPLeases`
 * (leases), `rc.list` (services), logd `log.read` (logs; the firewall log is fw4's kernel log lines).
 */
import { AdapterError, type FirewallAdapter } from '../types.ts';
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
import { OpenWrtAdapter } from './adapter.ts';
import { OpenWrtBridgeVlans } from './bridge-vlan.ts';
import { OpenWrtError } from './errors.ts';

/** Why OpenWrt cannot serve a read (checked against the packages named). */
export const OPENWRT_LIVE_UNAVAILABLE = {
  'read.routes':
    'not read yet: OpenWrt has routes only per interface (network.interface status `route`) and no ubus route table; see docs/reference/openwrt-api.md §6',
  'read.arp':
    'no ubus method lists the neighbour table without the luci-rpc host hints or a file.read ACL on /proc/net/arp; not offered; see docs/reference/openwrt-api.md §6',
  'read.vpn': 'OpenWrt has no common VPN status object on ubus (WireGuard and OpenVPN each have their own package); see docs/reference/openwrt-api.md §6',
  'read.ha_status': 'OpenWrt has no CARP or HA status (keepalived is an optional package); see docs/reference/openwrt-api.md §6',
  'read.pf_info': 'OpenWrt runs nftables (firewall4), not pf; see docs/reference/openwrt-api.md §6',
  'read.config':
    'a configuration download would need file.read of /etc/config/* beyond the firewall and network configs the Portcullis ACL grants; see docs/openwrt.md',
  'read.ids_alerts':
    'OpenWrt ships no IDS: Snort or Suricata are optional packages with no ubus alert object; see docs/reference/openwrt-api.md §6',
  'read.vlan_interfaces': 'not read by this adapter yet: no VLAN interface mapping for OpenWrt (docs/reference/brain-l3.md §6)',
  'read.dhcp_scopes': 'not read by this adapter yet: no DHCP scope mapping for OpenWrt (docs/reference/brain-l3.md §6)',
  'read.dhcp_static_mappings': 'not read by this adapter yet: no DHCP static mapping read for OpenWrt (docs/reference/brain-l3.md §6)',
  'read.dns_overrides': 'not read by this adapter yet: no DNS host override read for OpenWrt (docs/reference/brain-l3.md §6)',
} as const;

export function openwrtLiveView(adapter: FirewallAdapter): LiveGateway {
  if (!(adapter instanceof OpenWrtAdapter)) throw new TypeError(`not an OpenWrt adapter: ${adapter.vendor}`);
  return new OpenWrtLiveGateway(adapter);
}

type Row = Record<string, unknown>;
/** A UCI value as text ('' for anything that is not a string or a number). */
export const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const isRecord = (v: unknown): v is Row => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null;
const num = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
};
export const uciList = (v: unknown): string[] =>
  Array.isArray(v)
    ? v.filter((x): x is string => typeof x === 'string')
    : typeof v === 'string' && v !== ''
      ? v.split(/\s+/)
      : [];
const uciBool = (v: unknown, dflt: boolean): boolean =>
  v === undefined || v === null ? dflt : ['1', 'on', 'true', 'yes', 'enabled'].includes(text(v));

/** fw4 rule `target` → neutral action. */
export const ACTIONS: Record<string, RuleAction> = { ACCEPT: 'allow', DROP: 'deny', REJECT: 'reject' };
/** Options a rule may carry that the neutral fields do not (fw4.uc parse_rule). */
const UNMODELLED = [
  'src_mac',
  'mark',
  'set_mark',
  'set_xmark',
  'dscp',
  'set_dscp',
  'helper',
  'set_helper',
  'limit',
  'limit_burst',
  'start_date',
  'stop_date',
  'start_time',
  'stop_time',
  'weekdays',
  'monthdays',
  'utc_time',
  'extra',
  'device',
  'direction',
];

/** fw4's protocol list → the neutral protocol (fw4 defaults a rule to `tcp udp`). */
export function protocolOf(v: unknown): string {
  const p = uciList(v).map((x) => x.toLowerCase());
  if (p.length === 0) return 'tcp/udp';
  if (p.includes('all') || p.includes('any') || p.includes('*')) return 'any';
  if (p.length === 2 && p.includes('tcp') && p.includes('udp')) return 'tcp/udp';
  return p.join('/');
}

export const familyOf = (v: unknown): string => {
  const f = text(v).toLowerCase();
  return f === 'ipv4' || f === '4' ? 'inet' : f === 'ipv6' || f === '6' ? 'inet6' : 'inet46';
};

const joinOr = (v: unknown, dflt: string): string => {
  const l = uciList(v);
  return l.length === 0 ? dflt : l.join(' ');
};

export function ruleOf(row: Row, position: number): LiveRule {
  const src = str(row.src);
  const dest = str(row.dest);
  const ipset = str(row.ipset);
  const srcIp = uciList(row.src_ip);
  return {
    vendor_rule_id: str(row['.name']),
    position,
    action: ACTIONS[text(row.target).toUpperCase()] ?? null,
    interfaces: src ? [src] : dest ? [dest] : [],
    direction: src && dest ? 'forward' : src ? 'in' : dest ? 'out' : null,
    ip_version: familyOf(row.family),
    protocol: protocolOf(row.proto),
    source_address: srcIp.length > 0 ? srcIp.join(' ') : ipset ?? 'any',
    source_port: str(row.src_port),
    dest_address: joinOr(row.dest_ip, 'any'),
    dest_port: str(row.dest_port),
    description: str(row.name) ?? '',
    is_enabled: uciBool(row.enabled, true),
    log_enabled: uciBool(row.log, false),
    floating: false,
    quick: true,
    icmp_types: uciList(row.icmp_type).length > 0 ? uciList(row.icmp_type) : null,
    schedule: null,
    unmodelled_options: UNMODELLED.filter((k) => row[k] !== undefined).concat(
      ipset && srcIp.length > 0 ? ['ipset'] : [],
    ),
    vendor_data: row,
  };
}

export function redirectOf(row: Row): LiveNatRule {
  return {
    nat_type: (text(row.target) || 'DNAT').toUpperCase() === 'SNAT' ? 'snat' : 'dnat',
    vendor_id: num(row['.index']),
    write_target: str(row['.name']),
    interface: str(row.src),
    protocol: protocolOf(row.proto),
    original_address: str(row.src_dip),
    original_port: str(row.src_dport),
    destination_address: str(row.src_dip),
    destination_port: str(row.src_dport),
    translated_address: str(row.dest_ip),
    translated_port: str(row.dest_port),
    description: str(row.name) ?? '',
    is_enabled: uciBool(row.enabled, true),
    vendor_data: row,
  };
}

export function natOf(row: Row): LiveNatRule {
  const target = (text(row.target) || 'MASQUERADE').toUpperCase();
  return {
    nat_type: 'snat',
    vendor_id: num(row['.index']),
    write_target: str(row['.name']),
    interface: str(row.src),
    protocol: protocolOf(row.proto ?? 'all'),
    original_address: str(row.src_ip),
    original_port: str(row.src_port),
    destination_address: str(row.dest_ip),
    destination_port: str(row.dest_port),
    translated_address: target === 'MASQUERADE' ? 'masquerade' : target === 'SNAT' ? str(row.snat_ip) : target.toLowerCase(),
    translated_port: str(row.snat_port),
    description: str(row.name) ?? '',
    is_enabled: uciBool(row.enabled, true),
    vendor_data: row,
  };
}

const FW_LOG = /\b(accept|drop|reject)\s+(\S+)\s+(in|out|forward)\b.*?:\s.*\bSRC=(\S+)\s+DST=(\S+)/i;

/** One fw4 kernel log line (`<verdict> <zone> <chain>: IN=… SRC=… DST=… PROTO=… SPT=… DPT=…`) or null. */
export function parseFirewallLine(line: string, time: number | null): LiveLogEntry | null {
  const m = FW_LOG.exec(line);
  if (m === null) return null;
  const field = (k: string) => new RegExp(`\\b${k}=(\\S*)`).exec(line)?.[1] ?? null;
  const verdict = (m[1] as string).toLowerCase();
  const src = m[4] as string;
  return {
    logged_at: new Date((time ?? 0) * 1000 || Date.now()).toISOString(),
    action: verdict === 'accept' ? 'pass' : verdict === 'drop' ? 'block' : 'reject',
    interface: field('IN') || field('OUT') || null,
    direction: m[3] === 'out' ? 'out' : 'in',
    ip_version: src.includes(':') ? 6 : 4,
    protocol: field('PROTO')?.toLowerCase() ?? null,
    source_ip: src,
    source_port: num(field('SPT')),
    dest_ip: m[5] as string,
    dest_port: num(field('DPT')),
    vendor_rule_id: null,
    reason: `${verdict} ${m[2]} ${m[3]}`,
    length: num(field('LEN')),
  };
}

class OpenWrtLiveGateway implements LiveGateway {
  constructor(private readonly a: OpenWrtAdapter) {}

  private read(object: string, method: string, args: Row = {}): Promise<Row> {
    return this.a
      .call(object, method, args, { code: 'OWRT300', what: `read ${object}.${method}`, read: true, allow: [5] })
      .then((d) => d ?? {});
  }

  private refuse(what: string): Promise<never> {
    return Promise.reject(new OpenWrtError('OWRT300', `${what} is not available on OpenWrt.`));
  }

  status(): Promise<LiveStatus> {
    return (async () => {
      const [board, info] = await Promise.all([this.read('system', 'board'), this.read('system', 'info')]);
      const release = isRecord(board.release) ? board.release : {};
      const memory = isRecord(info.memory) ? info.memory : {};
      const total = num(memory.total);
      const avail = num(memory.available) ?? num(memory.free);
      const load = Array.isArray(info.load) ? info.load.map(num).filter((x): x is number => x !== null) : [];
      return {
        product_version: str(release.description) ?? str(release.version),
        api_version: 'ubus',
        platform: str(board.model) ?? str(release.target),
        uptime: num(info.uptime) === null ? null : `${num(info.uptime)} s`,
        // system.info load is the kernel's fixed point (×65536).
        cpu: { model: str(board.system), count: null, usage_percent: null, load_avg: load.map((l) => Math.round((l / 65536) * 100) / 100) },
        memory_usage_percent: total && avail !== null ? Math.round(((total - avail) / total) * 1000) / 10 : null,
        disk_usage_percent: null,
        temperature_c: null,
        vendor_data: { board, info },
      };
    })();
  }

  firewallRules(): Promise<{ items: LiveRule[] }> {
    return (async () => {
      const rows = await this.a.uciSections('rule', 'OWRT300', 'read the firewall rules');
      return { items: rows.map((r, i) => ruleOf(r, i + 1)) };
    })();
  }

  natRules(): Promise<LiveNat> {
    return (async () => {
      const [redirects, nats] = await Promise.all([
        this.a.uciSections('redirect', 'OWRT300', 'read the firewall redirects'),
        this.a.uciSections('nat', 'OWRT300', 'read the firewall nat rules'),
      ]);
      return {
        port_forwards: redirects.filter((r) => (text(r.target) || 'DNAT').toUpperCase() === 'DNAT').map(redirectOf),
        outbound: {
          mode: 'fw4',
          mappings: [...redirects.filter((r) => text(r.target).toUpperCase() === 'SNAT').map(redirectOf), ...nats.map(natOf)],
        },
        one_to_one: [],
      };
    })();
  }

  aliases(): Promise<{ items: LiveAlias[] }> {
    return (async () => {
      const items: LiveAlias[] = [];
      for (const s of await this.a.ipsets()) {
        const live = await this.a.liveSet(s.name, 'OWRT300');
        items.push({
          name: s.name,
          type: s.match.some((m) => /net$/.test(m)) ? 'network' : 'host',
          description: s.comment,
          // The live set is what the router enforces; a set fw4 did not create shows its UCI entries.
          entries: live
            ? live.elements.map((e) => ({ address: e.address, detail: e.comment ?? '' }))
            : s.entry.map((address) => ({ address, detail: '' })),
        });
      }
      return { items };
    })();
  }

  interfaces(): Promise<{ items: LiveInterface[] }> {
    return (async () => {
      const dump = await this.read('network.interface', 'dump');
      const rows = Array.isArray(dump.interface) ? dump.interface.filter(isRecord) : [];
      return {
        items: rows.map((r): LiveInterface => {
          const v4 = Array.isArray(r['ipv4-address']) ? r['ipv4-address'].filter(isRecord)[0] : undefined;
          const v6 = Array.isArray(r['ipv6-address']) ? r['ipv6-address'].filter(isRecord)[0] : undefined;
          const proto = str(r.proto);
          const routes = Array.isArray(r.route) ? r.route.filter(isRecord) : [];
          const gw = routes.find((x) => x.target === '0.0.0.0' && num(x.mask) === 0);
          return {
            id: str(r.interface) ?? '',
            device: str(r.l3_device) ?? str(r.device),
            description: str(r.interface) ?? '',
            enabled: uciBool(r.autostart, true),
            status: r.up === true ? 'up' : 'down',
            mac: null,
            mtu: null,
            ipv4: v4 ? `${str(v4.address)}/${num(v4.mask)}` : null,
            ipv6: v6 ? `${str(v6.address)}/${num(v6.mask)}` : null,
            ipv4_mode: proto === 'dhcpv6' ? null : proto,
            ipv6_mode: proto === 'dhcpv6' ? 'dhcp6' : null,
            block_private: null,
            block_bogons: null,
            media: null,
            gateway: gw ? str(gw.nexthop) : null,
            counters: { in_bytes: null, out_bytes: null, in_packets: null, out_packets: null, in_errors: null, out_errors: null, collisions: null },
            vendor_data: r,
          };
        }),
      };
    })();
  }

  dhcpLeases(): Promise<{ items: LiveLease[] }> {
    return (async () => {
      const r = await this.read('luci-rpc', 'getDHCPLeases');
      const v4: unknown[] = Array.isArray(r.dhcp_leases) ? r.dhcp_leases : [];
      const v6: unknown[] = Array.isArray(r.dhcp6_leases) ? r.dhcp6_leases : [];
      const rows = [...v4, ...v6].filter(isRecord);
      return {
        items: rows.map((l) => ({
          ip: str(l.ipaddr) ?? str(l.ip6addr),
          mac: str(l.macaddr),
          hostname: str(l.hostname),
          interface: null,
          starts: null,
          ends: num(l.expires) === null ? null : new Date(Date.now() + (num(l.expires) as number) * 1000).toISOString(),
          state: 'active',
          online: null,
          vendor_data: l,
        })),
      };
    })();
  }

  /** The bridge-vlan sections of `network` netifd loads, with each bridge's vlan_filtering (§9). */
  async bridgeVlans(): Promise<{ items: LiveBridgeVlan[] }> {
    return { items: await new OpenWrtBridgeVlans(this.a).rows() };
  }

  arp(): Promise<{ items: LiveArpEntry[] }> {
    return this.refuse('The ARP table');
  }

  haStatus(): Promise<LiveHaStatus> {
    return this.refuse('HA status');
  }

  vpn(): Promise<LiveVpn> {
    return this.refuse('VPN status');
  }

  connections(limit: number): Promise<LiveConnections> {
    return (async () => {
      const r = await this.read('luci', 'getConntrackList');
      const rows = Array.isArray(r.result) ? r.result.filter(isRecord) : [];
      const hostPort = (h: unknown, p: unknown) => {
        const host = str(h);
        if (host === null) return null;
        const port = str(p);
        return port === null ? host : host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      };
      return {
        items: rows.slice(0, limit).map((c) => ({
          interface: null,
          protocol: str(c.layer4) ?? str(c.protocol),
          direction: null,
          source: hostPort(c.src, c.sport),
          destination: hostPort(c.dst, c.dport),
          state: null,
          age: null,
          expires_in: num(c.timeout) === null ? null : `${num(c.timeout)} s`,
          packets: num(c.packets),
          bytes: num(c.bytes),
        })),
        current: rows.length,
        maximum: null,
      };
    })();
  }

  services(): Promise<{ items: LiveService[] }> {
    return (async () => {
      const r = await this.read('rc', 'list');
      return {
        items: Object.entries(r)
          .filter((e): e is [string, Row] => isRecord(e[1]))
          .map(([name, s]) => ({ name, description: name, enabled: s.enabled === true, running: s.running === true })),
      };
    })();
  }

  private async logLines(limit: number): Promise<Array<{ msg: string; time: number | null }>> {
    const r = await this.read('log', 'read', { lines: limit, stream: false, oneshot: true });
    const rows = Array.isArray(r.log) ? r.log.filter(isRecord) : [];
    return rows.map((l) => ({ msg: str(l.msg) ?? '', time: num(l.time) === null ? null : Math.floor((num(l.time) as number) / 1000) }));
  }

  logs(kind: LogKind, limit: number): Promise<{ items: Array<{ line: string }> }> {
    return (async () => {
      const lines = await this.logLines(kind === 'firewall' ? Math.max(limit * 4, limit) : limit);
      const picked = kind === 'firewall' ? lines.filter((l) => FW_LOG.test(l.msg)) : lines;
      return { items: picked.slice(-limit).map((l) => ({ line: l.msg })) };
    })();
  }

  firewallLog(limit: number): Promise<{ items: LiveLogEntry[]; skipped: number }> {
    return (async () => {
      const lines = await this.logLines(Math.max(limit * 4, limit));
      const items: LiveLogEntry[] = [];
      for (const l of lines) {
        const e = parseFirewallLine(l.msg, l.time);
        if (e) items.push(e);
      }
      return { items: items.slice(-limit), skipped: 0 };
    })();
  }

  healthCheck(): Promise<LiveHealth> {
    return (async () => {
      const checks: HealthCheck[] = [];
      const failed = (name: HealthCheck['name'], err: unknown): HealthCheck => {
        if (!(err instanceof AdapterError)) throw err;
        return { name, healthy: false, detail: 'read failed', error: { code: err.code, message: err.message } };
      };
      try {
        const v = await this.a.version();
        checks.push({ name: 'reachability', healthy: true, detail: v.product, error: null });
      } catch (err) {
        checks.push(failed('reachability', err));
        for (const name of ['interfaces', 'services'] as const)
          checks.push({ name, healthy: null, detail: 'not checked: the device is unreachable', error: null });
        return { healthy: false, checked_at: new Date().toISOString(), checks, wan: null };
      }
      let wan: LiveHealth['wan'] = null;
      try {
        const items = (await this.interfaces()).items.filter((i) => i.enabled && i.id !== 'loopback');
        const bad = items.filter((i) => i.status !== 'up').map((i) => i.id);
        wan = items.filter((i) => /^wan/.test(i.id)).map((i) => ({ name: i.id, up: i.status === 'up' }));
        checks.push({ name: 'interfaces', healthy: bad.length === 0, detail: bad.length ? `down: ${bad.join(', ')}` : `${items.length} up`, error: null });
      } catch (err) {
        checks.push(failed('interfaces', err));
      }
      try {
        const fw = (await this.services()).items.find((s) => s.name === 'firewall');
        checks.push({
          name: 'services',
          healthy: fw === undefined ? null : !fw.enabled || fw.running,
          detail: fw === undefined ? 'no firewall service listed' : fw.running ? 'firewall running' : 'firewall stopped',
          error: null,
        });
      } catch (err) {
        checks.push(failed('services', err));
      }
      return { healthy: checks.every((c) => c.healthy !== false), checked_at: new Date().toISOString(), checks, wan };
    })();
  }
}
