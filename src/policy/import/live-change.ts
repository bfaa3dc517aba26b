/**
 * @module One staged live write applied to a live snapshot: the snapshot the device would hold after the write,
 * from which the after-model is built (`buildPolicyFromLive`). The change shapes are structurally the neutral
 * live-write bodies (src/adapters/live-write.ts) of the kinds that touch the filter: firewall rules, aliases, port
 * forwards and outbound (source) NAT. Where the device puts a new object follows it: a created rule, port forward
 * or mapping goes last in its list (pfRest appends), an update keeps the object's place
 * (docs/adr/0170-semantic-preview-of-a-live-change.md). Pure.
 */
import { PolicyInputError } from '../warnings.ts';
import type { LiveAliasInput, LiveNatRuleInput, LiveRuleInput, LiveSnapshot } from './live.ts';

interface RuleBody {
  action: 'allow' | 'deny' | 'reject';
  interface: string;
  ip_version: 'inet' | 'inet6' | 'inet46';
  protocol: string;
  source_address: string;
  source_port: string | null;
  dest_address: string;
  dest_port: string | null;
  description: string;
  is_enabled: boolean;
  log_enabled: boolean;
}

interface PortForwardBody {
  interface: string;
  protocol: string;
  source_address: string;
  dest_address: string;
  dest_port: string;
  target_address: string;
  target_port: string;
  description: string;
  is_enabled: boolean;
}

interface SourceNatBody {
  interface: string;
  protocol: string;
  source_address: string;
  dest_address: string;
  target_address: string;
  description: string;
  is_enabled: boolean;
}

interface AliasBody {
  name: string;
  type: string;
  description: string;
  entries: Array<{ address: string; detail: string }>;
}

/** The staged writes a semantic preview covers. */
export type LiveChange =
  | { kind: 'firewall_rule'; op: 'create'; target: null; body: RuleBody }
  | { kind: 'firewall_rule'; op: 'update'; target: string; body: RuleBody }
  | { kind: 'firewall_rule'; op: 'toggle'; target: string; body: { is_enabled: boolean } }
  | { kind: 'port_forward'; op: 'create'; target: null; body: PortForwardBody }
  | { kind: 'port_forward'; op: 'update'; target: string; body: PortForwardBody }
  | { kind: 'source_nat'; op: 'create'; target: null; body: SourceNatBody }
  | { kind: 'source_nat'; op: 'update'; target: string; body: SourceNatBody }
  | { kind: 'port_forward' | 'source_nat'; op: 'toggle'; target: string; body: { is_enabled: boolean } }
  | { kind: 'alias'; op: 'create' | 'update'; target: string | null; body: AliasBody }
  | { kind: 'firewall_rule' | 'port_forward' | 'source_nat' | 'alias'; op: 'delete'; target: string };

/** A rule from a neutral body: a tab rule (the neutral body has no floating options). */
function ruleFromBody(body: RuleBody, id: string | null): LiveRuleInput {
  return {
    vendor_rule_id: id,
    action: body.action,
    interfaces: [body.interface],
    direction: null,
    ip_version: body.ip_version,
    protocol: body.protocol,
    source_address: body.source_address,
    source_port: body.source_port,
    dest_address: body.dest_address,
    dest_port: body.dest_port,
    description: body.description,
    is_enabled: body.is_enabled,
    log_enabled: body.log_enabled,
    floating: false,
    quick: true,
    icmp_types: null,
    schedule: null,
    unmodelled_options: [],
  };
}

function indexOf<T>(list: readonly T[], found: (item: T) => boolean, what: string, target: string): number {
  const index = list.findIndex(found);
  if (index < 0) throw new PolicyInputError('target', `no ${what} ${JSON.stringify(target)} on the device`);
  return index;
}

/** A NAT entry named by the id live writes take for it (the device's position where the read has none). */
const natId = (target: string) => (rule: LiveNatRuleInput) =>
  rule.write_target !== undefined && rule.write_target !== null
    ? rule.write_target === target
    : rule.vendor_id !== null && String(rule.vendor_id) === target;

/** A port forward from a neutral body: traffic to dest_address:dest_port goes to target_address:target_port. */
function forwardEntry(body: PortForwardBody): LiveNatRuleInput {
  return {
    vendor_id: null,
    interface: body.interface,
    protocol: body.protocol,
    original_address: body.source_address,
    original_port: null,
    destination_address: body.dest_address,
    destination_port: body.dest_port,
    translated_address: body.target_address,
    translated_port: body.target_port,
    description: body.description,
    is_enabled: body.is_enabled,
  };
}

/** An outbound (source NAT) mapping from a neutral body: the source is rewritten to target_address. */
function sourceNatEntry(body: SourceNatBody): LiveNatRuleInput {
  return {
    vendor_id: null,
    interface: body.interface,
    protocol: body.protocol,
    original_address: body.source_address,
    original_port: null,
    destination_address: body.dest_address,
    destination_port: null,
    translated_address: body.target_address,
    translated_port: null,
    description: body.description,
    is_enabled: body.is_enabled,
  };
}

/**
 * The snapshot after `change`. Throws `PolicyInputError` (field `target`) when an update, toggle or delete names
 * an object the snapshot does not hold, and (field `body.name`) when an alias create takes a name in use.
 */
export function applyLiveChange(snapshot: LiveSnapshot, change: LiveChange): LiveSnapshot {
  const rules = [...snapshot.rules];
  const aliases = [...snapshot.aliases];
  const forwards = [...snapshot.nat.port_forwards];
  const mappings = [...snapshot.nat.outbound.mappings];
  const ruleId = (target: string) => (rule: LiveRuleInput) => rule.vendor_rule_id === target;
  const aliasName = (target: string) => (alias: LiveAliasInput) => alias.name === target;
  if (change.op === 'delete') {
    const { target } = change;
    if (change.kind === 'firewall_rule') rules.splice(indexOf(rules, ruleId(target), 'firewall rule', target), 1);
    else if (change.kind === 'alias') aliases.splice(indexOf(aliases, aliasName(target), 'alias', target), 1);
    else if (change.kind === 'port_forward') {
      forwards.splice(indexOf(forwards, natId(target), 'port forward', target), 1);
    }
    else mappings.splice(indexOf(mappings, natId(target), 'outbound NAT mapping', target), 1);
  } else if (change.kind === 'firewall_rule') {
    if (change.op === 'create') rules.push(ruleFromBody(change.body, null));
    else {
      const at = indexOf(rules, ruleId(change.target), 'firewall rule', change.target);
      const current = rules[at] as LiveRuleInput;
      rules[at] =
        change.op === 'toggle'
          ? { ...current, is_enabled: change.body.is_enabled }
          : // An update rewrites the neutral fields; options the body does not carry stay as they were.
            {
              ...ruleFromBody(change.body, current.vendor_rule_id),
              floating: current.floating,
              quick: current.quick,
              direction: current.direction,
              interfaces: current.floating ? current.interfaces : [change.body.interface],
              icmp_types: current.icmp_types,
              schedule: current.schedule,
              unmodelled_options: current.unmodelled_options,
            };
    }
  } else if (change.kind === 'alias') {
    const alias: LiveAliasInput = { ...change.body, entries: [...change.body.entries] };
    if (change.op === 'create') {
      if (aliases.some(aliasName(alias.name))) {
        throw new PolicyInputError('body.name', `alias ${alias.name} already exists on the device`);
      }
      aliases.push(alias);
    } else {
      const target = change.target ?? alias.name;
      aliases[indexOf(aliases, aliasName(target), 'alias', target)] = alias;
    }
  } else if (change.op === 'toggle') {
    const list = change.kind === 'port_forward' ? forwards : mappings;
    const noun = change.kind === 'port_forward' ? 'port forward' : 'outbound NAT mapping';
    const at = indexOf(list, natId(change.target), noun, change.target);
    list[at] = { ...(list[at] as LiveNatRuleInput), is_enabled: change.body.is_enabled };
  } else {
    const forward = change.kind === 'port_forward';
    const list = forward ? forwards : mappings;
    const entry = forward ? forwardEntry(change.body) : sourceNatEntry(change.body);
    if (change.op === 'create') list.push(entry);
    else {
      const at = indexOf(list, natId(change.target), forward ? 'port forward' : 'outbound NAT mapping', change.target);
      list[at] = { ...entry, vendor_id: (list[at] as LiveNatRuleInput).vendor_id, write_target: change.target };
    }
  }
  return {
    rules,
    aliases,
    interfaces: snapshot.interfaces,
    nat: {
      port_forwards: forwards,
      outbound: { mode: snapshot.nat.outbound.mode, mappings },
      one_to_one: snapshot.nat.one_to_one,
    },
  };
}
