/**
 * @module The rule models of the OPNsense emulator (docs/reference/opnsense-api.md §5): the fields of
 * `models/OPNsense/Firewall/Filter.xml` (rules, snatrules, onetoone) and `DNat.xml` (port forwards, mounted at
 * `/nat/rule`) that the emulator keeps, their defaults and options, validation, and the read shapes
 * (`get_rule` option maps, search rows with `%field` descriptions).
 */
import { isIpAddr, isServiceName, isSubnet } from '../pfrest/names.ts';
import type { OpnAlias, OpnInterface, OpnRule, RuleSection } from './state.ts';
import type { Validations } from './aliases.ts';

type Kind = 'bool' | 'text' | 'int' | 'seq' | 'option' | 'iface' | 'net' | 'port' | 'proto';

interface FieldDef {
  name: string;
  kind: Kind;
  dflt?: string;
  required?: boolean;
  multi?: boolean;
  options?: Record<string, string>;
  /** Validation message from the model XML. */
  message?: string;
}

const PROTOCOLS: Record<string, string> = {
  any: 'any',
  ICMP: 'ICMP',
  IGMP: 'IGMP',
  TCP: 'TCP',
  UDP: 'UDP',
  'TCP/UDP': 'TCP/UDP',
  ESP: 'ESP',
  AH: 'AH',
  GRE: 'GRE',
  IPV6: 'IPV6',
  'IPV6-ICMP': 'IPV6-ICMP',
  OSPF: 'OSPF',
  PIM: 'PIM',
  CARP: 'CARP',
  PFSYNC: 'PFSYNC',
};

const PORT_MSG = 'Please specify a valid portnumber, name, alias or range.';
const SEQ_MSG = 'Sequence shall be between 1 and 999999.';

const FILTER: FieldDef[] = [
  { name: 'enabled', kind: 'bool', dflt: '1', required: true },
  {
    name: 'statetype',
    kind: 'option',
    dflt: 'keep',
    required: true,
    options: {
      keep: 'keep state',
      sloppy: 'sloppy state',
      modulate: 'modulate state',
      synproxy: 'synproxy state',
      none: 'no state',
    },
  },
  { name: 'state-policy', kind: 'option', options: { 'if-bound': 'Bind states to interface', floating: 'Floating states' } },
  { name: 'sequence', kind: 'seq', dflt: '1', required: true, message: SEQ_MSG },
  { name: 'action', kind: 'option', dflt: 'pass', required: true, options: { pass: 'Pass', block: 'Block', reject: 'Reject' } },
  { name: 'quick', kind: 'bool', dflt: '1', required: true },
  { name: 'interfacenot', kind: 'bool', dflt: '0', required: true },
  { name: 'interface', kind: 'iface', multi: true },
  { name: 'direction', kind: 'option', dflt: 'in', required: true, options: { in: 'In', out: 'Out', any: 'Both' } },
  { name: 'ipprotocol', kind: 'option', dflt: 'inet', required: true, options: { inet: 'IPv4', inet6: 'IPv6', inet46: 'any' } },
  { name: 'protocol', kind: 'proto', dflt: 'any', required: true },
  { name: 'source_net', kind: 'net', dflt: 'any', required: true, multi: true },
  { name: 'source_not', kind: 'bool', dflt: '0', required: true },
  { name: 'source_port', kind: 'port', message: PORT_MSG },
  { name: 'destination_net', kind: 'net', dflt: 'any', required: true, multi: true },
  { name: 'destination_not', kind: 'bool', dflt: '0', required: true },
  { name: 'destination_port', kind: 'port', message: PORT_MSG },
  { name: 'gateway', kind: 'text' },
  { name: 'log', kind: 'bool', dflt: '0', required: true },
  { name: 'allowopts', kind: 'bool', dflt: '0', required: true },
  { name: 'nosync', kind: 'bool', dflt: '0', required: true },
  { name: 'statetimeout', kind: 'int' },
  { name: 'max-src-nodes', kind: 'int' },
  { name: 'max-src-states', kind: 'int' },
  { name: 'max-src-conn', kind: 'int' },
  { name: 'max', kind: 'int' },
  { name: 'max-src-conn-rate', kind: 'int' },
  { name: 'max-src-conn-rates', kind: 'int' },
  { name: 'tag', kind: 'text' },
  { name: 'tagged', kind: 'text' },
  { name: 'categories', kind: 'text' },
  { name: 'sched', kind: 'text' },
  { name: 'description', kind: 'text' },
];

const SNAT: FieldDef[] = [
  { name: 'enabled', kind: 'bool', dflt: '1', required: true },
  { name: 'nonat', kind: 'bool', dflt: '0', required: true },
  { name: 'nosync', kind: 'bool', dflt: '0', required: true },
  { name: 'sequence', kind: 'seq', dflt: '1', required: true, message: SEQ_MSG },
  { name: 'interface', kind: 'iface', dflt: 'lan', required: true },
  { name: 'ipprotocol', kind: 'option', dflt: 'inet', required: true, options: { inet: 'IPv4', inet6: 'IPv6' } },
  { name: 'protocol', kind: 'proto', dflt: 'any', required: true },
  { name: 'source_net', kind: 'net', dflt: 'any', required: true },
  { name: 'source_not', kind: 'bool', dflt: '0', required: true },
  { name: 'source_port', kind: 'port', message: PORT_MSG },
  { name: 'destination_net', kind: 'net', dflt: 'any', required: true },
  { name: 'destination_not', kind: 'bool', dflt: '0', required: true },
  { name: 'destination_port', kind: 'port', message: PORT_MSG },
  { name: 'target', kind: 'net' },
  { name: 'target_port', kind: 'port', message: PORT_MSG },
  { name: 'staticnatport', kind: 'bool' },
  { name: 'log', kind: 'bool', dflt: '0', required: true },
  { name: 'categories', kind: 'text' },
  { name: 'tag', kind: 'text' },
  { name: 'tagged', kind: 'text' },
  { name: 'description', kind: 'text' },
];

const ONETOONE: FieldDef[] = [
  { name: 'enabled', kind: 'bool', dflt: '1', required: true },
  { name: 'log', kind: 'bool', dflt: '0', required: true },
  { name: 'sequence', kind: 'seq', dflt: '1', required: true, message: SEQ_MSG },
  { name: 'interface', kind: 'iface', dflt: 'wan', required: true },
  { name: 'type', kind: 'option', dflt: 'binat', required: true, options: { binat: 'BINAT', nat: 'NAT' } },
  { name: 'source_net', kind: 'net', required: true },
  { name: 'source_not', kind: 'bool', dflt: '0', required: true },
  { name: 'destination_net', kind: 'net', dflt: 'any', required: true },
  { name: 'destination_not', kind: 'bool', dflt: '0', required: true },
  { name: 'external', kind: 'net', required: true },
  { name: 'natreflection', kind: 'option', options: { default: 'Default', enable: 'Enable', disable: 'Disable' } },
  { name: 'categories', kind: 'text' },
  { name: 'description', kind: 'text' },
];

const DNAT: FieldDef[] = [
  { name: 'sequence', kind: 'seq', required: true, message: SEQ_MSG },
  { name: 'disabled', kind: 'bool' },
  { name: 'nordr', kind: 'bool' },
  { name: 'interface', kind: 'iface' },
  { name: 'ipprotocol', kind: 'option', options: { inet: 'IPv4', inet6: 'IPv6', inet46: 'IPv4+IPv6' } },
  { name: 'protocol', kind: 'proto' },
  { name: 'source.network', kind: 'net' },
  { name: 'source.port', kind: 'port', message: PORT_MSG },
  { name: 'source.not', kind: 'bool' },
  { name: 'destination.network', kind: 'net' },
  { name: 'destination.port', kind: 'port', message: PORT_MSG },
  { name: 'destination.not', kind: 'bool' },
  { name: 'target', kind: 'net' },
  { name: 'local-port', kind: 'port', message: PORT_MSG },
  {
    name: 'poolopts',
    kind: 'option',
    options: {
      rr: 'Round Robin',
      rrsa: 'Round Robin with Sticky Address',
      random: 'Random',
      randomsa: 'Random with Sticky Address',
      'source-hash': 'Source Hash',
      bitmask: 'Bitmask',
    },
  },
  { name: 'log', kind: 'bool' },
  { name: 'categories', kind: 'text' },
  { name: 'descr', kind: 'text' },
  { name: 'tag', kind: 'text' },
  { name: 'tagged', kind: 'text' },
  { name: 'nosync', kind: 'bool' },
  { name: 'natreflection', kind: 'option', options: { purenat: 'Enable', disable: 'Disable' } },
  { name: 'pass', kind: 'option', options: { pass: 'Pass', rule: 'Register rule' } },
  { name: 'created.username', kind: 'text' },
  { name: 'created.time', kind: 'text' },
  { name: 'created.description', kind: 'text' },
  { name: 'updated.username', kind: 'text' },
  { name: 'updated.time', kind: 'text' },
  { name: 'updated.description', kind: 'text' },
];

export const RULE_FIELDS: Record<RuleSection, FieldDef[]> = {
  filter: FILTER,
  snat: SNAT,
  onetoone: ONETOONE,
  dnat: DNAT,
};

export function blankRule(section: RuleSection, uuid: string): OpnRule {
  const r: Record<string, string> = { uuid };
  for (const f of RULE_FIELDS[section]) r[f.name] = f.dflt ?? '';
  return r as OpnRule;
}

/**
 * `setNodes()` with a posted rule: leaf values must be scalars (a posted option map is PHP's
 * "Array to string conversion"); dotted DNat fields arrive as nested containers (`source.network`).
 */
export function applyRulePost(section: RuleSection, target: OpnRule, post: Record<string, unknown>): 'array' | null {
  const t = target as Record<string, string>;
  for (const f of RULE_FIELDS[section]) {
    const path = f.name.split('.');
    let value: unknown = post;
    for (const p of path) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        value = undefined;
        break;
      }
      value = (value as Record<string, unknown>)[p];
    }
    if (value === undefined) continue;
    if (value !== null && typeof value === 'object') return 'array';
    t[f.name] =
      typeof value === 'boolean' ? (value ? '1' : '0') : typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  }
  return null;
}

interface ModelContext {
  interfaces: OpnInterface[];
  aliases: OpnAlias[];
}

function networkOptions(ctx: ModelContext): Record<string, string> {
  const out: Record<string, string> = { any: 'any', '(self)': 'This Firewall' };
  for (const i of ctx.interfaces) {
    out[i.id] = `${i.descr} net`;
    out[`${i.id}ip`] = `${i.descr} address`;
  }
  for (const a of ctx.aliases) if (a.type !== 'port' && a.type !== 'internal') out[a.name] = a.name;
  return out;
}

function isPortValue(v: string, ctx: ModelContext): boolean {
  if (ctx.aliases.some((a) => a.name === v && a.type === 'port')) return true;
  const ok = (p: string): boolean => (/^\d+$/.test(p) ? Number(p) >= 1 && Number(p) <= 65535 : isServiceName(p));
  const range = v.split(/[:-]/);
  if (range.length === 2) return ok(range[0] as string) && ok(range[1] as string);
  return ok(v);
}

export function validateRule(section: RuleSection, rule: OpnRule, ctx: ModelContext, prefix = 'rule'): Validations {
  const v: Validations = {};
  const add = (field: string, msg: string): void => {
    const k = `${prefix}.${field}`;
    const cur = v[k];
    if (cur === undefined) v[k] = msg;
    else if (typeof cur === 'string') {
      if (cur !== msg) v[k] = [cur, msg];
    } else if (!cur.includes(msg)) cur.push(msg);
  };
  const nets = networkOptions(ctx);
  const ifaces = new Set(ctx.interfaces.map((i) => i.id));
  for (const f of RULE_FIELDS[section]) {
    const value = (rule as Record<string, string>)[f.name] ?? '';
    if (value === '') {
      if (f.required) add(f.name, 'A value is required.');
      continue;
    }
    switch (f.kind) {
      case 'bool':
        if (value !== '0' && value !== '1') add(f.name, 'Value should be a boolean (0,1).');
        break;
      case 'int':
        if (!/^-?\d+$/.test(value)) add(f.name, 'Please specify a valid integer.');
        break;
      case 'seq':
        if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 999999) add(f.name, f.message ?? SEQ_MSG);
        break;
      case 'option':
        for (const item of f.multi ? value.split(',') : [value]) {
          if (f.options?.[item] === undefined) add(f.name, `Option [${f.multi ? item : ''}] not in list.`);
        }
        break;
      case 'iface':
        for (const item of value.split(',')) {
          if (!ifaces.has(item)) add(f.name, `Option [${f.multi ? item : ''}] not in list.`);
        }
        break;
      case 'proto':
        if (PROTOCOLS[value] === undefined) add(f.name, 'Option [] not in list.');
        break;
      case 'net':
        for (const item of value.split(',')) {
          const bare = item.startsWith('!') ? item.slice(1) : item;
          if (nets[bare] === undefined && !isIpAddr(bare) && !isSubnet(bare)) {
            add(f.name, `${value} is not a valid source IP address or alias.`);
            break;
          }
        }
        break;
      case 'port':
        if (!isPortValue(value, ctx)) add(f.name, f.message ?? PORT_MSG);
        break;
      default:
        break;
    }
  }
  return v;
}

type OptionMap = Record<string, { value: string; selected: number }>;

function optionMap(options: Record<string, string>, value: string, blank: boolean, multi: boolean): OptionMap {
  const out: OptionMap = {};
  const selected = value === '' ? [] : multi ? value.split(',') : [value];
  if (blank && !multi) out[''] = { value: 'None', selected: value === '' ? 1 : 0 };
  for (const [k, d] of Object.entries(options)) out[k] = { value: d, selected: selected.includes(k) ? 1 : 0 };
  // a value not among the options still shows up selected (e.g. an address in a network field)
  for (const s of selected) if (out[s] === undefined) out[s] = { value: s, selected: 1 };
  return out;
}

/** `getNodes()` of a rule: option fields as maps, the rest as strings; DNat's dotted fields nested. */
export function ruleNodes(section: RuleSection, rule: OpnRule, ctx: ModelContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ifaces = Object.fromEntries(ctx.interfaces.map((i) => [i.id, i.descr]));
  for (const f of RULE_FIELDS[section]) {
    const value = (rule as Record<string, string>)[f.name] ?? '';
    let shown: unknown = value;
    const blank = !f.required;
    if (f.kind === 'option') shown = optionMap(f.options ?? {}, value, blank, f.multi ?? false);
    else if (f.kind === 'iface') shown = optionMap(ifaces, value, blank, f.multi ?? false);
    else if (f.kind === 'proto') shown = optionMap(PROTOCOLS, value, blank, false);
    else if (f.kind === 'net') shown = optionMap(networkOptions(ctx), value, blank, f.multi ?? false);
    const path = f.name.split('.');
    let node = out;
    for (const p of path.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1] as string] = shown;
  }
  if (section === 'filter' || section === 'snat' || section === 'onetoone') {
    out.sort_order = sortOrder(section, rule);
    out.prio_group = prioGroup(section, rule);
  }
  return out;
}

export function prioGroup(section: RuleSection, rule: OpnRule): string {
  if (section !== 'filter') return section === 'dnat' ? '400000' : '';
  const ifs = (rule.interface ?? '').split(',').filter((x) => x !== '');
  return ifs.length !== 1 || rule.interfacenot === '1' ? '200000' : '400000';
}

export function sortOrder(section: RuleSection, rule: OpnRule): string {
  const prio = section === 'filter' ? prioGroup(section, rule) : section === 'dnat' ? '400000' : '0';
  return `${prio}.0${String(Number(rule.sequence || '0')).padStart(6, '0')}`;
}

/** A search row: raw values with `%field` descriptions where they differ (`UIModelGrid::fetch`). */
export function ruleRow(section: RuleSection, rule: OpnRule, ctx: ModelContext): Record<string, unknown> {
  const row: Record<string, unknown> = { uuid: rule.uuid };
  const ifaces = Object.fromEntries(ctx.interfaces.map((i) => [i.id, i.descr]));
  for (const f of RULE_FIELDS[section]) {
    const value = (rule as Record<string, string>)[f.name] ?? '';
    row[f.name] = value;
    let descr: string | undefined;
    if (f.kind === 'option') descr = value.split(',').map((x) => f.options?.[x] ?? x).join(', ');
    else if (f.kind === 'iface') descr = value.split(',').map((x) => ifaces[x] ?? x).join(', ');
    else if (f.kind === 'proto' && value === 'any') descr = 'any';
    if (descr !== undefined && value !== '' && descr !== value) row[`%${f.name}`] = descr;
  }
  if (section === 'filter' || section === 'dnat') {
    row.sort_order = sortOrder(section, rule);
    row.prio_group = prioGroup(section, rule);
  }
  row.category_colors = [];
  return row;
}
