/**
 * @module RouterOS live writes (src/adapters/live-write.ts) over REST (docs/reference/routeros-api.md §5): firewall
 * rules (`ip/firewall/filter`, `ipv6/firewall/filter`), port forwards and source NAT (`ip/firewall/nat`), address
 * lists, static routes (`ip/route`) and bridge VLANs (`interface/bridge/vlan`, src/adapters/routeros/bridge-vlan.ts).
 * Every write is live at once — nothing is ever pending.
 *
 * Targets are RouterOS `.id`s (`*1A`), prefixed `ipv6:` for the IPv6 filter menu; a list's target is its name. A new
 * rule is placed with `place-before` on the PUT (it is refused on PATCH, §5). What the neutral body does not carry
 * is kept in `vendor_data` (every writable property that is set, `chain` when it is not the default), so writing a
 * read object back restores it (docs/adr/0196-routeros-live-writes.md).
 */
import ipaddr from 'ipaddr.js';
import type {
  LiveAliasBody,
  LiveObject,
  LivePortForwardBody,
  LiveRuleBody,
  LiveSourceNatBody,
  LiveStaticRouteBody,
  LiveWrite,
  LiveWriteKind,
  LiveWriter,
  LiveWriteResult,
} from '../live-write.ts';
import type { FirewallAdapter } from '../types.ts';
import { RouterOsAdapter, type RosRow } from './adapter.ts';
import { RouterOsBridgeVlans } from './bridge-vlan.ts';
import { RouterOsError } from './errors.ts';

export function routerOsLiveWriter(adapter: FirewallAdapter): LiveWriter {
  if (!(adapter instanceof RouterOsAdapter)) throw new TypeError(`not a RouterOS adapter: ${adapter.vendor}`);
  return new RouterOsLiveWriter(adapter);
}

/** Properties RouterOS computes or that no write may carry back. */
const READ_ONLY = new Set(['.id', '.nextid', '.about', 'bytes', 'packets', 'dynamic', 'invalid', 'builtin', 'creation-time']);

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const bool = (v: unknown): boolean => v === true || v === 'true' || v === 'yes';

function isAddress(text: string): boolean {
  const t = text.replace(/^!/, '');
  const [host, prefix, ...rest] = t.split('/');
  if (rest.length > 0 || host === undefined) return false;
  if (/^\d{1,3}(\.\d{1,3}){3}-\d{1,3}(\.\d{1,3}){3}$/.test(t)) return true;
  if (!ipaddr.isValid(host)) return false;
  return prefix === undefined || /^\d{1,3}$/.test(prefix);
}

const ACTION_TO: Readonly<Record<string, string>> = { allow: 'accept', deny: 'drop', reject: 'reject' };
const ACTION_FROM: Readonly<Record<string, LiveRuleBody['action']>> = { accept: 'allow', drop: 'deny', reject: 'reject' };

type Fields = Record<string, string>;

function refuse(field: string, message: string): never {
  throw new RouterOsError('ROS500', message, { field });
}

function need<T>(body: Record<string, unknown>, field: string, kind: string): T {
  if (!(field in body)) refuse(field, `A ${kind} needs \`${field}\`.`);
  return body[field] as T;
}

/** An address matcher: `any`/empty → nothing, an IP, prefix or range → `<side>-address`, a name → `<side>-address-list`. */
function addressFields(side: 'src' | 'dst', value: unknown, field: string): Fields {
  if (typeof value !== 'string') refuse(field, `\`${field}\` must be a string.`);
  if (value === '' || value === 'any') return {};
  if (isAddress(value)) return { [`${side}-address`]: value };
  if (/^!?[A-Za-z0-9_.:-]+$/.test(value)) return { [`${side}-address-list`]: value };
  return refuse(field, `\`${field}\` \`${value}\` is neither an address, a prefix, a range nor an address-list name.`);
}

function addressOf(row: RosRow, side: 'src' | 'dst'): string {
  return str(row[`${side}-address`]) ?? str(row[`${side}-address-list`]) ?? 'any';
}

/** Writable properties of a row that the neutral fields do not cover (`vendor_data`). */
function extrasOf(row: RosRow, covered: ReadonlySet<string>, defaults: Fields): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(row)) {
    // RouterOS prints defaults explicitly: an empty value or a `false` flag is what a create without it stores.
    if (READ_ONLY.has(k) || covered.has(k) || typeof v !== 'string' || v === '' || v === 'false') continue;
    if (defaults[k] === v) continue;
    out[k] = v;
  }
  return out;
}

function vendorFields(data: unknown): Fields {
  if (data === undefined || data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) refuse('vendor_data', '`vendor_data` must be an object.');
  const out: Fields = {};
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    if (READ_ONLY.has(k) || k === 'place-before') continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      refuse(`vendor_data.${k}`, `\`vendor_data.${k}\` must be a string.`);
    out[k] = String(v);
  }
  return out;
}

interface KindSpec {
  noun: string;
  /** The menu of a target (and whether the row belongs to this kind). */
  menu(target: string): string;
  belongs(row: RosRow): boolean;
  toDevice(body: Record<string, unknown>): { menu: string; fields: Fields };
  fromDevice(row: RosRow, target: string): LiveObject;
  /** Properties `toDevice` writes (a PATCH clears those it no longer sets). */
  covered: ReadonlySet<string>;
}

const RULE_COVERED = new Set([
  'action', 'in-interface', 'protocol', 'src-address', 'src-address-list', 'src-port', 'dst-address',
  'dst-address-list', 'dst-port', 'comment', 'disabled', 'log', 'chain',
]);

const idOf = (target: string) => target.replace(/^ipv6:/, '');

const ruleSpec: KindSpec = {
  noun: 'firewall rule',
  menu: (target) => (target.startsWith('ipv6:') ? '/ipv6/firewall/filter' : '/ip/firewall/filter'),
  belongs: () => true,
  covered: RULE_COVERED,
  toDevice(body) {
    const b = body as unknown as LiveRuleBody;
    const kind = 'firewall rule';
    const action = ACTION_TO[need<string>(body, 'action', kind)];
    if (action === undefined) refuse('action', '`action` must be allow, deny or reject.');
    const version = need<string>(body, 'ip_version', kind);
    if (version === 'inet46')
      refuse('ip_version', 'RouterOS keeps IPv4 and IPv6 rules in separate menus: write one rule per family (inet or inet6).');
    if (version !== 'inet' && version !== 'inet6') refuse('ip_version', '`ip_version` must be inet or inet6.');
    const protocol = need<string>(body, 'protocol', kind);
    if (protocol === 'tcp/udp')
      refuse('protocol', 'A RouterOS rule matches one protocol: write one rule for tcp and one for udp.');
    const fields: Fields = {
      chain: 'forward',
      action,
      // A read rule's other properties (`chain`, an action beyond allow/deny/reject), then the neutral fields.
      ...vendorFields(b.vendor_data),
      ...addressFields('src', b.source_address, 'source_address'),
      ...addressFields('dst', b.dest_address, 'dest_address'),
      comment: typeof b.description === 'string' ? b.description : '',
      disabled: b.is_enabled === false ? 'true' : 'false',
      log: b.log_enabled === true ? 'true' : 'false',
    };
    if (protocol !== 'any') fields.protocol = protocol === 'icmp' && version === 'inet6' ? 'icmpv6' : protocol;
    if (typeof b.interface === 'string' && b.interface !== '' && b.interface !== 'any') fields['in-interface'] = b.interface;
    if (b.source_port) fields['src-port'] = b.source_port;
    if (b.dest_port) fields['dst-port'] = b.dest_port;
    return { menu: version === 'inet6' ? '/ipv6/firewall/filter' : '/ip/firewall/filter', fields };
  },
  fromDevice(row, target) {
    const v6 = target.startsWith('ipv6:');
    const protocol = str(row.protocol);
    const rule: LiveRuleBody = {
      action: ACTION_FROM[str(row.action) ?? ''] ?? ('deny' as const),
      interface: str(row['in-interface']) ?? 'any',
      ip_version: v6 ? 'inet6' : 'inet',
      protocol: (protocol === 'icmpv6' ? 'icmp' : (protocol ?? 'any')) as LiveRuleBody['protocol'],
      source_address: addressOf(row, 'src'),
      source_port: str(row['src-port']),
      dest_address: addressOf(row, 'dst'),
      dest_port: str(row['dst-port']),
      description: str(row.comment) ?? '',
      is_enabled: !bool(row.disabled),
      log_enabled: bool(row.log),
    };
    const extras = extrasOf(row, RULE_COVERED, {});
    if (str(row.chain) !== null && row.chain !== 'forward') extras.chain = row.chain as string;
    const action = str(row.action);
    if (action !== null && ACTION_FROM[action] === undefined) extras.action = action;
    return { ...rule, ...(Object.keys(extras).length > 0 ? { vendor_data: extras } : {}) };
  },
};

const NAT_COVERED = new Set([
  'chain', 'action', 'in-interface', 'out-interface', 'protocol', 'src-address', 'src-address-list', 'dst-address',
  'dst-address-list', 'dst-port', 'to-addresses', 'to-ports', 'comment', 'disabled',
]);

const portForwardSpec: KindSpec = {
  noun: 'port forward',
  menu: () => '/ip/firewall/nat',
  belongs: (row) => row.chain === 'dstnat',
  covered: NAT_COVERED,
  toDevice(body) {
    const b = body as unknown as LivePortForwardBody;
    const protocol = need<string>(body, 'protocol', 'port forward');
    if (protocol === 'tcp/udp')
      refuse('protocol', 'A RouterOS dst-nat rule matches one protocol: write one port forward for tcp and one for udp.');
    if (protocol !== 'tcp' && protocol !== 'udp') refuse('protocol', '`protocol` must be tcp or udp.');
    const target = need<string>(body, 'target_address', 'port forward');
    if (typeof target !== 'string' || !isAddress(target)) refuse('target_address', '`target_address` must be an address.');
    const fields: Fields = {
      ...vendorFields(b.vendor_data),
      chain: 'dstnat',
      action: 'dst-nat',
      protocol,
      ...addressFields('src', b.source_address, 'source_address'),
      ...addressFields('dst', b.dest_address, 'dest_address'),
      'dst-port': need<string>(body, 'dest_port', 'port forward'),
      'to-addresses': target,
      comment: typeof b.description === 'string' ? b.description : '',
      disabled: b.is_enabled === false ? 'true' : 'false',
    };
    if (b.target_port) fields['to-ports'] = b.target_port;
    if (typeof b.interface === 'string' && b.interface !== '' && b.interface !== 'any') fields['in-interface'] = b.interface;
    return { menu: '/ip/firewall/nat', fields };
  },
  fromDevice(row) {
    const body: LivePortForwardBody = {
      interface: str(row['in-interface']) ?? 'any',
      protocol: (str(row.protocol) ?? 'tcp') as LivePortForwardBody['protocol'],
      source_address: addressOf(row, 'src'),
      dest_address: addressOf(row, 'dst'),
      dest_port: str(row['dst-port']) ?? '',
      target_address: str(row['to-addresses']) ?? '',
      target_port: str(row['to-ports']) ?? '',
      description: str(row.comment) ?? '',
      is_enabled: !bool(row.disabled),
    };
    const extras = extrasOf(row, NAT_COVERED, {});
    if (row.action !== 'dst-nat' && str(row.action) !== null) extras.action = row.action as string;
    return { ...body, ...(Object.keys(extras).length > 0 ? { vendor_data: extras } : {}) };
  },
};

const sourceNatSpec: KindSpec = {
  noun: 'source NAT rule',
  menu: () => '/ip/firewall/nat',
  belongs: (row) => row.chain === 'srcnat',
  covered: NAT_COVERED,
  toDevice(body) {
    const b = body as unknown as LiveSourceNatBody;
    const protocol = need<string>(body, 'protocol', 'source NAT rule');
    if (protocol === 'tcp/udp') refuse('protocol', 'A RouterOS src-nat rule matches one protocol: write one per protocol.');
    const target = need<string>(body, 'target_address', 'source NAT rule');
    const fields: Fields = {
      ...vendorFields(b.vendor_data),
      chain: 'srcnat',
      ...addressFields('src', b.source_address, 'source_address'),
      ...addressFields('dst', b.dest_address, 'dest_address'),
      comment: typeof b.description === 'string' ? b.description : '',
      disabled: b.is_enabled === false ? 'true' : 'false',
    };
    if (target === 'masquerade') fields.action = 'masquerade';
    else if (typeof target === 'string' && isAddress(target)) {
      fields.action = 'src-nat';
      fields['to-addresses'] = target;
    } else {
      refuse('target_address', '`target_address` must be an address, a prefix or `masquerade` (the address of the outgoing interface).');
    }
    if (protocol !== 'any') fields.protocol = protocol;
    if (typeof b.interface === 'string' && b.interface !== '' && b.interface !== 'any') fields['out-interface'] = b.interface;
    return { menu: '/ip/firewall/nat', fields };
  },
  fromDevice(row) {
    const body: LiveSourceNatBody = {
      interface: str(row['out-interface']) ?? 'any',
      protocol: (str(row.protocol) ?? 'any') as LiveSourceNatBody['protocol'],
      source_address: addressOf(row, 'src'),
      dest_address: addressOf(row, 'dst'),
      target_address: row.action === 'masquerade' ? 'masquerade' : (str(row['to-addresses']) ?? ''),
      description: str(row.comment) ?? '',
      is_enabled: !bool(row.disabled),
    };
    const extras = extrasOf(row, NAT_COVERED, {});
    return { ...body, ...(Object.keys(extras).length > 0 ? { vendor_data: extras } : {}) };
  },
};

const ROUTE_COVERED = new Set(['dst-address', 'gateway', 'comment', 'disabled']);

const routeSpec: KindSpec = {
  noun: 'static route',
  menu: () => '/ip/route',
  belongs: (row) => !bool(row.dynamic),
  covered: ROUTE_COVERED,
  toDevice(body) {
    const b = body as unknown as LiveStaticRouteBody;
    const network = need<string>(body, 'network', 'static route');
    if (typeof network !== 'string' || !isAddress(network) || network.includes(':')) refuse('network', '`network` must be an IPv4 prefix.');
    const gateway = need<string>(body, 'gateway', 'static route');
    if (typeof gateway !== 'string' || gateway === '') refuse('gateway', '`gateway` must be an address or an interface name.');
    return {
      menu: '/ip/route',
      fields: {
        'dst-address': network,
        gateway,
        comment: typeof b.description === 'string' ? b.description : '',
        disabled: b.is_enabled === false ? 'true' : 'false',
      },
    };
  },
  fromDevice(row) {
    const body: LiveStaticRouteBody = {
      network: str(row['dst-address']) ?? '',
      gateway: str(row.gateway) ?? '',
      description: str(row.comment) ?? '',
      is_enabled: !bool(row.disabled),
    };
    return body as unknown as LiveObject;
  },
};

const SPECS: Partial<Record<LiveWriteKind, KindSpec>> = {
  firewall_rule: ruleSpec,
  port_forward: portForwardSpec,
  source_nat: sourceNatSpec,
  static_route: routeSpec,
};

export class RouterOsLiveWriter implements LiveWriter {
  private readonly bridgeVlans: RouterOsBridgeVlans;

  constructor(private readonly ros: RouterOsAdapter) {
    this.bridgeVlans = new RouterOsBridgeVlans(ros);
  }

  private spec(kind: LiveWriteKind): KindSpec {
    const spec = SPECS[kind];
    if (spec === undefined) throw new RouterOsError('ROS500', `RouterOS live writes do not cover \`${kind}\`.`);
    return spec;
  }

  private async row(spec: KindSpec, target: string): Promise<RosRow | null> {
    if (!/^(ipv6:)?\*[0-9A-Fa-f]+$/.test(target)) return null;
    try {
      const row = await this.ros.readObject(`${spec.menu(target)}/${idOf(target)}`, `read ${spec.noun} \`${target}\``);
      return spec.belongs(row) ? row : null;
    } catch (err) {
      if (err instanceof RouterOsError && err.code === 'ROS105') return null;
      throw err;
    }
  }

  async read(kind: LiveWriteKind, target: string): Promise<LiveObject | null> {
    if (kind === 'bridge_vlan') return this.bridgeVlans.read(target);
    if (kind === 'alias') {
      const alias = await this.ros.getAlias(target);
      if (alias === null || alias.entries.length === 0) return null;
      const body: LiveAliasBody = {
        name: target,
        type: 'host',
        description: '',
        entries: alias.entries.map((e) => ({ address: e.address, detail: e.detail })),
      };
      return body as unknown as LiveObject;
    }
    const spec = this.spec(kind);
    const row = await this.row(spec, target);
    return row === null ? null : spec.fromDevice(row, target);
  }

  async write(change: LiveWrite): Promise<LiveWriteResult> {
    if (change.kind === 'service' || change.kind === 'power' || change.kind === 'dns_override' || change.kind === 'dhcp_static_mapping')
      throw new RouterOsError('ROS500', `RouterOS live writes do not cover \`${change.kind}\`.`);
    if (change.kind === 'alias') return this.writeAlias(change);
    if (change.kind === 'bridge_vlan') return this.bridgeVlans.write(change);
    const spec = this.spec(change.kind);
    switch (change.op) {
      case 'create': {
        const { menu, fields } = spec.toDevice(change.body as unknown as Record<string, unknown>);
        const before = 'before' in change ? change.before : null;
        if (before !== null && before !== undefined) {
          if (spec.menu(before) !== menu)
            refuse('before', `The rule to place before (\`${before}\`) is in another menu than the new rule.`);
          fields['place-before'] = idOf(before);
        }
        const created = await this.ros.request('ROS500', `create ${spec.noun}`, 'PUT', menu, fields);
        const row: unknown = Array.isArray(created) ? (created as unknown[])[0] : created;
        const id = row !== null && typeof row === 'object' ? (row as RosRow)['.id'] : undefined;
        if (typeof id !== 'string') throw new RouterOsError('ROS400', `Creating a ${spec.noun} returned no \`.id\`.`);
        return { target: menu.startsWith('/ipv6') ? `ipv6:${id}` : id, pending: [] };
      }
      case 'update': {
        const row = await this.mustFind(spec, change.target);
        const { menu, fields } = spec.toDevice(change.body as unknown as Record<string, unknown>);
        if (menu !== spec.menu(change.target))
          refuse('ip_version', 'Moving a rule between the IPv4 and IPv6 menus is a delete and a create, not an update.');
        // Clear what the new body no longer sets (RouterOS unsets a property given empty).
        for (const key of spec.covered) if (!(key in fields) && str(row[key]) !== null) fields[key] = '';
        const extras = (change.body as { vendor_data?: unknown }).vendor_data;
        if (extras !== undefined) {
          for (const [k, v] of Object.entries(row))
            if (!READ_ONLY.has(k) && !spec.covered.has(k) && !(k in fields) && typeof v === 'string' && v !== '') fields[k] = '';
        }
        await this.ros.request('ROS500', `update ${spec.noun} \`${change.target}\``, 'PATCH', `${menu}/${idOf(change.target)}`, fields);
        return { target: change.target, pending: [] };
      }
      case 'toggle': {
        await this.mustFind(spec, change.target);
        const enabled = change.body.is_enabled;
        if (typeof enabled !== 'boolean') refuse('is_enabled', '`is_enabled` must be true or false.');
        await this.ros.request(
          'ROS500',
          `${enabled ? 'enable' : 'disable'} ${spec.noun} \`${change.target}\``,
          'PATCH',
          `${spec.menu(change.target)}/${idOf(change.target)}`,
          { disabled: enabled ? 'false' : 'true' },
        );
        return { target: change.target, pending: [] };
      }
      case 'delete': {
        await this.mustFind(spec, change.target);
        await this.ros.request('ROS500', `delete ${spec.noun} \`${change.target}\``, 'DELETE', `${spec.menu(change.target)}/${idOf(change.target)}`);
        return { target: change.target, pending: [] };
      }
      default:
        throw new RouterOsError('ROS500', `RouterOS live writes do not take \`${(change as { op: string }).op}\`.`);
    }
  }

  private async mustFind(spec: KindSpec, target: string): Promise<RosRow> {
    const row = await this.row(spec, target);
    if (row === null) throw new RouterOsError('ROS105', `${spec.noun} \`${target}\` does not exist on the router.`);
    if (bool(row.dynamic)) throw new RouterOsError('ROS500', `${spec.noun} \`${target}\` is dynamic: RouterOS made it and only RouterOS changes it.`);
    return row;
  }

  private async writeAlias(change: Extract<LiveWrite, { kind: 'alias' }>): Promise<LiveWriteResult> {
    if (change.op === 'delete') {
      await this.ros.setAliasEntries(change.target, []);
      return { target: change.target, pending: [] };
    }
    const body = change.body;
    if (body.type === 'port') refuse('type', 'RouterOS address lists hold addresses, not ports.');
    const name = change.op === 'update' ? change.target : body.name;
    if (change.op === 'update' && body.name !== change.target)
      refuse('name', 'A RouterOS address list cannot be renamed: its name is on every entry.');
    if (!Array.isArray(body.entries)) refuse('entries', '`entries` must be a list.');
    await this.ros.setAliasEntries(
      name,
      body.entries.map((e) => ({ address: e.address, detail: e.detail })),
    );
    return { target: name, pending: [] };
  }

  async apply(): Promise<void> {
    // Writes are live at once (docs/reference/routeros-api.md §4).
  }

  async pendingSubsystems(): Promise<string[]> {
    return [];
  }
}
