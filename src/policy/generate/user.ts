/**
 * @module User rules → pf rules (filter.inc `filter_generate_user_rule`, l.3247-3718; tiers from
 * `filter_rules_generate`, l.4256-4317). Tab rules are `in quick`; floating rules keep their direction and are
 * quick only when ticked; inet46 becomes two rules; floating, then group and VPN tabs, then interface tabs, config
 * order inside each tier (docs/adr/0030, 0031, 0032). A rule pfSense would leave out becomes a note and a warning.
 */
import { cidrContains, formatCidr, parseCidr, parseIp } from '../../net/ip.ts';
import {
  type AddressFamily,
  type AddressSpec,
  type InterfaceSpec,
  type PolicyConfig,
  type PolicyWarning,
  type PortSpec,
  type RuleConfig,
  type RuleEndpoint,
  type RuleOrigin,
  type StateType,
  type TcpFlags,
  VPN_TAB_KEYS,
} from '../model.ts';
import { policyWarning } from '../warnings.ts';
import type { AliasResolution } from './aliases.ts';
import { parsePortEntry } from './aliases.ts';
import type { FilterIf, InterfaceModel } from './interfaces.ts';
import { ANY, cidrs, type DraftRule, draftRule, implicitFlags, table } from './rule.ts';
import { fixRuleLabel } from './system.ts';

/** A generated rule or a comment line, in output order. */
type UserItem = { rule: DraftRule } | { note: string };

const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'tcp/udp']);
/** OPNsense's built-in run-time tables a rule may name (docs/reference/opnsense-rules.md §4.4). */
export const OPNSENSE_BUILTIN_TABLES = ['bogons', 'bogonsv6', 'sshlockout', 'virusprot'] as const;
const IPV6_LINK_LOCAL = 'fe80::/10';
/** `RuleConfig.extra` tags this translator turns into pf text. */
const HANDLED_EXTRA_TAGS = new Set([
  'os',
  'dscp',
  'vlanprio',
  'vlanprioset',
  'defaultqueue',
  'ackqueue',
  'dnpipe',
  'pdnpipe',
  'disablereplyto',
  'nopfsync',
  'source-track',
  'max',
  'max-src-nodes',
  'max-src-conn',
  'max-src-states',
  'statetimeout',
  'max-src-conn-rate',
  'max-src-conn-rates',
]);
const TCP_FLAG_LETTERS: Record<string, string> = {
  fin: 'F',
  syn: 'S',
  rst: 'R',
  psh: 'P',
  ack: 'A',
  urg: 'U',
  ece: 'E',
  cwr: 'W',
};

/** Why a rule is left out: a warning code, and the comment pfSense writes in its place. */
class Skip {
  constructor(
    readonly code: 'POL002' | 'POL003' | 'POL004' | 'POL005' | 'POL006',
    readonly comment: string,
  ) {}
}

/** Generates all user rules in tier order. */
export function generateUserRules(
  config: PolicyConfig,
  ifs: InterfaceModel,
  aliases: AliasResolution,
  warnings: PolicyWarning[],
): UserItem[] {
  const groupNames = new Set(config.groups.map((group) => group.name));
  const tiers: UserItem[][] = [[], [], []];
  const positions = new Map<string, number>();
  const translator = new UserRuleTranslator(config, ifs, aliases, warnings);
  for (const [configIndex, rule] of config.rules.entries()) {
    const tab = rule.floating ? 'floating' : rule.interface;
    const position = (positions.get(tab) ?? 0) + 1;
    positions.set(tab, position);
    const ref = { tab, position, configIndex, descr: rule.descr };
    if (rule.disabled) {
      warnings.push(
        policyWarning('POL001', 'rule', `rule "${rule.descr}" (${tab} #${position}) is disabled`, ref),
      );
      continue;
    }
    const tier = rule.floating
      ? 0
      : groupNames.has(rule.interface) || (VPN_TAB_KEYS as readonly string[]).includes(rule.interface)
        ? 1
        : 2;
    const families: AddressFamily[] = rule.ipprotocol === 'inet46' ? ['inet', 'inet6'] : [rule.ipprotocol];
    for (const af of families) {
      const origin: RuleOrigin = { kind: 'user', tab, position, descr: rule.descr, configIndex };
      if (rule.ipprotocol === 'inet46') origin.splitFamily = af;
      const result = translator.translate(rule, af, origin);
      if (result instanceof Skip) {
        const half = rule.ipprotocol === 'inet46' ? ` (${af} half)` : '';
        warnings.push(
          policyWarning(
            result.code,
            'rule',
            `rule "${rule.descr}" (${tab} #${position})${half}: ${result.comment}`,
            ref,
          ),
        );
        tiers[tier]?.push({ note: result.comment });
      } else {
        for (const draft of result) tiers[tier]?.push({ rule: draft });
      }
    }
  }
  return tiers.flat();
}

class UserRuleTranslator {
  constructor(
    private readonly config: PolicyConfig,
    private readonly ifs: InterfaceModel,
    private readonly aliases: AliasResolution,
    private readonly warnings: PolicyWarning[],
  ) {}

  translate(rule: RuleConfig, af: AddressFamily, origin: RuleOrigin): DraftRule[] | Skip {
    const ref = {
      tab: origin.tab,
      position: origin.position,
      configIndex: origin.configIndex ?? 0,
      descr: rule.descr,
    };
    const on = this.interfaces(rule);
    if (on instanceof Skip) return on;
    for (const [side, endpoint] of [
      ['source', rule.source],
      ['destination', rule.destination],
    ] as const) {
      if (endpoint.kind === 'address' && endpoint.value && !this.aliasExpands(endpoint.value)) {
        return new Skip('POL004', `Unresolvable ${side} alias '${endpoint.value}' for rule '${rule.descr}'`);
      }
    }
    const protocol = rule.protocol ?? '';
    for (const [side, endpoint] of [
      ['source', rule.source],
      ['destination', rule.destination],
    ] as const) {
      const port = endpoint.port;
      if (port && PORT_PROTOCOLS.has(protocol) && parsePortEntry(port) === null) {
        const alias = this.aliases.ports.get(port);
        if (alias === undefined)
          return new Skip('POL005', `Unresolvable ${side} port alias '${port}' for rule '${rule.descr}'`);
        if (alias.ranges.length === 0 && !alias.dynamic)
          return new Skip('POL005', `Empty ${side} port alias '${port}' for rule '${rule.descr}'`);
      }
    }
    const action = rule.type;
    const floating = rule.floating;
    // OPNsense honours direction and quick on every rule, not only floating ones (docs/reference/opnsense-rules.md §2.1).
    const ownFlags = floating || this.config.opnsense !== undefined;
    const direction = ownFlags ? rule.direction : 'in';
    const protocols = ruleProtocols(protocol, af, rule);
    const sources = this.address(rule.source, rule, af);
    if (sources instanceof Skip) return sources;
    const destinations = this.address(rule.destination, rule, af);
    if (destinations instanceof Skip) return destinations;
    const icmpTypes =
      protocol === 'icmp' && rule.icmptypes !== null && rule.icmptypes.length > 0 ? rule.icmptypes : null;
    const state: StateType | null = action === 'pass' ? stateType(rule, this.warnings, ref) : null;
    const explicitFlags = protocol === 'tcp' ? tcpFlags(rule) : undefined;
    const tcpFlagsEffective: TcpFlags | null =
      explicitFlags !== undefined ? explicitFlags : implicitFlags(action, state, protocols);
    const extraLabels: string[] = [];
    if (rule.tracker) extraLabels.push(`id:${rule.tracker}`);
    const fields: Partial<DraftRule> = {};
    const routing = this.routing(rule, af, direction, extraLabels, ref);
    if (routing) fields.routing = routing;
    if (rule.tag) fields.tag = rule.tag;
    if (rule.tagged) fields.tagged = { tag: rule.tagged, negate: rule.nottagged === true };
    if (rule.tag || rule.tagged) {
      this.warnings.push(
        policyWarning(
          'POL010',
          'rule',
          `rule "${rule.descr}" uses tag/tagged; tags set by NAT or other rules are not tracked`,
          ref,
        ),
      );
    }
    if (rule.sched) {
      fields.schedule = rule.sched;
      this.warnings.push(
        policyWarning(
          'POL007',
          'rule',
          `rule "${rule.descr}" is scheduled ("${rule.sched}"); it is in the ruleset only while the schedule is active`,
          ref,
        ),
      );
    }
    const options = this.options(rule, action, protocol, ref);
    if (options.stateOptions) fields.stateOptions = options.stateOptions;
    if (options.unmodelled.length > 0) fields.unmodelledOptions = options.unmodelled;
    if (this.tableIsDynamic(sources) || this.tableIsDynamic(destinations)) {
      this.warnings.push(
        policyWarning(
          'POL012',
          'rule',
          `rule "${rule.descr}" uses a dynamic alias or address; verdicts that depend on it are unknown`,
          ref,
        ),
      );
    }
    const label = rule.descr ? fixRuleLabel(`USER_RULE: ${rule.descr}`) : 'USER_RULE';
    const out: DraftRule[] = [];
    for (const from of sources) {
      for (const to of destinations) {
        out.push(
          draftRule({
            action,
            direction,
            quick: ownFlags ? rule.quick : true,
            log: rule.log,
            on,
            af,
            protocols,
            from,
            fromPort: this.port(rule.source, protocol),
            to,
            toPort: this.port(rule.destination, protocol),
            icmpTypes,
            tcpFlags: tcpFlagsEffective,
            state,
            allowOpts: action === 'pass' && rule.allowopts,
            label,
            extraLabels,
            tracker: rule.tracker ?? null,
            ridentifier: rule.tracker ?? null,
            origin,
            ...fields,
          }),
        );
      }
    }
    return out;
  }

  private interfaces(rule: RuleConfig): InterfaceSpec | null | Skip {
    if (rule.floating) {
      if (rule.interface === '' || rule.interface === 'any') return null;
      const leaves = new Set<string>();
      for (const key of rule.interface.split(',')) {
        for (const leaf of this.ifs.byKey.get(key.trim())?.leaves ?? []) leaves.add(leaf);
      }
      if (leaves.size === 0) return new Skip('POL003', `rule ${rule.descr} has no enabled interfaces`);
      return { interfaces: [...leaves], negate: false };
    }
    // OPNsense writes a legacy rule with a comma list once per interface (Rule.php `reader`), leaving out the ones
    // that do not exist (docs/reference/opnsense-rules.md §2.2); pf's verdicts are those of one rule on all of them.
    if (this.config.opnsense !== undefined && rule.interface.includes(',')) {
      const leaves = new Set<string>();
      for (const key of rule.interface.split(',')) {
        for (const leaf of this.ifs.byKey.get(key.trim())?.leaves ?? []) leaves.add(leaf);
      }
      if (leaves.size === 0) return new Skip('POL002', `none of the interfaces "${rule.interface}" exists for "${rule.descr}"`);
      return { interfaces: [...leaves], negate: false };
    }
    const entry = this.ifs.byKey.get(rule.interface);
    if (entry === undefined) {
      return new Skip('POL002', `array key "${rule.interface}" does not exist for "${rule.descr}"`);
    }
    return entry.kind === 'interface'
      ? { interfaces: entry.leaves, negate: false }
      : { interfaces: entry.leaves, negate: false, group: entry.key };
  }

  /** util.inc `alias_expand`: an existing alias, or a literal address, network, port or range. */
  private aliasExpands(name: string): boolean {
    if (this.aliases.tables.has(name) || this.aliases.ports.has(name)) return true;
    if (this.config.opnsense !== undefined && (OPNSENSE_BUILTIN_TABLES as readonly string[]).includes(name)) return true;
    return parseCidr(name) !== null || parsePortEntry(name) !== null || name.startsWith('::');
  }

  private tableIsDynamic(specs: AddressSpec[]): boolean {
    return specs.some(
      (spec) =>
        spec.match.kind === 'table' &&
        (this.aliases.tables.get(spec.match.table)?.dynamic === true || this.builtinTable(spec.match.table)),
    );
  }

  /**
   * OPNsense's bogons tables named by a rule (`static_aliases/core.json`, docs/reference/opnsense-rules.md §4.4):
   * downloaded at run time, so `unknown` unless the model gives `system.bogons` or facts give their contents;
   * `generateRuleset` declares them. The lockout tables are read as empty (POL047, docs/adr/0235).
   */
  private builtinTable(name: string): boolean {
    if (this.config.opnsense === undefined) return false;
    if (name === 'bogons') return this.config.system.bogons?.ipv4 === undefined;
    if (name === 'bogonsv6') return this.config.system.bogons?.ipv6 === undefined;
    return false;
  }

  /**
   * filter.inc `filter_generate_address` for one side; several specs only for a negated list, which pf expands
   * into one rule per element (`{ !a !b }` = not a OR not b, docs/reference/pf-semantics.md §2.3).
   */
  private address(endpoint: RuleEndpoint, rule: RuleConfig, af: AddressFamily): AddressSpec[] | Skip {
    const side = endpoint === rule.source ? 'source' : 'destination';
    const empty = new Skip('POL006', `${side} address is empty.`);
    const negate = endpoint.not;
    if (endpoint.kind === 'any') return [ANY];
    const value = endpoint.value ?? '';
    if (endpoint.kind === 'address') {
      if (value === '') return empty;
      if (value.startsWith('::')) {
        return new Skip(
          'POL006',
          `${side} '${value}' is a static IPv6 host part merged with a delegated prefix at run time; not modelled`,
        );
      }
      const alias = this.aliases.tables.get(value);
      if (alias !== undefined) return [table(value, negate)];
      if (this.config.opnsense !== undefined && (OPNSENSE_BUILTIN_TABLES as readonly string[]).includes(value)) {
        if (value === 'sshlockout' || value === 'virusprot') {
          this.warnings.push(
            policyWarning(
              'POL047',
              'rule',
              `rule "${rule.descr}" names the lockout table <${value}>; it is read as empty, as the automatic lockout rules read it, unless facts give its contents`,
              { tab: rule.floating ? 'floating' : rule.interface, descr: rule.descr },
            ),
          );
        }
        return [table(value, negate)];
      }
      if (this.aliases.ports.has(value))
        return new Skip('POL004', `${side} '${value}' is a port alias used as an address`);
      const cidr = parseCidr(value);
      if (cidr === null)
        return new Skip('POL004', `Unresolvable ${side} alias '${value}' for rule '${rule.descr}'`);
      if ((cidr.family === 4) !== (af === 'inet')) {
        return new Skip(
          'POL006',
          `${side} ${value} is not an ${af === 'inet' ? 'IPv4' : 'IPv6'} address; pfctl would reject the rule`,
        );
      }
      return [cidrs([formatCidr(cidr)], negate)];
    }
    return this.network(value, af, negate) ?? empty;
  }

  /** `<network>` values; null when pfSense finds no address for them (the rule is skipped). */
  private network(value: string, af: AddressFamily, negate: boolean): AddressSpec[] | null {
    if (this.config.opnsense !== undefined) return this.opnsenseNetwork(value, af, negate);
    const macro = (key: string): AddressSpec[] => [table(`${key.toUpperCase()}__NETWORK`, negate)];
    if (this.config.groups.some((group) => group.name === value)) return macro(value);
    if (value === '(self)') return [{ match: { kind: 'self' }, negate }];
    const ipMatch = /^(.+?)ip$/.exec(value);
    const key = ipMatch?.[1] ?? value;
    const entry = this.ifs.byKey.get(key);
    const isOpt = value.includes('opt');
    if (!isOpt && !['wan', 'lan', 'wanip', 'lanip', 'pppoe'].includes(value)) return null;
    if (key === 'pppoe') {
      if (entry === undefined) return null;
      return af === 'inet'
        ? macro('pppoe')
        : [{ match: { kind: 'interface-network', interface: 'pppoe' }, negate }];
    }
    if (entry === undefined || entry.kind !== 'interface') return null;
    const family = af === 'inet' ? entry.ipv4 : entry.ipv6;
    if (family === null) return null;
    if (ipMatch !== null) {
      return family === 'dynamic'
        ? [{ match: { kind: 'interface-address', interface: key }, negate }]
        : [cidrs([family.address], negate)];
    }
    // IPv4, and IPv6 on optN: the `$KEY__NETWORK` table. IPv6 on wan/lan: the literal subnet plus IPv6 VIP subnets.
    if (af === 'inet' || isOpt) return macro(key);
    if (family === 'dynamic') return [{ match: { kind: 'interface-network', interface: key }, negate }];
    return ipv6Subnets(entry, family.network, negate);
  }

  /**
   * OPNsense's `Rule::loadAliasMap` (docs/reference/opnsense-rules.md §2.3): an interface key is pf's
   * `(<if>:network)`, with `fe80::/10` added (never negated) on inet6 filter rules; `<key>ip` for wan, lan and optN is
   * `(<if>)`; `__<key>_network` is the internal table holding that interface's networks, without the link-local
   * addition. pf resolves these at run time, so an interface without an address of the family matches nothing
   * (but link-local) instead of the rule being left out as pfSense does. Null: no such name (the rule is disabled).
   */
  private opnsenseNetwork(value: string, af: AddressFamily, negate: boolean): AddressSpec[] | null {
    if (value === '(self)') return [{ match: { kind: 'self' }, negate }];
    if (this.config.groups.some((group) => group.name === value)) {
      return [table(`${value.toUpperCase()}__NETWORK`, negate)];
    }
    const internal = /^__(.+)_network$/.exec(value)?.[1];
    const address = internal === undefined ? /^(wan|lan|opt\d+)ip$/.exec(value)?.[1] : undefined;
    const key = internal ?? address ?? value;
    const entry = this.ifs.byKey.get(key);
    if (entry === undefined || entry.kind !== 'interface') return null;
    if (address !== undefined) return [{ match: { kind: 'interface-address', interface: key }, negate }];
    const network: AddressSpec = { match: { kind: 'interface-network', interface: key }, negate };
    return af === 'inet6' && internal === undefined ? [network, cidrs([IPV6_LINK_LOCAL])] : [network];
  }

  private port(endpoint: RuleEndpoint, protocol: string): PortSpec | null {
    const text = endpoint.port;
    if (!text || !PORT_PROTOCOLS.has(protocol)) return null;
    const alias = this.aliases.ports.get(text);
    if (alias !== undefined) return alias;
    const range = parsePortEntry(text);
    if (range === null || (range.from === 1 && range.to === 65535)) return null;
    return { ranges: [range] };
  }

  /** reply-to for tab rules on an interface with a gateway; route-to for pass rules with a gateway. */
  private routing(
    rule: RuleConfig,
    af: AddressFamily,
    direction: string,
    extraLabels: string[],
    ref: PolicyWarning['ref'],
  ): string | undefined {
    if (rule.gateway) {
      if (rule.type !== 'pass') return undefined;
      extraLabels.push(`gw:${rule.gateway}`);
      this.warnings.push(
        policyWarning(
          'POL008',
          'rule',
          `rule "${rule.descr}" policy-routes via gateway ${rule.gateway}; routing (and the NEGATE_ROUTE rule for VPN networks) is not modelled`,
          ref,
        ),
      );
      return `$GW${rule.gateway}`;
    }
    const entry = this.ifs.byKey.get(rule.interface);
    const iface = entry?.config;
    const disabled = this.config.system.disableReplyTo || rule.extra?.disablereplyto !== undefined;
    if (direction === 'any' || iface === undefined || disabled || rule.type === 'match') return undefined;
    const gateway = af === 'inet' ? iface.ipv4.gateway : iface.ipv6.gateway;
    return gateway === undefined ? undefined : `reply-to ( ${iface.device} ${gateway} )`;
  }

  /** State options and the options printed verbatim but not modelled (filter.inc l.3466-3640). */
  private options(
    rule: RuleConfig,
    action: string,
    protocol: string,
    ref: PolicyWarning['ref'],
  ): { stateOptions?: string; unmodelled: string[] } {
    const extra = rule.extra ?? {};
    const unmodelled: string[] = [];
    if (extra.os && protocol === 'tcp') unmodelled.push(`os "${extra.os}"`);
    if (extra.dscp) unmodelled.push(`tos ${extra.dscp}`);
    if (extra.vlanprio && extra.vlanprio !== 'none') unmodelled.push(`prio ${extra.vlanprio}`);
    if (extra.vlanprioset && extra.vlanprioset !== 'none') unmodelled.push(`set prio ${extra.vlanprioset}`);
    if (extra.defaultqueue)
      unmodelled.push(`queue (${extra.defaultqueue}${extra.ackqueue ? `,${extra.ackqueue}` : ''})`);
    if (extra.dnpipe)
      unmodelled.push(`dnpipe ( ${extra.dnpipe}${extra.pdnpipe ? `,${extra.pdnpipe}` : ''} )`);
    const stateParts: string[] = [];
    if (action === 'pass' && rule.statetype !== 'none') {
      const tcpish = protocol === 'tcp' || protocol === 'tcp/udp';
      if (rule.statetype === 'sloppy state') stateParts.push('sloppy');
      if (extra.nopfsync !== undefined) stateParts.push('no-sync');
      if (extra['source-track']) stateParts.push('source-track rule');
      if (extra.max) stateParts.push(`max ${extra.max}`);
      if (extra['max-src-nodes']) stateParts.push(`max-src-nodes ${extra['max-src-nodes']}`);
      if (tcpish && extra['max-src-conn']) stateParts.push(`max-src-conn ${extra['max-src-conn']}`);
      if (extra['max-src-states']) stateParts.push(`max-src-states ${extra['max-src-states']}`);
      if (extra.statetimeout) stateParts.push(`tcp.established ${extra.statetimeout}`);
      if (tcpish && extra['max-src-conn-rate'] && extra['max-src-conn-rates']) {
        stateParts.push(
          `max-src-conn-rate ${extra['max-src-conn-rate']} /${extra['max-src-conn-rates']}, overload <virusprot> flush global`,
        );
      }
    }
    if (unmodelled.length > 0) {
      this.warnings.push(
        policyWarning(
          'POL008',
          'rule',
          `rule "${rule.descr}" has ${unmodelled.join(', ')}; matching ignores ${unmodelled.length === 1 ? 'it' : 'them'}`,
          ref,
        ),
      );
    }
    const unknown = Object.keys(extra).filter((tag) => !HANDLED_EXTRA_TAGS.has(tag));
    if (unknown.length > 0) {
      this.warnings.push(
        policyWarning(
          'POL008',
          'rule',
          `rule "${rule.descr}" has elements the engine does not know: ${unknown.map((t) => `<${t}>`).join(', ')}; ignored`,
          ref,
        ),
      );
    }
    return stateParts.length > 0 ? { stateOptions: stateParts.join(' '), unmodelled } : { unmodelled };
  }
}

/** `proto` clause (filter.inc l.3410-3425). */
function ruleProtocols(protocol: string, af: AddressFamily, rule: RuleConfig): string[] | null {
  if (protocol === 'tcp/udp') return ['tcp', 'udp'];
  if (protocol === 'icmp') return [af === 'inet6' ? 'ipv6-icmp' : 'icmp'];
  if (protocol === 'any') return null;
  if (protocol === '') return rule.source.port || rule.destination.port ? ['tcp'] : null;
  return [protocol];
}

/** Explicit `flags` of a rule whose protocol is exactly tcp (filter.inc l.3491-3523); null = `flags any`. */
function tcpFlags(rule: RuleConfig): TcpFlags | null {
  if (rule.tcpflagsAny) return null;
  if (rule.tcpflags2) {
    const letters = (list: string | undefined) =>
      (list ?? '')
        .split(',')
        .filter(Boolean)
        .map((name) => TCP_FLAG_LETTERS[name.trim().toLowerCase()] ?? name.trim()[0]?.toUpperCase() ?? '')
        .join('');
    return { set: letters(rule.tcpflags1), outOf: letters(rule.tcpflags2), implicit: false };
  }
  return { set: 'S', outOf: 'SA', implicit: false };
}

/** `<statetype>` of a pass rule (filter.inc l.3535-3560); modulate/synproxy only apply to tcp. */
function stateType(rule: RuleConfig, warnings: PolicyWarning[], ref: PolicyWarning['ref']): StateType {
  switch (rule.statetype ?? '') {
    case '':
    case 'keep state':
      return 'keep';
    case 'none':
      return 'none';
    case 'sloppy state':
      return 'sloppy';
    case 'modulate state':
      return rule.protocol === 'tcp' ? 'modulate' : 'keep';
    case 'synproxy state':
      return rule.protocol === 'tcp' ? 'synproxy' : 'keep';
    default:
      warnings.push(
        policyWarning(
          'POL042',
          'rule',
          `rule "${rule.descr}" has state type "${rule.statetype}"; treated as keep state`,
          ref,
        ),
      );
      return 'keep';
  }
}

/** IPv6 wan/lan networks: the subnet plus the interface's IPv6 VIP subnets (filter_address_add_vips_subnets). */
function ipv6Subnets(entry: FilterIf, network: string, negate: boolean): AddressSpec[] {
  const list = [network];
  const own = parseCidr(network);
  for (const vip of entry.vips) {
    const address = parseIp(vip.address);
    const cidr = parseCidr(`${vip.address}/${vip.prefixLength}`);
    if (address?.family !== 6 || cidr === null || (own !== null && cidrContains(own, address))) continue;
    const text = formatCidr(cidr);
    if (!list.includes(text)) list.push(text);
  }
  return negate ? list.map((cidr) => cidrs([cidr], true)) : [cidrs(list)];
}
