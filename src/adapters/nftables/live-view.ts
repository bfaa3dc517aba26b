/**
 * @module Live reads of an nftables host (docs/reference/nftables-api.md §6): status from `nft --version`,
 * `uname` and /proc; the address lists of our table; every rule of `nft -j list ruleset` mapped to the neutral
 * rule as far as its expressions allow (the rest named in `unmodelled_options`); interfaces from `ip -j -s addr`;
 * ARP/NDP from `ip -j neigh`; connections from `conntrack -L`. What a bare nftables host does not have (DHCP,
 * VPN status, HA, services, a firewall log Portcullis could read) is refused with its reason.
 */
import type {
  LiveAlias,
  LiveArpEntry,
  LiveConnections,
  LiveGateway,
  LiveInterface,
  LiveRule,
  LiveStatus,
  RuleAction,
} from '../live.ts';
import type { FirewallAdapter } from '../types.ts';
import { aliasNames, aliasOf, NftablesAdapter } from './adapter.ts';
import { NftError } from './errors.ts';

export const NFT_LIVE_UNAVAILABLE = {
  'read.nat':
    'NAT on an nftables host is rules with dnat/snat/masquerade statements in nat chains; they are listed among the rules (vendor_data) but not mapped to port forwards; see docs/reference/nftables-api.md §5',
  'read.routes': 'the live contract has no routes read; `ip -j route` would serve it; see docs/reference/nftables-api.md §6',
  'read.dhcp_leases': 'an nftables host runs no DHCP server Portcullis knows of; see docs/reference/nftables-api.md §6',
  'read.vpn': 'VPN tunnels are not part of nftables; see docs/reference/nftables-api.md §6',
  'read.services': 'service state (systemd) is not read over the nft transport; see docs/reference/nftables-api.md §6',
  'read.ha_status': 'nftables has no CARP/HA state; see docs/reference/nftables-api.md §6',
  'read.logs':
    'nft `log` statements write to the kernel log or an nflog group, which differ per host; not read; see docs/reference/nftables-api.md §6',
  'read.pf_info': 'pf status is a pf (BSD) read; nftables has none; see docs/reference/nftables-api.md §6',
  'read.health': 'no health check is defined for nftables hosts yet; the connection test reads the versions',
  'read.bridge_vlans': 'not mapped by this adapter: the bridge VLAN contract (docs/adr/0255-bridge-vlan-live-kind.md) is served where the device keeps a bridge VLAN table (RouterOS, OpenWrt DSA)',
  'read.ids_alerts': 'nftables has no IDS; an IDS on the host (Suricata, Snort) is a separate program; see docs/reference/nftables-api.md §6',
  'read.config':
    'the ruleset (`nft list ruleset`) is read as rules; a configuration download is not offered; see docs/reference/nftables-api.md §6',
  'read.vlan_interfaces': 'not read by this adapter yet: no VLAN interface mapping for nftables hosts (docs/reference/brain-l3.md §6)',
  'read.dhcp_scopes': 'not read by this adapter yet: no DHCP scope mapping for nftables hosts (docs/reference/brain-l3.md §6)',
  'read.dhcp_static_mappings': 'not read by this adapter yet: no DHCP static mapping read for nftables hosts (docs/reference/brain-l3.md §6)',
  'read.dns_overrides': 'not read by this adapter yet: no DNS host override read for nftables hosts (docs/reference/brain-l3.md §6)',
} as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The live view of an nftables adapter built by this vendor's descriptor. */
export function nftablesLiveView(adapter: FirewallAdapter): LiveGateway {
  if (!(adapter instanceof NftablesAdapter)) throw new TypeError(`not an nftables adapter: ${adapter.vendor}`);
  return new NftablesLiveGateway(adapter);
}

function refused(capability: keyof typeof NFT_LIVE_UNAVAILABLE): never {
  throw new NftError('NFT300', NFT_LIVE_UNAVAILABLE[capability]);
}

/** `3d 4h 5m` from seconds. */
function uptimeText(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  return `${d}d ${h}h ${m}m`;
}

/** A match's right-hand side as text: a value, `@set`, a prefix, a range or an anonymous set. */
function valueText(right: unknown): string {
  if (typeof right === 'string' || typeof right === 'number') return String(right);
  if (isObject(right)) {
    if (isObject(right.prefix)) return `${String(right.prefix.addr)}/${String(right.prefix.len)}`;
    if (Array.isArray(right.range)) return right.range.map(valueText).join('-');
    if (Array.isArray(right.set)) return `{ ${right.set.map(valueText).join(', ')} }`;
  }
  if (Array.isArray(right)) return right.map(valueText).join(',');
  return JSON.stringify(right);
}

const VERDICTS: Record<string, RuleAction> = { accept: 'allow', drop: 'deny', reject: 'reject' };

/** One rule of `nft -j list ruleset` as a neutral rule; matches it cannot place are named, never dropped. */
export function mapRule(rule: Json, position: number): LiveRule {
  const out: LiveRule = {
    vendor_rule_id: `${String(rule.family)} ${String(rule.table)} ${String(rule.chain)} handle ${String(rule.handle)}`,
    position,
    action: null,
    interfaces: [],
    direction: null,
    ip_version: null,
    protocol: 'any',
    source_address: 'any',
    source_port: null,
    dest_address: 'any',
    dest_port: null,
    description: typeof rule.comment === 'string' ? rule.comment : '',
    is_enabled: true,
    log_enabled: false,
    floating: false,
    quick: true,
    icmp_types: null,
    schedule: null,
    unmodelled_options: [],
    vendor_data: rule,
  };
  for (const expr of Array.isArray(rule.expr) ? rule.expr.filter(isObject) : []) {
    const [kind] = Object.keys(expr);
    const body = kind === undefined ? undefined : expr[kind];
    if (kind === undefined) continue;
    if (kind in VERDICTS) {
      out.action = VERDICTS[kind] ?? null;
      continue;
    }
    if (kind === 'log') {
      out.log_enabled = true;
      continue;
    }
    if (kind === 'counter') continue;
    if (kind === 'match' && isObject(body) && isObject(body.left) && (body.op === '==' || body.op === 'in')) {
      const left = body.left;
      const right = valueText(body.right);
      if (isObject(left.payload)) {
        const { protocol, field } = left.payload as { protocol?: unknown; field?: unknown };
        if ((protocol === 'ip' || protocol === 'ip6') && (field === 'saddr' || field === 'daddr')) {
          out.ip_version = protocol === 'ip' ? 'inet' : 'inet6';
          if (field === 'saddr') out.source_address = right;
          else out.dest_address = right;
          continue;
        }
        if ((protocol === 'tcp' || protocol === 'udp') && (field === 'sport' || field === 'dport')) {
          out.protocol = protocol;
          if (field === 'sport') out.source_port = right;
          else out.dest_port = right;
          continue;
        }
      }
      if (isObject(left.meta)) {
        const key = left.meta.key;
        if (key === 'iifname' || key === 'oifname') {
          out.interfaces.push(right);
          out.direction = key === 'iifname' ? 'in' : 'out';
          continue;
        }
        if (key === 'l4proto') {
          out.protocol = right;
          continue;
        }
        if (key === 'nfproto') {
          out.ip_version = right === 'ipv4' ? 'inet' : right === 'ipv6' ? 'inet6' : right;
          continue;
        }
      }
      if (isObject(left.ct) && left.ct.key === 'state') {
        out.unmodelled_options.push(`ct state ${right}`);
        continue;
      }
    }
    out.unmodelled_options.push(kind === 'match' ? `match ${JSON.stringify(body).slice(0, 120)}` : kind);
  }
  return out;
}

/** One line of `conntrack -L` (docs/reference/nftables-api.md §6). */
export function parseConntrackLine(line: string) {
  const words = line.trim().split(/\s+/);
  if (words.length < 4) return null;
  const field = (name: string) => words.find((w) => w.startsWith(`${name}=`))?.slice(name.length + 1) ?? null;
  const state = /^[A-Z_]+$/.test(words[3] ?? '') ? (words[3] ?? null) : null;
  const src = field('src');
  const dst = field('dst');
  const sport = field('sport');
  const dport = field('dport');
  const packets = field('packets');
  const bytes = field('bytes');
  return {
    interface: null,
    protocol: words[0] ?? null,
    direction: null,
    source: src === null ? null : sport === null ? src : `${src}:${sport}`,
    destination: dst === null ? null : dport === null ? dst : `${dst}:${dport}`,
    state,
    age: null,
    expires_in: words[2] ?? null,
    packets: packets === null ? null : Number(packets),
    bytes: bytes === null ? null : Number(bytes),
  };
}

class NftablesLiveGateway implements LiveGateway {
  constructor(private readonly adapter: NftablesAdapter) {}

  private async text(argv: string[]): Promise<string> {
    const result = await this.adapter.exec(argv);
    if (result.code !== 0) {
      throw new NftError('NFT300', `${argv.join(' ')} on ${this.adapter.target}: ${result.stderr.trim().split('\n')[0] ?? ''}`);
    }
    return result.stdout;
  }

  private async json(argv: string[]): Promise<unknown> {
    const text = await this.text(argv);
    try {
      return JSON.parse(text);
    } catch {
      throw new NftError('NFT400', `${argv.join(' ')} did not print JSON.`);
    }
  }

  async status(): Promise<LiveStatus> {
    const version = await this.adapter.version();
    const proc = await this.text(['cat', '/proc/uptime', '/proc/loadavg', '/proc/meminfo']);
    const lines = proc.split('\n');
    const uptime = Number(lines[0]?.split(' ')[0]);
    const load = (lines[1] ?? '').split(' ').slice(0, 3).map(Number).filter(Number.isFinite);
    const mem = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(proc)?.[1]);
    const total = mem('MemTotal');
    const available = mem('MemAvailable');
    return {
      product_version: version.product,
      api_version: version.api,
      platform: 'Linux nftables',
      uptime: Number.isFinite(uptime) ? uptimeText(uptime) : null,
      cpu: { model: null, count: null, usage_percent: null, load_avg: load },
      memory_usage_percent:
        Number.isFinite(total) && Number.isFinite(available) && total > 0
          ? Math.round(((total - available) / total) * 1000) / 10
          : null,
      disk_usage_percent: null,
      temperature_c: null,
      vendor_data: { uptime_seconds: Number.isFinite(uptime) ? uptime : null, table: this.adapter.table },
    };
  }

  async firewallRules(): Promise<{ items: LiveRule[] }> {
    const items = (await this.adapter.nftJson(['list', 'ruleset'], 'NFT300')) ?? [];
    const positions = new Map<string, number>();
    const rules: LiveRule[] = [];
    for (const item of items) {
      if (!isObject(item.rule)) continue;
      const chain = `${String(item.rule.family)} ${String(item.rule.table)} ${String(item.rule.chain)}`;
      const position = positions.get(chain) ?? 0;
      positions.set(chain, position + 1);
      rules.push(mapRule(item.rule, position));
    }
    return { items: rules };
  }

  async natRules(): Promise<never> {
    return refused('read.nat');
  }

  async aliases(): Promise<{ items: LiveAlias[] }> {
    const sets = await this.adapter.readSets();
    if (sets === null) return { items: [] };
    const items: LiveAlias[] = [];
    for (const name of aliasNames(sets)) {
      const alias = aliasOf(sets, name);
      if (alias === null) continue;
      items.push({
        name,
        type: alias.type,
        description: alias.descr,
        entries: alias.entries.map((e) => ({ address: e.address, detail: e.detail })),
      });
    }
    return { items };
  }

  async interfaces(): Promise<{ items: LiveInterface[] }> {
    const rows = await this.json(['ip', '-j', '-s', 'addr']);
    const items: LiveInterface[] = [];
    for (const row of Array.isArray(rows) ? rows.filter(isObject) : []) {
      const addrs = Array.isArray(row.addr_info) ? row.addr_info.filter(isObject) : [];
      const first = (family: string) => {
        const a = addrs.find((x) => x.family === family && x.scope !== 'link');
        return a ? `${String(a.local)}/${String(a.prefixlen)}` : null;
      };
      const stats = isObject(row.stats64) ? row.stats64 : {};
      const rx = isObject(stats.rx) ? stats.rx : {};
      const tx = isObject(stats.tx) ? stats.tx : {};
      const flags = Array.isArray(row.flags) ? row.flags : [];
      items.push({
        id: str(row.ifname) ?? String(row.ifindex),
        device: str(row.ifname),
        description: '',
        enabled: flags.includes('UP'),
        status: str(row.operstate)?.toLowerCase() ?? null,
        mac: str(row.address),
        mtu: num(row.mtu),
        ipv4: first('inet'),
        ipv6: first('inet6'),
        ipv4_mode: addrs.some((a) => a.family === 'inet' && a.dynamic === true) ? 'dhcp' : first('inet') ? 'static' : null,
        ipv6_mode: null,
        block_private: null,
        block_bogons: null,
        media: str(row.link_type),
        gateway: null,
        counters: {
          in_bytes: num(rx.bytes),
          out_bytes: num(tx.bytes),
          in_packets: num(rx.packets),
          out_packets: num(tx.packets),
          in_errors: num(rx.errors),
          out_errors: num(tx.errors),
          collisions: num(tx.collisions),
        },
        vendor_data: row,
      });
    }
    return { items };
  }

  async dhcpLeases(): Promise<never> {
    return refused('read.dhcp_leases');
  }

  async arp(): Promise<{ items: LiveArpEntry[] }> {
    const rows = await this.json(['ip', '-j', 'neigh']);
    return {
      items: (Array.isArray(rows) ? rows.filter(isObject) : []).map((row) => {
        const state = Array.isArray(row.state) ? row.state.map(String) : [];
        return {
          ip: str(row.dst),
          mac: str(row.lladdr),
          hostname: null,
          interface: str(row.dev),
          type: state.join(',') || null,
          permanent: state.includes('PERMANENT'),
          expires: null,
        };
      }),
    };
  }

  async healthCheck(): Promise<never> {
    return refused('read.health');
  }

  async haStatus(): Promise<never> {
    return refused('read.ha_status');
  }

  async vpn(): Promise<never> {
    return refused('read.vpn');
  }

  async connections(limit: number): Promise<LiveConnections> {
    const result = await this.adapter.exec(['conntrack', '-L']);
    if (result.code !== 0) throw new NftError('NFT300', `conntrack -L on ${this.adapter.target}: ${result.stderr.trim().split('\n')[0] ?? ''}`);
    const all = result.stdout.split('\n').filter((l) => l.trim() !== '');
    const items = all.slice(0, limit).map(parseConntrackLine).filter((x) => x !== null);
    const max = await this.adapter.exec(['cat', '/proc/sys/net/netfilter/nf_conntrack_max']);
    const maximum = max.code === 0 ? Number(max.stdout.trim()) : NaN;
    return { items, current: all.length, maximum: Number.isFinite(maximum) ? maximum : null };
  }

  async services(): Promise<never> {
    return refused('read.services');
  }

  async logs(): Promise<never> {
    return refused('read.logs');
  }

  async firewallLog(): Promise<never> {
    return refused('read.logs');
  }
}
