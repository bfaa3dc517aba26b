/**
 * @module The FirewallAlias (docs/reference/pfrest-contract.md §8) and FirewallRule (§9) models: field validation in pfRest's
 * order (first failure wins), defaults, and the representations with pfRest's key order.
 */
import { type AliasNameFailure, aliasNameFailure } from './alias-name.ts';
import { PfRestError } from './envelope.ts';
import { isFqdn, isIpAddr, isPort, isPortRange, isSubnet } from './names.ts';
import type { EmulatorInterface, StoredAlias, StoredRule } from './state.ts';

export const ALIAS_FIELDS = ['name', 'type', 'descr', 'address', 'detail'] as const;
const ALIAS_TYPES = ['host', 'network', 'port'];

function required(field: string, value: unknown): void {
  if (value === undefined || value === null)
    throw new PfRestError(400, 'FIELD_IS_REQUIRED', `Field '${field}' is required.`);
}

function mustBeString(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') {
    throw new PfRestError(400, 'FIELD_INVALID_TYPE', `Field '${field}' must be of type 'string'.`);
  }
}

function stringList(field: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new PfRestError(400, 'FIELD_INVALID_MANY_VALUE', `Field '${field}' must be an array of values.`);
  }
  for (const item of value) mustBeString(field, item);
  return value as string[];
}

function choice(field: string, value: unknown, choices: readonly string[]): string {
  mustBeString(field, value);
  if (!choices.includes(value)) {
    throw new PfRestError(
      400,
      'FIELD_INVALID_CHOICE',
      `Field '${field}' must be one of [${choices.join(', ')}]`,
    );
  }
  return value;
}

function notEditable(field: string, value: unknown, original: unknown): void {
  if (original !== undefined && JSON.stringify(value) !== JSON.stringify(original)) {
    throw new PfRestError(
      400,
      'FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE',
      `Field '${field}' cannot be changed once created.`,
    );
  }
}

function nameError(failure: AliasNameFailure): PfRestError {
  return new PfRestError(400, failure.id, failure.message);
}

const ADDRESS_RULES: Record<
  string,
  { id: string; label: string; accepts: (v: string, others: readonly StoredAlias[]) => boolean }
> = {
  host: {
    id: 'INVALID_HOST_ALIAS_ADDRESS',
    label: 'Host alias address',
    accepts: (v, others) => isIpAddr(v) || isFqdn(v) || others.some((a) => a.name === v && a.type !== 'port'),
  },
  network: {
    id: 'INVALID_NETWORK_ALIAS_ADDRESS',
    label: 'Network alias address',
    accepts: (v, others) => isSubnet(v) || isFqdn(v) || others.some((a) => a.name === v && a.type !== 'port'),
  },
  port: {
    id: 'INVALID_PORT_ALIAS_ADDRESS',
    label: 'Port alias address',
    accepts: (v, others) =>
      isPort(v) || isPortRange(v) || others.some((a) => a.name === v && a.type === 'port'),
  },
};

/**
 * Validates a complete alias candidate (after PATCH merge). `others` are the stored aliases it may reference or
 * clash with (itself excluded via `selfIndex`); `original` is the stored object on PATCH.
 */
export function validateAlias(
  candidate: Record<string, unknown>,
  ctx: {
    aliases: readonly StoredAlias[];
    selfIndex: number | null;
    original: StoredAlias | null;
    interfaces: readonly EmulatorInterface[];
    interfaceGroups: readonly string[];
  },
): StoredAlias {
  const { name } = candidate;
  required('name', name);
  notEditable('name', name, ctx.original?.name);
  mustBeString('name', name);
  const clash = ctx.aliases.findIndex((a, i) => i !== ctx.selfIndex && a.name === name);
  if (clash >= 0) {
    throw new PfRestError(
      400,
      'FIELD_MUST_BE_UNIQUE',
      `Field 'name' must be unique. Value is in use by object with ID '${clash}'.`,
    );
  }
  const nameCheck = aliasNameFailure(name, {
    interfaceIds: ctx.interfaces.map((i) => i.id),
    interfaceGroups: ctx.interfaceGroups,
  });
  // validate_name() (is_validaliasname) runs after every field's own checks (contract §6); every other name
  // failure is the name field's own and fails here.
  if (nameCheck !== null && !nameCheck.late) throw nameError(nameCheck);
  required('type', candidate.type);
  const type = choice('type', candidate.type, ALIAS_TYPES);
  const descr = candidate.descr ?? '';
  mustBeString('descr', descr);
  if (descr.length > 1024) {
    throw new PfRestError(
      400,
      'LENGTH_VALIDATOR_MAXIMUM_CONSTRAINT',
      "Field 'descr' exceeds the maximum length of 1024.",
    );
  }
  const address = stringList('address', candidate.address);
  const detail = stringList('detail', candidate.detail);
  if (nameCheck !== null) throw nameError(nameCheck);
  const rule = ADDRESS_RULES[type] as (typeof ADDRESS_RULES)[string];
  const others = ctx.aliases.filter((_, i) => i !== ctx.selfIndex);
  for (const entry of address) {
    if (!rule.accepts(entry, others))
      throw new PfRestError(400, rule.id, `${rule.label} '${entry}' is not a valid ${type} alias address.`);
  }
  if (detail.length > address.length) {
    throw new PfRestError(
      400,
      'TOO_MANY_ALIAS_DETAILS',
      'An alias cannot contain more details than addresses.',
    );
  }
  return { name, type, descr, address: [...address], detail: [...detail] };
}

export function aliasRepresentation(
  alias: StoredAlias,
  id: number,
): Record<string, unknown> & { id: number } {
  return {
    id,
    name: alias.name,
    type: alias.type,
    descr: alias.descr,
    address: alias.address,
    detail: alias.detail,
  };
}

// ---------------------------------------------------------------------------------------------------------
// FirewallRule (§9) — enough to hold rules that reference aliases, with the fields' main checks.

export const RULE_FIELDS = [
  'type',
  'interface',
  'ipprotocol',
  'protocol',
  'icmptype',
  'source',
  'source_port',
  'destination',
  'destination_port',
  'descr',
  'disabled',
  'log',
  'dscp',
  'tag',
  'statetype',
  'tcp_flags_any',
  'tcp_flags_out_of',
  'tcp_flags_set',
  'gateway',
  'sched',
  'dnpipe',
  'pdnpipe',
  'defaultqueue',
  'ackqueue',
  'floating',
  'quick',
  'direction',
  'tracker',
  'associated_rule_id',
  'created_time',
  'created_by',
  'updated_time',
  'updated_by',
] as const;

const PROTOCOLS = [
  'tcp',
  'udp',
  'tcp/udp',
  'icmp',
  'esp',
  'ah',
  'gre',
  'ipv6',
  'igmp',
  'pim',
  'ospf',
  'carp',
  'pfsync',
];
const PORT_PROTOCOLS = ['tcp', 'udp', 'tcp/udp'];
const STATE_TYPES = ['keep state', 'sloppy state', 'synproxy state', 'none'];

/** FilterAddressField (§9.1). */
export function filterAddress(
  field: string,
  value: string,
  aliases: readonly StoredAlias[],
  interfaces: readonly EmulatorInterface[],
): void {
  if (value === '!any') {
    throw new PfRestError(
      400,
      'FILTER_RULE_ADDRESS_FIELD_WITH_INVERT_ANY',
      `Field '${field}' cannot invert 'any'.`,
    );
  }
  const v = value.startsWith('!') ? value.slice(1) : value;
  const ok =
    ['any', '(self)', 'l2tp', 'pppoe'].includes(v) ||
    isIpAddr(v) ||
    isSubnet(v) ||
    aliases.some((a) => a.name === v && a.type !== 'port') ||
    interfaces.some((i) => i.id === v || `${i.id}:ip` === v);
  if (!ok)
    throw new PfRestError(
      400,
      'FILTER_ADDRESS_FIELD_INVALID',
      `Field '${field}' value '${value}' is not a valid address.`,
    );
}

/** PortField (§9.2): a port, a `low:high` range or a port alias; null = any. */
export function portField(field: string, value: unknown, aliases: readonly StoredAlias[]): string | null {
  if (value === null || value === undefined) return null;
  mustBeString(field, value);
  if (isPort(value) || isPortRange(value) || aliases.some((a) => a.name === value && a.type === 'port'))
    return value;
  throw new PfRestError(
    400,
    'PORT_FIELD_INVALID',
    `Field '${field}' value '${value}' is not a valid port, port range or port alias.`,
  );
}

export function validateRule(
  candidate: Record<string, unknown>,
  ctx: {
    aliases: readonly StoredAlias[];
    interfaces: readonly EmulatorInterface[];
    original: StoredRule | null;
    caller: string;
    clientIp: string;
  },
): StoredRule {
  const now = Math.floor(Date.now() / 1000);
  required('type', candidate.type);
  const type = choice('type', candidate.type, ['pass', 'block', 'reject']);
  required('interface', candidate.interface);
  const interfaceChoices = [...ctx.interfaces.map((i) => i.id), 'enc0', 'openvpn', 'any'];
  const iface = stringList('interface', candidate.interface);
  for (const i of iface) choice('interface', i, interfaceChoices);
  const floating = candidate.floating ?? ctx.original?.floating ?? false;
  if (ctx.original !== null) notEditable('floating', floating, ctx.original.floating);
  if (iface.length > 1 && floating !== true) {
    throw new PfRestError(
      400,
      'FIREWALL_RULE_MULTIPLE_INTERFACE_WITHOUT_FLOATING',
      'Multiple interfaces may only be assigned to floating rules.',
    );
  }
  required('ipprotocol', candidate.ipprotocol);
  const ipprotocol = choice('ipprotocol', candidate.ipprotocol, ['inet', 'inet6', 'inet46']);
  const protocol =
    candidate.protocol === undefined || candidate.protocol === null
      ? null
      : choice('protocol', candidate.protocol, PROTOCOLS);
  required('source', candidate.source);
  mustBeString('source', candidate.source);
  filterAddress('source', candidate.source, ctx.aliases, ctx.interfaces);
  required('destination', candidate.destination);
  mustBeString('destination', candidate.destination);
  filterAddress('destination', candidate.destination, ctx.aliases, ctx.interfaces);
  const ports = protocol !== null && PORT_PROTOCOLS.includes(protocol);
  const statetype = choice('statetype', candidate.statetype ?? 'keep state', STATE_TYPES);
  if (statetype === 'synproxy state' && protocol !== 'tcp') {
    throw new PfRestError(
      400,
      'FIREWALL_RULE_SYNPROXY_STATE_TYPE_WITH_NON_TCP_PROTOCOL',
      "Rules with 'synproxy state' must use protocol 'tcp'.",
    );
  }
  const descr = candidate.descr ?? '';
  mustBeString('descr', descr);
  // `tracker` is not editable (`Models/FirewallRule.inc:336`): a PATCH sending another value is refused
  // (`Core/Field.inc:517-534`), so clients send it to guard against a shifted id.
  if (ctx.original !== null) notEditable('tracker', candidate.tracker, ctx.original.tracker);
  const tracker = ctx.original?.tracker ?? now;
  return {
    type,
    interface: [...iface],
    ipprotocol,
    protocol,
    icmptype: protocol === 'icmp' ? stringList('icmptype', candidate.icmptype ?? ['any']) : null,
    source: candidate.source,
    source_port: ports ? portField('source_port', candidate.source_port, ctx.aliases) : null,
    destination: candidate.destination,
    destination_port: ports ? portField('destination_port', candidate.destination_port, ctx.aliases) : null,
    descr,
    disabled: candidate.disabled === true,
    log: candidate.log === true,
    dscp: candidate.dscp ?? null,
    tag: candidate.tag ?? '',
    statetype,
    tcp_flags_any: candidate.tcp_flags_any === true,
    tcp_flags_out_of: candidate.tcp_flags_out_of ?? null,
    tcp_flags_set: candidate.tcp_flags_set ?? null,
    gateway: candidate.gateway ?? null,
    sched: candidate.sched ?? null,
    dnpipe: candidate.dnpipe ?? null,
    pdnpipe: candidate.pdnpipe ?? null,
    defaultqueue: candidate.defaultqueue ?? null,
    ackqueue: candidate.ackqueue ?? null,
    floating: floating === true,
    quick: floating === true ? candidate.quick === true : null,
    direction:
      floating === true ? choice('direction', candidate.direction ?? 'any', ['any', 'in', 'out']) : null,
    tracker,
    associated_rule_id: ctx.original?.associated_rule_id ?? null,
    created_time: ctx.original?.created_time ?? now,
    // created_by is computed before the caller is known, so over HTTP it lacks the user name (§9 quirk).
    created_by: ctx.original?.created_by ?? `@${ctx.clientIp} (API)`,
    updated_time: now,
    updated_by: `${ctx.caller}@${ctx.clientIp} (API)`,
  };
}

export function ruleRepresentation(rule: StoredRule, id: number): Record<string, unknown> & { id: number } {
  const out: Record<string, unknown> & { id: number } = { id };
  for (const field of RULE_FIELDS) out[field] = rule[field] ?? null;
  return out;
}
