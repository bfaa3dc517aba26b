/**
 * @module Test helpers for the evaluator: a tiny pf-rule reader so truth tables read like `rules.debug`
 * (`pass in quick on lan inet proto tcp from <LAN__NETWORK> to any port 443`), a ruleset builder, and `pkt()`.
 *
 * Grammar (subset of pf.conf, docs/reference/pf-semantics.md §1.2): `pass|block|reject|match [in|out] [log] [quick]
 * [on [!]if[,if]] [inet|inet6] [proto p[,p]] from [!]ADDR [port P] to [!]ADDR [port P] [icmp-type t[,t]]
 * [flags S/SA|flags any] [keep state|no state|sloppy state] [tag x] [tagged [!]x] [schedule s] [label "…"]`
 * where ADDR is `any`, `<table>`, `(self)`, `(if)`, `(if:network)` or CIDRs joined by commas, and P is
 * `80`, `1000:2000`, `80,443` or `$ALIAS` (a dynamic port alias). Like pfctl, a stateful pass gets an implicit
 * `flags S/SA`.
 */
import type {
  AddressMatch,
  PfInterface,
  PfRule,
  PfRuleset,
  PfTable,
  PortSpec,
  RuleOrigin,
} from '../../src/policy/model.ts';
import type { Packet } from '../../src/policy/packet.ts';

function parseAddress(token: string): { match: AddressMatch; negate: boolean } {
  const negate = token.startsWith('!');
  const text = negate ? token.slice(1) : token;
  if (text === 'any') return { match: { kind: 'any' }, negate };
  if (text.startsWith('<')) return { match: { kind: 'table', table: text.slice(1, -1) }, negate };
  if (text === '(self)') return { match: { kind: 'self' }, negate };
  if (text.startsWith('(')) {
    const inner = text.slice(1, -1);
    return inner.endsWith(':network')
      ? { match: { kind: 'interface-network', interface: inner.slice(0, -8) }, negate }
      : { match: { kind: 'interface-address', interface: inner }, negate };
  }
  return { match: { kind: 'cidrs', cidrs: text.split(',') }, negate };
}

function parsePorts(token: string): PortSpec {
  if (token.startsWith('$')) return { ranges: [], alias: token.slice(1), dynamic: true };
  return {
    ranges: token.split(',').map((part) => {
      const [from, to] = part.split(':').map(Number) as [number, number | undefined];
      return { from, to: to ?? from };
    }),
  };
}

const positions = new Map<string, number>();

/** Reads one pf rule line. `origin` overrides the default (user rule on the tab named by `on`). */
export function r(line: string, origin: Partial<RuleOrigin> = {}): PfRule {
  const tokens = line.match(/"[^"]*"|\S+/g) ?? [];
  let i = 0;
  const next = () => tokens[i++] as string;
  const peek = () => tokens[i];
  const action = next() as PfRule['action'];
  const rule: PfRule = {
    index: 0,
    action,
    direction: 'any',
    quick: false,
    log: false,
    on: null,
    af: null,
    protocols: null,
    from: { match: { kind: 'any' }, negate: false },
    fromPort: null,
    to: { match: { kind: 'any' }, negate: false },
    toPort: null,
    icmpTypes: null,
    tcpFlags: null,
    state: action === 'pass' ? 'keep' : null,
    allowOpts: false,
    label: null,
    extraLabels: [],
    tracker: null,
    ridentifier: null,
    origin: { kind: 'user', tab: 'floating', position: 0, descr: '' },
  };
  let explicitFlags = false;
  while (i < tokens.length) {
    const word = next();
    switch (word) {
      case 'in':
      case 'out':
        rule.direction = word;
        break;
      case 'log':
        rule.log = true;
        break;
      case 'quick':
        rule.quick = true;
        break;
      case 'on': {
        const spec = next();
        const negate = spec.startsWith('!');
        rule.on = { interfaces: (negate ? spec.slice(1) : spec).split(','), negate };
        break;
      }
      case 'inet':
      case 'inet6':
        rule.af = word;
        break;
      case 'proto':
        rule.protocols = next().split(',');
        break;
      case 'from':
      case 'to': {
        const address = parseAddress(next());
        let ports: PortSpec | null = null;
        if (peek() === 'port') {
          next();
          ports = parsePorts(next());
        }
        if (word === 'from') {
          rule.from = address;
          rule.fromPort = ports;
        } else {
          rule.to = address;
          rule.toPort = ports;
        }
        break;
      }
      case 'all':
        break;
      case 'icmp-type':
        rule.icmpTypes = next().split(',');
        break;
      case 'flags': {
        explicitFlags = true;
        const value = next();
        if (value !== 'any') {
          const [set, outOf] = value.split('/') as [string, string];
          rule.tcpFlags = { set, outOf, implicit: false };
        }
        break;
      }
      case 'keep':
        next();
        rule.state = 'keep';
        break;
      case 'no':
        next();
        rule.state = 'none';
        break;
      case 'sloppy':
        next();
        rule.state = 'sloppy';
        break;
      case 'tag':
        rule.tag = next();
        break;
      case 'tagged': {
        const tag = next();
        rule.tagged = { tag: tag.replace(/^!/, ''), negate: tag.startsWith('!') };
        break;
      }
      case 'schedule':
        rule.schedule = next();
        break;
      case 'label':
        rule.label = next().slice(1, -1);
        break;
      default:
        throw new Error(`test rule: unexpected "${word}" in: ${line}`);
    }
  }
  if (!explicitFlags && rule.action === 'pass' && rule.state !== 'none') {
    rule.tcpFlags = { set: 'S', outOf: 'SA', implicit: true };
  }
  const onlyInterface = rule.on?.interfaces.length === 1 ? rule.on.interfaces[0] : undefined;
  const tab =
    origin.tab ??
    (onlyInterface !== undefined && rule.quick && rule.direction === 'in' ? onlyInterface : 'floating');
  const key = `${origin.kind ?? 'user'}:${tab}`;
  const position = origin.position ?? (positions.get(key) ?? 0) + 1;
  positions.set(key, position);
  rule.origin = { kind: 'user', tab, position, descr: rule.label ?? line, ...origin };
  return rule;
}

/** A leaf interface with its addresses and networks. */
export function iface(
  key: string,
  device: string,
  addresses: string[] = [],
  networks: string[] = [],
  dynamic = false,
): PfInterface {
  return {
    key,
    kind: 'interface',
    device,
    descr: key.toUpperCase(),
    addresses: { cidrs: addresses, dynamic },
    networks: { cidrs: networks, dynamic },
    hasGateway: key === 'wan',
  };
}

export interface RulesetOptions {
  interfaces?: PfInterface[];
  /** Table contents; a name starting `dyn` is dynamic (`dyn4`/`dyn6`: in that family only). */
  tables?: Record<string, string[]>;
  /** `AddressSet.excludes` of dynamic tables, by table name. */
  excludes?: Record<string, string[]>;
  self?: string[];
  statePolicy?: 'floating' | 'if-bound';
}

/** Default topology: WAN em0 198.51.100.2/24 (TEST-NET-2; no bogon rules here unless a test adds them), LAN em1, DMZ em2 dual-stack. */
export const WAN = iface('wan', 'em0', ['198.51.100.2/32'], ['198.51.100.0/24']);
export const LAN = iface('lan', 'em1', ['192.168.1.1/32'], ['192.168.1.0/24']);
export const DMZ = iface(
  'opt1',
  'em2',
  ['10.0.0.1/32', '2001:db8:1::1/128'],
  ['10.0.0.0/24', '2001:db8:1::/64'],
);

/** Builds a ruleset from rules in evaluation order. */
export function ruleset(rules: PfRule[], options: RulesetOptions = {}): PfRuleset {
  const interfaces = options.interfaces ?? [WAN, LAN, DMZ];
  const tables: Record<string, PfTable> = {};
  for (const [name, cidrs] of Object.entries(options.tables ?? {})) {
    const table: PfTable = { name, cidrs, dynamic: name.startsWith('dyn'), source: 'alias' };
    // `dyn4…` / `dyn6…`: dynamic in that family only (AddressSet.dynamicFamilies).
    if (name.startsWith('dyn4')) table.dynamicFamilies = ['inet'];
    if (name.startsWith('dyn6')) table.dynamicFamilies = ['inet6'];
    const excludes = options.excludes?.[name];
    if (excludes !== undefined) table.excludes = excludes;
    tables[name] = table;
  }
  return {
    target: 'pfsense-2.7.2',
    statePolicy: options.statePolicy ?? 'floating',
    interfaces,
    tables,
    portAliases: {},
    self: { cidrs: options.self ?? interfaces.flatMap((i) => i.addresses.cidrs), dynamic: false },
    rules: rules.map((rule, index) => ({ ...rule, index })),
    notes: [],
    warnings: [],
  };
}

/**
 * `pkt('lan', 'in', 'tcp', '192.168.1.50:40000', '8.8.8.8:443', 'S')`. IPv6 endpoints use brackets with a port.
 * The last argument is TCP flags for tcp, the ICMP type for icmp/icmp6.
 */
export function pkt(
  iface: string,
  direction: 'in' | 'out',
  proto: string,
  src: string,
  dst: string,
  extra?: string | number,
): Packet {
  const split = (endpoint: string): [string, number | undefined] => {
    const bracket = endpoint.match(/^\[(.+)\]:(\d+)$/);
    if (bracket) return [bracket[1] as string, Number(bracket[2])];
    const colon = endpoint.lastIndexOf(':');
    if (colon > 0 && endpoint.indexOf(':') === colon)
      return [endpoint.slice(0, colon), Number(endpoint.slice(colon + 1))];
    return [endpoint, undefined];
  };
  const [srcAddress, srcPort] = split(src);
  const [dstAddress, dstPort] = split(dst);
  const packet: Packet = { interface: iface, direction, proto, src: srcAddress, dst: dstAddress };
  if (srcPort !== undefined) packet.srcPort = srcPort;
  if (dstPort !== undefined) packet.dstPort = dstPort;
  if (extra !== undefined) {
    if (proto === 'tcp') packet.tcpFlags = String(extra);
    else packet.icmpType = extra;
  }
  return packet;
}
