/**
 * @module OPNsense `config.xml` → `PolicyConfig` (docs/reference/opnsense-rules.md). Interfaces, groups, virtual IPs,
 * the MVC aliases, the legacy `<filter><rule>` and the MVC `OPNsense/Firewall/Filter` rules are read into the
 * same model as a pfSense backup; `rules` are put in OPNsense's priority order (§2) so the generator keeps it.
 * Aliases whose contents OPNsense resolves at run time become dynamic tables (verdicts `unknown` unless facts
 * supply them); what is not modelled is listed as a warning at once (docs/adr/0146-opnsense-configurations.md).
 */
import { isIpv4, isIpv6 } from '../../net/ip.ts';
import type {
  AliasConfig,
  AliasType,
  InterfaceConfig,
  InterfaceGroupConfig,
  PolicyConfig,
  PolicyWarning,
  RuleConfig,
  RuleEndpoint,
  VirtualIpConfig,
} from '../model.ts';
import { PolicyInputError, policyWarning } from '../warnings.ts';
import { OpnsenseNatImport, opnsenseGatewayInterfaces } from './opnsense-nat.ts';
import {
  child,
  children,
  endpoint,
  entries,
  has,
  ipv4Mode,
  ipv6Mode,
  splitWords,
  text,
  type XmlObject,
} from './xml.ts';

/** OPNsense alias types (Alias.xml) read statically, and the model type each becomes (§4). */
const STATIC_ALIAS_TYPES: Readonly<Record<string, AliasType>> = {
  host: 'host',
  network: 'network',
  networkgroup: 'network',
  port: 'port',
  url: 'url',
  urltable: 'urltable',
};

/** Alias types whose contents OPNsense fills at run time (§4.2): dynamic tables, never guessed. */
const RUNTIME_ALIAS_TYPES = new Set([
  'urljson',
  'geoip',
  'asn',
  'mac',
  'dynipv6host',
  'authgroup',
  'internal',
  'external',
]);

/** Priorities `registerFilterRule` sorts user rules by (§2). */
const PRIORITY_FLOATING = 200_000;
const PRIORITY_GROUP = 300_000;
const PRIORITY_INTERFACE = 400_000;

/** MVC rule fields read into `RuleConfig`, or bookkeeping with no filter effect (Filter.xml). */
const MVC_RULE_KNOWN = new Set([
  'enabled',
  'sequence',
  'sort_order',
  'prio_group',
  'categories',
  'nosync',
  'action',
  'quick',
  'interfacenot',
  'interface',
  'direction',
  'ipprotocol',
  'protocol',
  'icmptype',
  'icmp6type',
  'source_net',
  'source_not',
  'source_port',
  'destination_net',
  'destination_not',
  'destination_port',
  'log',
  'statetype',
  'descr',
  'description',
  'disablereplyto',
  'allowopts',
  'sched',
  'schedule',
  'gateway',
  'tag',
  'tagged',
  'tcpflags1',
  'tcpflags2',
  'tcpflags_any',
]);

/** MVC option names (Filter.xml) whose legacy name the generator knows how to print and report. */
const MVC_TO_LEGACY_OPTION: Readonly<Record<string, string>> = {
  tos: 'dscp',
  prio: 'vlanprio',
  'set-prio': 'vlanprioset',
};

/** Legacy rule fields read into `RuleConfig`, or bookkeeping with no filter effect (GUI ids, timestamps). */
const LEGACY_RULE_KNOWN = new Set([
  'type',
  'interface',
  'floating',
  'quick',
  'direction',
  'ipprotocol',
  'protocol',
  'icmptype',
  'icmp6type',
  'source',
  'destination',
  'descr',
  'disabled',
  'log',
  'statetype',
  'tcpflags_any',
  'tcpflags1',
  'tcpflags2',
  'allowopts',
  'gateway',
  'sched',
  'tag',
  'tagged',
  'tracker',
  'category',
  'created',
  'updated',
  'id',
  'associated-rule-id',
  'nosync',
]);

/** A parsed `<opnsense>` root → `PolicyConfig`. */
export function importOpnsenseDocument(root: XmlObject | string): { config: PolicyConfig; warnings: PolicyWarning[] } {
  if (typeof root !== 'object' || Array.isArray(root)) {
    throw new PolicyInputError('opnsense', 'an empty OPNsense config.xml: the <opnsense> element has no content');
  }
  return new OpnsenseImport(root).run();
}

/** OPNsense booleans are `<x>1</x>`; an empty or `0` value is off (PHP `empty()`). */
function flag(node: XmlObject | undefined, tag: string): boolean {
  const value = text(node, tag);
  return value !== undefined && value !== '' && value !== '0';
}

/**
 * ICMP types as FilterRule.php picks them per family: `icmptype` for inet, `icmp6type` for inet6 (an inet46 rule
 * is written once per family, so it becomes two rules when either list is set); `ipv6-icmp` on an inet6 rule is
 * the model's `icmp` (docs/reference/opnsense-rules.md §2.2).
 */
function withIcmpTypes(rule: RuleConfig, node: XmlObject): RuleConfig[] {
  if (rule.protocol !== 'icmp' && rule.protocol !== 'ipv6-icmp') return [rule];
  const list = (tag: string): string[] | null => {
    const value = text(node, tag);
    return value && value !== 'any' ? value.split(',').map((t) => t.trim()).filter(Boolean) : null;
  };
  const v4 = list('icmptype');
  const v6 = list('icmp6type');
  const family = (ipprotocol: 'inet' | 'inet6'): RuleConfig => ({
    ...rule,
    ipprotocol,
    protocol: ipprotocol === 'inet6' ? 'icmp' : rule.protocol,
    icmptypes: ipprotocol === 'inet' ? v4 : v6,
  });
  if (rule.ipprotocol !== 'inet46') return [family(rule.ipprotocol)];
  return v4 === null && v6 === null ? [rule] : [family('inet'), family('inet6')];
}

/**
 * `__<if>_network` is the internal alias OPNsense fills with an interface's networks (DynamicAliases
 * InterfaceNetworkAliases.php): read as that interface's network, as `lan` is (docs/reference/opnsense-rules.md §4).
 */
function interfaceNetworkAlias(ep: RuleEndpoint, knownNames: Set<string>): RuleEndpoint {
  const key = ep.kind === 'address' ? /^__(.+)_network$/.exec(ep.value ?? '')?.[1] : undefined;
  return key !== undefined && knownNames.has(key) ? { ...ep, kind: 'network' } : ep;
}

/**
 * A legacy `<source>` / `<destination>` as Rule.php `legacyMoveAddressFields` reads it: `<network>`, else
 * `<address>`, else any — also when the element is absent or empty; the value `any` is any too (Rule.php
 * `loadAliasMap`), and `<not/>` has no effect on any
 * (docs/reference/opnsense-rules.md §2.1). pfSense leaves such a rule out instead.
 */
function legacyEndpoint(node: XmlObject | undefined): RuleEndpoint {
  const ep = endpoint(node);
  if (ep.kind === 'any' || ep.value === 'any' || (ep.kind === 'address' && ep.value === '')) {
    return ep.port ? { kind: 'any', not: false, port: ep.port } : { kind: 'any', not: false };
  }
  return ep;
}

class OpnsenseImport {
  private readonly warnings: PolicyWarning[] = [];
  private readonly mvc: XmlObject | undefined;
  private readonly warn = (...args: Parameters<typeof policyWarning>) => this.warnings.push(policyWarning(...args));
  constructor(private readonly root: XmlObject) {
    this.mvc = child(root, 'OPNsense');
  }

  run(): { config: PolicyConfig; warnings: PolicyWarning[] } {
    const virtualInterfaces: string[] = [];
    const interfaces = this.interfaces(virtualInterfaces);
    const groups = this.groups();
    const systemNode = child(this.root, 'system');
    // In this order, so warnings keep the order of the sections.
    const system = this.system();
    const virtualIps = this.virtualIps();
    const aliases = this.aliases();
    const config: PolicyConfig = {
      version: 1,
      system,
      interfaces,
      groups: groups.map(({ group }) => group),
      virtualIps,
      aliases,
      vpn: { openvpn: [], ipsec: false, l2tp: false, pppoeServer: false },
      rules: this.rules(interfaces, groups),
      // pfSense's "NAT REFLECT" pass has no OPNsense counterpart: reflection is rdr rules only (§7.3).
      natReflection: false,
      nat: new OpnsenseNatImport(this.root, this.mvc, interfaces, this.warnings, aliases).run(),
      opnsense: {
        noIpv6Rfc4890: flag(systemNode, 'no_ipv6_rfc4890_req'),
        noPort0Block: flag(systemNode, 'no_port0_block'),
        noSshLockout: flag(systemNode, 'no_sshlockout'),
        noVirusProt: flag(systemNode, 'no_virusprot'),
        virtualInterfaces,
        gatewayInterfaces: opnsenseGatewayInterfaces(this.root, interfaces),
      },
    };
    this.unmodelled();
    return { config, warnings: this.warnings };
  }

  /** filter.lib.inc `filter_core_bootstrap` defaults and `filter_core_get_antilockout` inputs (§3). */
  private system(): PolicyConfig['system'] {
    const system = child(this.root, 'system');
    const webgui = child(system, 'webgui');
    const ssh = child(system, 'ssh');
    const syslog = child(this.root, 'syslog');
    const settings = child(child(this.mvc, 'Interfaces'), 'settings');
    const port = (value: string | undefined, field: string): number | null => {
      if (value === undefined || value === '') return null;
      const n = Number(value);
      if (Number.isInteger(n) && n >= 1 && n <= 65535) return n;
      this.warn('POL042', 'system', `${field} "${value}" is not a valid port; default used`);
      return null;
    };
    return {
      hostname: text(system, 'hostname') ?? '',
      // util.inc is_ipv6_allowed(): IPv6 is on unless OPNsense/Interfaces/settings/disableipv6 is set; a config from
      // before that model is migrated from <system><ipv6allow> (docs/reference/opnsense-rules.md §1).
      ipv6Allow: settings === undefined ? has(system, 'ipv6allow') : !flag(settings, 'disableipv6'),
      webgui: {
        protocol: text(webgui, 'protocol') === 'http' ? 'http' : 'https',
        port: port(text(webgui, 'port'), 'system.webgui.port'),
        noAntiLockout: has(webgui, 'noantilockout'),
        disableHttpRedirect: has(webgui, 'disablehttpredirect'),
      },
      ssh: { enabled: has(ssh, 'enabled'), port: port(text(ssh, 'port'), 'system.ssh.port') },
      disableReplyTo: false,
      noApipaBlock: false,
      logDefaultBlock: !has(syslog, 'nologdefaultblock'),
      // OPNsense logs its default pass rules unless told not to, the reverse of pfSense (§3).
      logDefaultPass: !has(syslog, 'nologdefaultpass'),
      logBogons: !has(syslog, 'nologbogons'),
      logPrivateNets: !has(syslog, 'nologprivatenets'),
    };
  }

  private interfaces(virtual: string[]): InterfaceConfig[] {
    const dhcpd = child(this.root, 'dhcpd');
    const dhcpdv6 = child(this.root, 'dhcpdv6');
    const out: InterfaceConfig[] = [];
    for (const [key, node] of entries(child(this.root, 'interfaces'))) {
      const device = text(node, 'if') ?? '';
      // The loopback entry newer releases write is the engine's own lo0; a group entry is a group (§5).
      if (device === 'lo0' || text(node, 'type') === 'group') continue;
      // config.inc legacy_config_get_interfaces(['virtual' => false]) compares loosely: '0' is not virtual.
      if (flag(node, 'virtual')) virtual.push(key);
      const ipaddr = text(node, 'ipaddr') ?? '';
      const ipaddrv6 = text(node, 'ipaddrv6') ?? '';
      const ipv4: InterfaceConfig['ipv4'] = { mode: ipv4Mode(ipaddr) };
      if (ipv4.mode === 'static') {
        ipv4.address = ipaddr;
        ipv4.prefixLength = this.prefix(text(node, 'subnet'), 32, `interfaces.${key}.subnet`);
      }
      // `idassoc6` (an address from a prefix delegated on another interface, interfaces.inc) is set at run time.
      const ipv6: InterfaceConfig['ipv6'] = { mode: ipaddrv6 === 'idassoc6' ? 'idassoc6' : ipv6Mode(ipaddrv6) };
      if (ipv6.mode === 'static') {
        ipv6.address = ipaddrv6;
        ipv6.prefixLength = this.prefix(text(node, 'subnetv6'), 128, `interfaces.${key}.subnetv6`);
      }
      const track = text(node, 'track6-interface');
      if (ipv6.mode === 'track6' && track !== undefined) ipv6.trackInterface = track;
      for (const [value, mode, field] of [
        [ipaddr, ipv4.mode, 'ipaddr'],
        [ipaddrv6, ipv6.mode, 'ipaddrv6'],
      ] as const) {
        if (value !== '' && value !== 'none' && mode === 'none') {
          this.warn(
            'POL042',
            'interface',
            `interfaces.${key}.${field} "${value}" is not an address or a known type; treated as none`,
            { name: key },
          );
        }
      }
      out.push({
        key,
        device,
        descr: text(node, 'descr') || key.toUpperCase(),
        // legacy_config_get_interfaces(['enable' => true]) tests presence (isset).
        enabled: has(node, 'enable'),
        ipv4,
        ipv6,
        blockPrivate: flag(node, 'blockpriv'),
        blockBogons: flag(node, 'blockbogons'),
        dhcpServer: has(child(dhcpd, key), 'enable'),
        dhcpv6Server: has(child(dhcpdv6, key), 'enable'),
      });
    }
    if (out.length === 0) throw new PolicyInputError('opnsense.interfaces', 'the config defines no interfaces');
    return out;
  }

  /** `<ifgroups><ifgroupentry>` with their `<sequence>`: group rules are ordered by it (§2). */
  private groups(): Array<{ group: InterfaceGroupConfig; sequence: number }> {
    const list = children(child(this.root, 'ifgroups'), 'ifgroupentry').map((entry) => ({
      group: {
        name: text(entry, 'ifname') ?? '',
        members: splitWords(text(entry, 'members')),
        descr: text(entry, 'descr') ?? '',
      },
      sequence: Number(text(entry, 'sequence') || 0) || 0,
    }));
    return list.sort((a, b) => a.sequence - b.sequence);
  }

  private virtualIps(): VirtualIpConfig[] {
    const out: VirtualIpConfig[] = [];
    for (const [index, vip] of children(child(this.root, 'virtualip'), 'vip').entries()) {
      const mode = text(vip, 'mode') ?? '';
      const address = text(vip, 'subnet') ?? '';
      if (!['ipalias', 'carp', 'proxyarp', 'other'].includes(mode) || !(isIpv4(address) || isIpv6(address))) {
        this.warn('POL042', 'vip', `virtualip.vip[${index}] has mode "${mode}" and address "${address}"; left out`);
        continue;
      }
      const max = isIpv4(address) ? 32 : 128;
      out.push({
        mode: mode as VirtualIpConfig['mode'],
        interface: text(vip, 'interface') ?? '',
        address,
        prefixLength: this.prefix(text(vip, 'subnet_bits'), max, `virtualip.vip[${index}].subnet_bits`) ?? max,
        descr: text(vip, 'descr') ?? '',
      });
    }
    return out;
  }

  /** MVC aliases (`OPNsense/Firewall/Alias/aliases/alias`, Alias.xml): content is one entry per line (§4). */
  private aliases(): AliasConfig[] {
    const out: AliasConfig[] = [];
    const list = children(child(child(child(this.mvc, 'Firewall'), 'Alias'), 'aliases'), 'alias');
    for (const node of list) {
      const name = text(node, 'name') ?? '';
      const rawType = text(node, 'type') ?? '';
      const entries = (text(node, 'content') ?? '').split(/\s+/).filter(Boolean);
      const descr = text(node, 'description') ?? '';
      if (text(node, 'enabled') === '0') {
        const why = 'OPNsense loads no table for it and rules using it are left out';
        this.warn('POL040', 'alias', `alias "${name}" is disabled; ${why}`, { name });
        continue;
      }
      const type = STATIC_ALIAS_TYPES[rawType];
      if (type !== undefined) {
        const downloaded = type === 'url' || type === 'urltable';
        out.push(downloaded ? { name, type, entries: [], descr, urls: entries } : { name, type, entries, descr });
        continue;
      }
      if (RUNTIME_ALIAS_TYPES.has(rawType)) {
        const what = `an OPNsense ${rawType} alias; its contents are set at run time and are dynamic`;
        this.warn('POL022', 'alias', `alias "${name}" is ${what}`, { name });
        out.push({ name, type: 'urltable', entries: [], descr, urls: [] });
        continue;
      }
      this.warn('POL026', 'alias', `alias "${name}" has type "${rawType}", unknown; left out`, { name });
    }
    if (children(child(this.root, 'aliases'), 'alias').length > 0) {
      const why = 'OPNsense migrates them into the MVC alias model on upgrade; they are not read';
      this.warn('POL040', 'alias', `legacy <aliases> are present: ${why}`);
    }
    return out;
  }

  /**
   * MVC rules (registered first, by `<sequence>`) then legacy `<filter><rule>` (config order), stably sorted by
   * their priority: floating, groups by group sequence, interfaces (§2).
   */
  private rules(
    interfaces: InterfaceConfig[],
    groups: Array<{ group: InterfaceGroupConfig; sequence: number }>,
  ): RuleConfig[] {
    const groupSequence = new Map(groups.map(({ group, sequence }) => [group.name, sequence]));
    const ranked: Array<{ priority: number; rule: RuleConfig }> = [];
    const priority = (rule: RuleConfig): number => {
      if (rule.floating) return PRIORITY_FLOATING;
      const sequence = groupSequence.get(rule.interface);
      return sequence === undefined ? PRIORITY_INTERFACE : PRIORITY_GROUP + sequence;
    };
    const mvcRules = children(child(child(child(this.mvc, 'Firewall'), 'Filter'), 'rules'), 'rule')
      .map((node, index) => ({ node, index, sequence: Number(text(node, 'sequence') || 0) || 0 }))
      .sort((a, b) => a.sequence - b.sequence || a.index - b.index);
    const knownNames = new Set([...interfaces.map((i) => i.key), ...groupSequence.keys()]);
    for (const { node, index } of mvcRules) {
      for (const rule of this.mvcRule(node, index, knownNames)) ranked.push({ priority: priority(rule), rule });
    }
    for (const [index, node] of children(child(this.root, 'filter'), 'rule').entries()) {
      for (const rule of this.legacyRule(node, index, knownNames)) ranked.push({ priority: priority(rule), rule });
    }
    return ranked.sort((a, b) => a.priority - b.priority).map(({ rule }) => rule);
  }

  /** A legacy rule, read as FilterRule.php reads it: quick unless floating, direction `in` unless set (§2.1). */
  private legacyRule(node: XmlObject, index: number, knownNames: Set<string>): RuleConfig[] {
    if (has(node, 'separator')) return [];
    const where = `filter.rule[${index}]`;
    const descr = text(node, 'descr') ?? '';
    const floating = has(node, 'floating');
    const rawType = text(node, 'type') || 'pass';
    const type = (['pass', 'block', 'reject'] as const).find((t) => t === rawType);
    if (type === undefined) {
      this.warn('POL042', 'rule', `${where} has type "${rawType}"; rule left out`, { configIndex: index, descr });
      return [];
    }
    const quickText = text(node, 'quick');
    const ipprotocol = text(node, 'ipprotocol');
    const rule: RuleConfig = {
      type,
      interface: text(node, 'interface') ?? '',
      floating,
      quick: quickText === undefined ? !floating : quickText !== '' && quickText !== '0',
      direction: this.direction(text(node, 'direction')),
      ipprotocol: ipprotocol === 'inet6' || ipprotocol === 'inet46' ? ipprotocol : 'inet',
      protocol: this.protocol(text(node, 'protocol')),
      icmptypes: null,
      source: interfaceNetworkAlias(legacyEndpoint(child(node, 'source')), knownNames),
      destination: interfaceNetworkAlias(legacyEndpoint(child(node, 'destination')), knownNames),
      descr,
      // FilterRule.php tests these with empty() (parseIsComment, parseBool): `<disabled>0</disabled>` is enabled.
      disabled: flag(node, 'disabled'),
      log: flag(node, 'log'),
      statetype: text(node, 'statetype') || null,
      tcpflagsAny: flag(node, 'tcpflags_any'),
      allowopts: flag(node, 'allowopts'),
    };
    for (const tag of ['gateway', 'sched', 'tag', 'tagged', 'tcpflags1', 'tcpflags2'] as const) {
      const value = text(node, tag);
      if (value) rule[tag] = value;
    }
    // Everything else is kept for printing and reported by the generator, never dropped silently.
    const extra: Record<string, string> = {};
    for (const tag of Object.keys(node)) {
      if (!LEGACY_RULE_KNOWN.has(tag)) extra[tag] = text(node, tag) ?? '';
    }
    if (Object.keys(extra).length > 0) rule.extra = extra;
    return withIcmpTypes(rule, node);
  }

  /**
   * An MVC rule (Filter.xml): one interface = its tab, several = floating (FilterRuleField::getPriority). Lists of
   * source or destination networks become one rule per pair, as Rule.php `reader` expands them (§2.2).
   */
  private mvcRule(node: XmlObject, index: number, knownNames: Set<string>): RuleConfig[] {
    const where = `OPNsense.Firewall.Filter.rules.rule[${index}]`;
    const descr = text(node, 'description') ?? text(node, 'descr') ?? '';
    const ref = { configIndex: index, descr };
    const interfaces = (text(node, 'interface') ?? '').split(',').filter(Boolean);
    if (flag(node, 'interfacenot')) {
      this.warn('POL042', 'rule', `${where} ("${descr}") inverts its interfaces; not modelled, rule left out`, ref);
      return [];
    }
    const unknown = interfaces.filter((name) => !knownNames.has(name));
    if (unknown.length > 0 && unknown.length === interfaces.length) {
      // FilterRuleField::getPriority puts such rules at 600000 and pf never applies them.
      const missing = unknown.join(', ');
      this.warn('POL002', 'rule', `${where} ("${descr}") names no existing interface (${missing}); rule left out`, ref);
      return [];
    }
    const action = text(node, 'action') || 'pass';
    const type = (['pass', 'block', 'reject'] as const).find((t) => t === action);
    if (type === undefined) {
      this.warn('POL042', 'rule', `${where} has action "${action}"; rule left out`, ref);
      return [];
    }
    const ipprotocol = text(node, 'ipprotocol');
    const statetype = text(node, 'statetype') || 'keep';
    const extra: Record<string, string> = {};
    for (const tag of Object.keys(node)) {
      const value = text(node, tag) ?? '';
      // Matching options pf has but the engine does not model keep the legacy names the generator prints and reports.
      if (!MVC_RULE_KNOWN.has(tag) && value !== '' && value !== '0') extra[MVC_TO_LEGACY_OPTION[tag] ?? tag] = value;
    }
    const base: Omit<RuleConfig, 'source' | 'destination'> = {
      type,
      interface: interfaces.join(','),
      floating: interfaces.length !== 1,
      quick: text(node, 'quick') === undefined || flag(node, 'quick'),
      direction: this.direction(text(node, 'direction')),
      ipprotocol: ipprotocol === 'inet6' || ipprotocol === 'inet46' ? ipprotocol : 'inet',
      protocol: this.protocol(text(node, 'protocol')),
      icmptypes: null,
      descr,
      disabled: text(node, 'enabled') === '0',
      log: flag(node, 'log'),
      statetype: statetype === 'none' ? 'none' : `${statetype} state`,
      tcpflagsAny: flag(node, 'tcpflags_any'),
      allowopts: flag(node, 'allowopts'),
    };
    for (const [tag, key] of [
      ['gateway', 'gateway'],
      ['sched', 'sched'],
      ['schedule', 'sched'],
      ['tag', 'tag'],
      ['tagged', 'tagged'],
      ['tcpflags1', 'tcpflags1'],
      ['tcpflags2', 'tcpflags2'],
    ] as const) {
      const value = text(node, tag);
      if (value) base[key] = value;
    }
    if (Object.keys(extra).length > 0) base.extra = extra;
    const rules: RuleConfig[] = [];
    for (const source of this.mvcEndpoints(node, 'source', knownNames)) {
      for (const destination of this.mvcEndpoints(node, 'destination', knownNames)) {
        rules.push(...withIcmpTypes({ ...base, source, destination }, node));
      }
    }
    return rules;
  }

  /**
   * `source_net` / `destination_net`: `any`, an interface (`lan`, `lanip`), `(self)`, an address or an alias; a
   * comma list gives one endpoint per item, each with the side's `not` and port.
   */
  private mvcEndpoints(node: XmlObject, side: 'source' | 'destination', knownNames: Set<string>): RuleEndpoint[] {
    const not = flag(node, `${side}_not`);
    const port = text(node, `${side}_port`);
    const withPort = (ep: RuleEndpoint): RuleEndpoint => (port ? { ...ep, port } : ep);
    const nets = (text(node, `${side}_net`) || 'any').split(',').map((net) => net.trim()).filter(Boolean);
    return (nets.length > 0 ? nets : ['any']).map((net) => {
      if (net === 'any') return withPort({ kind: 'any', not });
      const base = net.endsWith('ip') ? net.slice(0, -2) : net;
      const isNetwork = net === '(self)' || knownNames.has(net) || knownNames.has(base);
      if (isNetwork) return withPort({ kind: 'network', value: net, not });
      return interfaceNetworkAlias(withPort({ kind: 'address', value: net, not }), knownNames);
    });
  }

  /** `parseReplaceSimple,:in|any:`: empty means `in`, `any` means both directions (FilterRule.php §2.1). */
  private direction(value: string | undefined): RuleConfig['direction'] {
    return value === 'out' ? 'out' : value === 'any' ? 'any' : 'in';
  }

  private protocol(value: string | undefined): string | null {
    const lower = value?.toLowerCase();
    return lower && lower !== 'any' ? lower : null;
  }

  private prefix(value: string | undefined, max: number, field: string): number | undefined {
    const n = Number(value);
    if (value !== undefined && value !== '' && Number.isInteger(n) && n >= 0 && n <= max) return n;
    this.warn('POL042', 'interface', `${field} "${value ?? ''}" is not a prefix length 0-${max}`);
    return undefined;
  }

  /** Everything that adds or changes rules OPNsense-side and is not modelled, listed at once (§6). */
  private unmodelled(): void {
    const present = (node: XmlObject | undefined) => node !== undefined && Object.keys(node).length > 0;
    const sections: Array<[XmlObject | undefined, string]> = [
      [child(this.root, 'openvpn'), 'OpenVPN (its interface group and rules)'],
      [child(this.root, 'ipsec'), 'IPsec (enc0 and its automatic rules)'],
      [child(child(this.mvc, 'IPsec'), 'general'), 'IPsec (enc0 and its automatic rules)'],
      [child(this.mvc, 'captiveportal'), 'captive portal rules'],
      [child(this.mvc, 'wireguard'), 'WireGuard (its interface group)'],
      [child(this.root, 'staticroutes'), 'static routes (the bypass rules when enabled)'],
      [child(this.mvc, 'Kea'), 'Kea DHCP server rules'],
      [child(this.mvc, 'dnsmasq'), 'dnsmasq DHCP rules'],
    ];
    const seen = new Set<string>();
    for (const [node, what] of sections) {
      if (!present(node) || seen.has(what)) continue;
      seen.add(what);
      this.warn('POL040', 'config', `${what}: present but not modelled for OPNsense`);
    }
    if (children(child(this.root, 'schedules'), 'schedule').length > 0) {
      const why = 'whether a scheduled rule is active depends on the time of day';
      this.warn('POL040', 'config', `schedules are present: ${why}`);
    }
    const left = 'reply-to and the force-gateway rules (no verdict effect), scrub, shaping and plugin rules';
    this.warn('POL040', 'config', `OPNsense: ${left} are not generated`);
  }
}
