/**
 * @module pfSense `config.xml` (a Diagnostics > Backup file) → `PolicyConfig`. Reads only the filter-relevant
 * parts (docs/reference/pf-semantics.md §1.6); sections that change the ruleset but are not modelled are reported (POL040).
 * Boolean tags are booleans by presence, as pfSense's `isset()` reads them (docs/adr/0031).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { isIp, isIpv4, isIpv6 } from '../../net/ip.ts';
import type {
  AliasConfig,
  AliasType,
  InterfaceConfig,
  InterfaceGroupConfig,
  IpsecPeerConfig,
  NatConfig,
  NatReflectionMode,
  OneToOneConfig,
  OutboundNatConfig,
  PortForwardConfig,
  Ipv4Mode,
  Ipv6Mode,
  PolicyConfig,
  PolicyWarning,
  RuleConfig,
  RuleEndpoint,
  RuleType,
  VirtualIpConfig,
  VpnConfig,
} from '../model.ts';
import { PolicyInputError, policyWarning } from '../warnings.ts';

/** An XML element as fast-xml-parser gives it: text, or an object of child elements. */
export type XmlNode = string | XmlObject;
export interface XmlObject {
  [tag: string]: XmlNode | XmlNode[] | undefined;
}

/**
 * Elements that may repeat, by tag name; kept as arrays even when there is one. Names are unambiguous in a pfSense
 * backup (`rule` repeats under `<filter>` and `<nat>` alike), so no path matching is needed (it is the parser's
 * slowest option on large alias tables).
 */
const REPEATED = new Set([
  'rule',
  'alias',
  'ifgroupentry',
  'vip',
  'openvpn-server',
  'openvpn-client',
  'phase1',
  'phase2',
  'pppoe',
  'gateway_item',
  'schedule',
  'aliasurl',
  'onetoone',
]);

const ALIAS_TYPES: readonly AliasType[] = [
  'host',
  'network',
  'port',
  'url',
  'url_ports',
  'urltable',
  'urltable_ports',
];

/** Rule options kept verbatim in `RuleConfig.extra` (printed as pfSense would, not modelled for verdicts). */
const RULE_EXTRA_TAGS = [
  'os',
  'max',
  'max-src-nodes',
  'max-src-conn',
  'max-src-states',
  'max-src-conn-rate',
  'max-src-conn-rates',
  'statetimeout',
  'nopfsync',
  'disablereplyto',
  'dscp',
  'vlanprio',
  'vlanprioset',
  'dnpipe',
  'pdnpipe',
  'defaultqueue',
  'ackqueue',
  'source-track',
] as const;

/**
 * Rule child elements that are read into `RuleConfig` (the extras included) or are GUI bookkeeping with no filter
 * effect.
 */
const RULE_KNOWN_TAGS = new Set([
  'tracker',
  'type',
  'interface',
  'ipprotocol',
  'protocol',
  'icmptype',
  'source',
  'destination',
  'descr',
  'disabled',
  'log',
  'floating',
  'quick',
  'direction',
  'statetype',
  'tcpflags1',
  'tcpflags2',
  'tcpflags_any',
  'allowopts',
  'tag',
  'tagged',
  'nottagged',
  'gateway',
  'sched',
  'created',
  'updated',
  'id',
  'associated-rule-id',
  ...RULE_EXTRA_TAGS,
]);

/**
 * Element names the parser refuses or renames because they are JavaScript object keys. Real backups have them: OPNsense's
 * own sample config carries `<constructor>` in a dnsmasq DHCP range (opnsense/core src/etc/config.xml.sample). None is
 * filter-relevant, so they are kept under a `#`-prefixed key no XML name can take.
 */
const OBJECT_KEY_NAMES = new Set([
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/** Validates and parses a config.xml text into its element tree. Throws `PolicyInputError` when it is not XML. */
export function parseXmlDocument(text: string): XmlObject {
  const parser = new XMLParser({
    ignoreAttributes: true,
    transformTagName: (name) => (OBJECT_KEY_NAMES.has(name) ? `#${name}` : name),
    parseTagValue: false,
    trimValues: true,
    processEntities: true,
    jPath: false,
    isArray: (name) => REPEATED.has(name),
  });
  // The parser accepts a truncated document silently; the validator finds the first error with its position.
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { line, msg } = valid.err;
    // The validator gives no column for some errors (a file cut inside `<?xml … ?>`): point past that line's end.
    const col = (valid.err.col as number | undefined) ?? (text.split('\n')[line - 1]?.length ?? 0) + 1;
    throw new PolicyInputError('config', `not well-formed XML at line ${line}, column ${col}: ${msg}`);
  }
  try {
    return parser.parse(text) as XmlObject;
  } catch (error) {
    throw new PolicyInputError('config', `not well-formed XML (${(error as Error).message})`);
  }
}

/** Parses the text of a pfSense backup. Throws `PolicyInputError` when it is not one. */
export function importConfigXml(text: string): { config: PolicyConfig; warnings: PolicyWarning[] } {
  return importPfsenseDocument(parseXmlDocument(text));
}

/** A parsed pfSense backup → `PolicyConfig`; an OPNsense one is read by `importOpnsenseDocument` instead. */
export function importPfsenseDocument(document: XmlObject): { config: PolicyConfig; warnings: PolicyWarning[] } {
  if (document.opnsense !== undefined) {
    throw new PolicyInputError('opnsense', 'an OPNsense config.xml: read it with importPolicyText, not as a pfSense backup');
  }
  const root = document.pfsense;
  if (root === undefined || typeof root !== 'object' || Array.isArray(root)) {
    throw new PolicyInputError('pfsense', 'not a pfSense config.xml: the <pfsense> root element is missing');
  }
  const imported = new XmlImport(root).run();
  const version = configVersionWarning(typeof root.version === 'string' ? root.version : undefined);
  if (version !== null) imported.warnings.unshift(version);
  return imported;
}

/** `$g['latest_config']` of pfSense 2.7.2 (globals.inc l.85, commit ec956d34): the config version it writes. */
const TARGET_CONFIG_VERSION = '23.3';

/**
 * A config written by an older release is migrated by pfSense's upgrade code before use; the engine reads it as
 * is, so what the migration would change is not reproduced (docs/adr/0152-honest-inputs-and-runtime-facts.md). A newer one may use what 2.7.2 lacks.
 */
function configVersionWarning(version: string | undefined): PolicyWarning | null {
  if (version === undefined || version === '') {
    return policyWarning('POL044', 'config', 'config.xml has no <version>; read as pfSense 2.7.2 (config version 23.3)');
  }
  const compare = compareVersions(version, TARGET_CONFIG_VERSION);
  if (compare === 0) return null;
  return policyWarning(
    'POL044',
    'config',
    compare < 0
      ? `config.xml version ${version} is older than pfSense 2.7.2 (config version ${TARGET_CONFIG_VERSION}); pfSense would migrate it on restore and the engine does not, so answers may differ`
      : `config.xml version ${version} is newer than pfSense 2.7.2 (config version ${TARGET_CONFIG_VERSION}); settings added later are not modelled`,
  );
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (Number.isNaN(d)) return a < b ? -1 : 1;
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** Reading helpers over the parsed tree; each method owns one section. */
class XmlImport {
  private readonly warnings: PolicyWarning[] = [];
  constructor(private readonly root: XmlObject) {}

  run(): { config: PolicyConfig; warnings: PolicyWarning[] } {
    const system = this.system();
    const config: PolicyConfig = {
      version: 1,
      system,
      interfaces: this.interfaces(),
      groups: this.groups(),
      virtualIps: this.virtualIps(),
      aliases: this.aliases(),
      vpn: this.vpn(),
      rules: this.rules(),
      ...this.dhcpRelay(),
      natReflection: this.natReflection(),
      ...this.nat(),
    };
    this.unmodelledSections();
    return { config, warnings: this.warnings };
  }

  private system(): PolicyConfig['system'] {
    const system = child(this.root, 'system');
    const webgui = child(system, 'webgui');
    const ssh = child(system, 'ssh');
    const syslog = child(this.root, 'syslog');
    const protocol = text(webgui, 'protocol') === 'http' ? 'http' : 'https';
    const maximumTableEntries = this.port(
      text(system, 'maximumtableentries'),
      'system.maximumtableentries',
      1e9,
    );
    return {
      hostname: text(system, 'hostname') ?? '',
      ipv6Allow: has(system, 'ipv6allow'),
      webgui: {
        protocol,
        port: this.port(text(webgui, 'port'), 'system.webgui.port'),
        noAntiLockout: has(webgui, 'noantilockout'),
        disableHttpRedirect: has(webgui, 'disablehttpredirect'),
      },
      ssh: { enabled: has(ssh, 'enable'), port: this.port(text(ssh, 'port'), 'system.ssh.port') },
      disableReplyTo: has(system, 'disablereplyto'),
      noApipaBlock: has(system, 'no_apipa_block'),
      logDefaultBlock: !has(syslog, 'nologdefaultblock'),
      logDefaultPass: has(syslog, 'nologdefaultpass'),
      logBogons: !has(syslog, 'nologbogons'),
      logPrivateNets: !has(syslog, 'nologprivatenets'),
      ...(maximumTableEntries === null ? {} : { maximumTableEntries }),
    };
  }

  private interfaces(): InterfaceConfig[] {
    const gateways = new Map<string, string>();
    for (const item of children(child(this.root, 'gateways'), 'gateway_item')) {
      const name = text(item, 'name');
      const address = text(item, 'gateway');
      if (name !== undefined && address !== undefined && isIp(address)) gateways.set(name, address);
    }
    const dhcpd = child(this.root, 'dhcpd');
    const dhcpdv6 = child(this.root, 'dhcpdv6');
    const out: InterfaceConfig[] = [];
    for (const [key, node] of entries(child(this.root, 'interfaces'))) {
      const where = `interfaces.${key}`;
      const ipaddr = text(node, 'ipaddr') ?? '';
      const ipaddrv6 = text(node, 'ipaddrv6') ?? '';
      const ipv4: InterfaceConfig['ipv4'] = { mode: ipv4Mode(ipaddr) };
      if (ipv4.mode === 'static') {
        ipv4.address = ipaddr;
        const prefix = this.prefix(text(node, 'subnet'), 32, `${where}.subnet`);
        if (prefix !== null) ipv4.prefixLength = prefix;
      } else if (!isKnownMode(ipaddr, ['dhcp', 'pppoe', 'pptp', 'l2tp', ''])) {
        this.warnings.push(
          policyWarning(
            'POL042',
            'interface',
            `${where}.ipaddr "${ipaddr}" is not an IPv4 address or a known type; treated as none`,
            { name: key },
          ),
        );
      }
      const gateway = gateways.get(text(node, 'gateway') ?? '');
      if (gateway !== undefined && isIpv4(gateway)) ipv4.gateway = gateway;
      const ipv6: InterfaceConfig['ipv6'] = { mode: ipv6Mode(ipaddrv6) };
      if (ipv6.mode === 'static') {
        ipv6.address = ipaddrv6;
        const prefix = this.prefix(text(node, 'subnetv6'), 128, `${where}.subnetv6`);
        if (prefix !== null) ipv6.prefixLength = prefix;
      } else if (!isKnownMode(ipaddrv6, ['dhcp6', 'slaac', 'track6', '6rd', '6to4', ''])) {
        this.warnings.push(
          policyWarning(
            'POL042',
            'interface',
            `${where}.ipaddrv6 "${ipaddrv6}" is not an IPv6 address or a known type; treated as none`,
            { name: key },
          ),
        );
      }
      const gatewayv6 = gateways.get(text(node, 'gatewayv6') ?? '');
      if (gatewayv6 !== undefined && isIpv6(gatewayv6)) ipv6.gateway = gatewayv6;
      const track = text(node, 'track6-interface');
      if (ipv6.mode === 'track6' && track !== undefined) ipv6.trackInterface = track;
      out.push({
        key,
        device: text(node, 'if') ?? '',
        descr: text(node, 'descr') || key.toUpperCase(),
        enabled: has(node, 'enable'),
        ipv4,
        ipv6,
        blockPrivate: has(node, 'blockpriv'),
        blockBogons: has(node, 'blockbogons'),
        dhcpServer: has(child(dhcpd, key), 'enable'),
        dhcpv6Server: has(child(dhcpdv6, key), 'enable'),
      });
    }
    if (out.length === 0)
      throw new PolicyInputError('pfsense.interfaces', 'the backup defines no interfaces');
    return out;
  }

  private groups(): InterfaceGroupConfig[] {
    return children(child(this.root, 'ifgroups'), 'ifgroupentry').map((entry) => ({
      name: text(entry, 'ifname') ?? '',
      members: splitWords(text(entry, 'members')),
      descr: text(entry, 'descr') ?? '',
    }));
  }

  private virtualIps(): VirtualIpConfig[] {
    const out: VirtualIpConfig[] = [];
    for (const [index, vip] of children(child(this.root, 'virtualip'), 'vip').entries()) {
      const mode = text(vip, 'mode') ?? '';
      const address = text(vip, 'subnet') ?? '';
      if (!['ipalias', 'carp', 'proxyarp', 'other'].includes(mode) || !isIp(address)) {
        this.warnings.push(
          policyWarning(
            'POL042',
            'vip',
            `virtualip.vip[${index}] has mode "${mode}" and address "${address}"; left out`,
          ),
        );
        continue;
      }
      const max = isIpv4(address) ? 32 : 128;
      out.push({
        mode: mode as VirtualIpConfig['mode'],
        interface: text(vip, 'interface') ?? '',
        address,
        prefixLength:
          this.prefix(text(vip, 'subnet_bits'), max, `virtualip.vip[${index}].subnet_bits`) ?? max,
        descr: text(vip, 'descr') ?? '',
      });
    }
    return out;
  }

  private aliases(): AliasConfig[] {
    const out: AliasConfig[] = [];
    for (const alias of children(child(this.root, 'aliases'), 'alias')) {
      const name = text(alias, 'name') ?? '';
      const type = text(alias, 'type') ?? '';
      if (!(ALIAS_TYPES as readonly string[]).includes(type)) {
        this.warnings.push(
          policyWarning('POL026', 'alias', `alias "${name}" has unknown type "${type}"; left out`, { name }),
        );
        continue;
      }
      const urls = [
        text(alias, 'url'),
        ...children(alias, 'aliasurl').map((node) => (typeof node === 'string' ? node : '')),
      ].filter((url): url is string => url !== undefined && url !== '');
      out.push({
        name,
        type: type as AliasType,
        entries: splitWords(text(alias, 'address')),
        descr: text(alias, 'descr') ?? '',
        ...(urls.length > 0 ? { urls } : {}),
      });
    }
    return out;
  }

  private vpn(): VpnConfig {
    const openvpn = child(this.root, 'openvpn');
    const instances: VpnConfig['openvpn'] = [];
    for (const [tag, mode, prefix] of [
      ['openvpn-server', 'server', 'ovpns'],
      ['openvpn-client', 'client', 'ovpnc'],
    ] as const) {
      for (const instance of children(openvpn, tag)) {
        const rawVpnid = text(instance, 'vpnid') ?? '';
        const vpnid = Number(rawVpnid);
        if (!/^\d+$/.test(rawVpnid)) {
          this.warnings.push(
            policyWarning(
              'POL042',
              'config',
              `openvpn.${tag} "${text(instance, 'description') ?? ''}" has no numeric <vpnid>; left out`,
            ),
          );
          continue;
        }
        instances.push({
          mode,
          vpnid,
          device: `${prefix}${vpnid}`,
          descr: text(instance, 'description') ?? '',
          ...(has(instance, 'disable') ? { disabled: true } : {}),
        });
      }
    }
    const ipsecNode = child(this.root, 'ipsec');
    const ipsecPeers = this.ipsecPeers(ipsecNode);
    return {
      openvpn: instances,
      ipsec: children(ipsecNode, 'phase1').some((phase1) => !has(phase1, 'disabled')),
      ...(ipsecPeers.length > 0 ? { ipsecPeers } : {}),
      ...(has(child(this.root, 'system'), 'disablevpnrules') ? { disableVpnRules: true } : {}),
      l2tp: text(child(this.root, 'l2tp'), 'mode') === 'server',
      pppoeServer: children(child(this.root, 'pppoes'), 'pppoe').some(
        (server) => text(server, 'mode') === 'server',
      ),
    };
  }

  /** Phase 1 entries with their phase 2 protocols; the interface of a VIP reference is looked up. */
  private ipsecPeers(ipsecNode: XmlObject | undefined): IpsecPeerConfig[] {
    const vipInterface = new Map<string, string>();
    for (const vip of children(child(this.root, 'virtualip'), 'vip')) {
      const uniqid = text(vip, 'uniqid');
      const iface = text(vip, 'interface');
      if (uniqid && iface) vipInterface.set(`_vip${uniqid}`, iface);
    }
    const phase2 = children(ipsecNode, 'phase2');
    const peers: IpsecPeerConfig[] = [];
    for (const phase1 of children(ipsecNode, 'phase1')) {
      const ikeid = text(phase1, 'ikeid') ?? '';
      let iface = text(phase1, 'interface') ?? 'wan';
      // A VIP may sit on another VIP (IP alias on CARP): follow at most two hops, as filter.inc does.
      for (let hop = 0; hop < 2 && iface.startsWith('_vip'); hop++) iface = vipInterface.get(iface) ?? iface;
      const protocols = new Set<'esp' | 'ah'>();
      for (const entry of phase2) {
        const protocol = text(entry, 'protocol');
        if (text(entry, 'ikeid') === ikeid && (protocol === 'esp' || protocol === 'ah'))
          protocols.add(protocol);
      }
      const mobile = has(phase1, 'mobile');
      const remote = text(phase1, 'remote-gateway');
      const ikePort = this.port(text(phase1, 'ikeport'), `ipsec.phase1[${ikeid}].ikeport`);
      const nattPort = this.port(text(phase1, 'nattport'), `ipsec.phase1[${ikeid}].nattport`);
      peers.push({
        descr: text(phase1, 'descr') ?? '',
        interface: iface,
        ...(!mobile && remote ? { remoteGateway: remote } : {}),
        mobile,
        protocols: [...protocols],
        ...(has(phase1, 'disabled') ? { disabled: true } : {}),
        ...(ikePort === null ? {} : { ikePort }),
        ...(nattPort === null ? {} : { nattPort }),
      });
    }
    return peers;
  }

  private rules(): RuleConfig[] {
    const out: RuleConfig[] = [];
    for (const [index, node] of children(child(this.root, 'filter'), 'rule').entries()) {
      if (typeof node !== 'object' || has(node, 'separator')) continue;
      const where = `filter.rule[${index}]`;
      const rawType = text(node, 'type') ?? '';
      const type: RuleType =
        (['pass', 'block', 'reject', 'match'] as const).find((t) => t === rawType) ?? 'pass';
      if (type !== rawType) {
        this.warnings.push(
          policyWarning('POL011', 'rule', `${where} has type "${rawType}"; imported as pass`, {
            configIndex: index,
            descr: text(node, 'descr') ?? '',
          }),
        );
      }
      const direction = text(node, 'direction');
      const ipprotocol = text(node, 'ipprotocol');
      const icmptype = text(node, 'icmptype');
      const rule: RuleConfig = {
        type,
        interface: text(node, 'interface') ?? '',
        floating: has(node, 'floating'),
        quick: has(node, 'quick'),
        direction: direction === 'in' || direction === 'out' ? direction : 'any',
        ipprotocol: ipprotocol === 'inet6' || ipprotocol === 'inet46' ? ipprotocol : 'inet',
        protocol: text(node, 'protocol')?.toLowerCase() || null,
        icmptypes:
          icmptype && icmptype !== 'any'
            ? icmptype
                .split(',')
                .map((t) => t.trim())
                .filter(Boolean)
            : null,
        source: endpoint(child(node, 'source')),
        destination: endpoint(child(node, 'destination')),
        descr: text(node, 'descr') ?? '',
        disabled: has(node, 'disabled'),
        log: has(node, 'log'),
        statetype: text(node, 'statetype') || null,
        tcpflagsAny: has(node, 'tcpflags_any'),
        allowopts: has(node, 'allowopts'),
      };
      copyText(node, rule, 'tracker', 'tracker');
      copyText(node, rule, 'tcpflags1', 'tcpflags1');
      copyText(node, rule, 'tcpflags2', 'tcpflags2');
      copyText(node, rule, 'tag', 'tag');
      copyText(node, rule, 'tagged', 'tagged');
      copyText(node, rule, 'gateway', 'gateway');
      copyText(node, rule, 'sched', 'sched');
      if (has(node, 'nottagged')) rule.nottagged = true;
      const extra: Record<string, string> = {};
      for (const tag of RULE_EXTRA_TAGS) {
        const value = node[tag];
        if (value === undefined) continue;
        const valueText = typeof value === 'string' ? value : '';
        // Presence-only flags (nopfsync, disablereplyto) count even when empty; valued options only when set.
        if (valueText !== '' || tag === 'nopfsync' || tag === 'disablereplyto') extra[tag] = valueText;
      }
      for (const tag of Object.keys(node)) {
        if (!RULE_KNOWN_TAGS.has(tag))
          extra[tag] = typeof node[tag] === 'string' ? node[tag] : '';
      }
      if (Object.keys(extra).length > 0) rule.extra = extra;
      out.push(rule);
    }
    return out;
  }

  /** The relays' listening interfaces (`<dhcrelay><enable/><interface>lan,opt1</interface>`, same for v6). */
  private dhcpRelay(): Pick<PolicyConfig, 'dhcpRelay'> {
    const listening = (tag: string) => {
      const relay = child(this.root, tag);
      return has(relay, 'enable') ? (text(relay, 'interface') ?? '').split(',').filter(Boolean) : [];
    };
    const ipv4 = listening('dhcrelay');
    const ipv6 = listening('dhcrelay6');
    return ipv4.length > 0 || ipv6.length > 0 ? { dhcpRelay: { ipv4, ipv6 } } : {};
  }

  /** pfSense adds the NAT-reflection pass when any port forward has reflection on (filter.inc l.4152-4163). */
  private natReflection(): boolean {
    const systemDisables = has(child(this.root, 'system'), 'disablenatreflection');
    return children(child(this.root, 'nat'), 'rule').some((rule) => {
      const mode = text(rule, 'natreflection');
      return (!systemDisables || mode === 'enable') && mode !== 'disable';
    });
  }

  /**
   * `<nat>`: port forwards (`<rule>`), `<outbound>` mode and rules, `<onetoone>`, and the `<system>` reflection
   * switches (docs/reference/pfsense-nat.md §1). Absent when the config has no `<nat>` and outbound NAT is automatic
   * by default — pfSense still generates automatic outbound rules then, so `nat` is always returned.
   */
  private nat(): { nat: NatConfig } {
    const nat = child(this.root, 'nat');
    const system = child(this.root, 'system');
    const reflection = (node: XmlObject): NatReflectionMode | undefined => {
      const mode = text(node, 'natreflection');
      return mode === 'enable' || mode === 'purenat' || mode === 'disable' ? mode : undefined;
    };
    const family = (node: XmlObject): 'inet' | 'inet6' => (text(node, 'ipprotocol') === 'inet6' ? 'inet6' : 'inet');
    const portForwards: PortForwardConfig[] = children(nat, 'rule').map((node) => {
      const natReflection = reflection(node);
      const localPort = text(node, 'local-port');
      const associated = text(node, 'associated-rule-id');
      return {
        interface: text(node, 'interface') || 'wan',
        ipprotocol: family(node),
        protocol: (text(node, 'protocol') ?? 'any').toLowerCase(),
        source: endpoint(child(node, 'source')),
        destination: endpoint(child(node, 'destination')),
        target: text(node, 'target') ?? '',
        ...(localPort ? { localPort } : {}),
        ...(associated ? { associatedRuleId: associated } : {}),
        noRdr: has(node, 'nordr'),
        disabled: has(node, 'disabled'),
        ...(natReflection ? { natReflection } : {}),
        descr: text(node, 'descr') ?? '',
      };
    });
    const outboundNode = child(nat, 'outbound');
    const rawMode = text(outboundNode, 'mode') ?? 'automatic';
    const mode = (['automatic', 'hybrid', 'advanced', 'disabled'] as const).find((m) => m === rawMode);
    if (mode === undefined) {
      this.warnings.push(
        policyWarning('POL042', 'config', `nat.outbound.mode "${rawMode}" is unknown; pfSense generates no outbound NAT rules for it`),
      );
    }
    const rules: OutboundNatConfig[] = children(outboundNode, 'rule').map((node) => {
      const source = child(node, 'source');
      const destination = child(node, 'destination');
      const ipprotocol = text(node, 'ipprotocol');
      const protocol = text(node, 'protocol');
      const sourcePort = text(node, 'sourceport');
      const destinationPort = text(node, 'dstport');
      const subnet = Number(text(node, 'target_subnet'));
      const natPort = text(node, 'natport');
      return {
        interface: text(node, 'interface') ?? '',
        ...(ipprotocol === 'inet' || ipprotocol === 'inet6' ? { ipprotocol } : {}),
        ...(protocol && protocol !== 'any' ? { protocol: protocol.toLowerCase() } : {}),
        source: has(source, 'any') ? 'any' : (text(source, 'network') ?? 'any'),
        ...(sourcePort ? { sourcePort } : {}),
        destination: has(destination, 'any') ? 'any' : (text(destination, 'network') ?? 'any'),
        destinationNot: has(destination, 'not'),
        ...(destinationPort ? { destinationPort } : {}),
        target: text(node, 'target') ?? '',
        ...(Number.isInteger(subnet) && text(node, 'target_subnet') ? { targetSubnet: subnet } : {}),
        ...(natPort ? { natPort } : {}),
        staticPort: has(node, 'staticnatport'),
        noNat: has(node, 'nonat'),
        disabled: has(node, 'disabled'),
        descr: text(node, 'descr') ?? '',
      };
    });
    const oneToOne: OneToOneConfig[] = children(nat, 'onetoone').map((node) => {
      const natReflection = reflection(node);
      return {
        interface: text(node, 'interface') || 'wan',
        ipprotocol: family(node),
        external: text(node, 'external') ?? '',
        source: endpoint(child(node, 'source')),
        destination: endpoint(child(node, 'destination')),
        noBinat: has(node, 'nobinat'),
        disabled: has(node, 'disabled'),
        ...(natReflection ? { natReflection } : {}),
        descr: text(node, 'descr') ?? '',
      };
    });
    return {
      nat: {
        portForwards,
        // An unknown mode generates nothing (filter.inc switch default, l.2544); modelled as disabled.
        outbound: { mode: mode ?? 'disabled', rules },
        oneToOne,
        reflection: {
          disabled: has(system, 'disablenatreflection'),
          pureNat: has(system, 'enablenatreflectionpurenat'),
          binat: has(system, 'enablebinatreflection'),
          helper: has(system, 'enablenatreflectionhelper'),
        },
      },
    };
  }

  /** Sections that add rules pfSense-side but are not modelled: reported, not dropped silently. */
  private unmodelledSections(): void {
    const nat = child(this.root, 'nat');
    if (children(nat, 'npt').length > 0) {
      this.warnings.push(policyWarning('POL040', 'config', 'NPt (IPv6 network prefix translation) entries are not modelled'));
    }
    const sections: Array<[string, string]> = [
      ['captiveportal', 'captive portal rules'],
      ['installedpackages', 'package rules (pfBlockerNG, Snort, Suricata, miniupnpd, ...)'],
      ['staticroutes', 'static-route bypass rules'],
    ];
    for (const [tag, what] of sections) {
      const node = this.root[tag];
      if (node !== undefined && typeof node === 'object' && Object.keys(node).length > 0) {
        this.warnings.push(
          policyWarning('POL040', 'config', `<${tag}> is present: ${what} are not modelled`),
        );
      }
    }
    if (children(child(this.root, 'schedules'), 'schedule').length > 0) {
      this.warnings.push(
        policyWarning(
          'POL040',
          'config',
          'schedules are present: whether a scheduled rule is active depends on the time of day',
        ),
      );
    }
  }

  private port(value: string | undefined, field: string, max = 65535): number | null {
    if (value === undefined || value === '') return null;
    const n = Number(value);
    if (Number.isInteger(n) && n >= 1 && n <= max) return n;
    this.warnings.push(
      policyWarning('POL042', 'system', `${field} "${value}" is not a valid number; default used`),
    );
    return null;
  }

  private prefix(value: string | undefined, max: number, field: string): number | null {
    const n = Number(value);
    if (value !== undefined && value !== '' && Number.isInteger(n) && n >= 0 && n <= max) return n;
    this.warnings.push(
      policyWarning('POL042', 'interface', `${field} "${value ?? ''}" is not a prefix length 0-${max}`),
    );
    return null;
  }
}

export function ipv4Mode(ipaddr: string): Ipv4Mode {
  if (isIpv4(ipaddr)) return 'static';
  return (['dhcp', 'pppoe', 'pptp', 'l2tp'] as const).find((mode) => mode === ipaddr) ?? 'none';
}

export function ipv6Mode(ipaddrv6: string): Ipv6Mode {
  if (isIpv6(ipaddrv6)) return 'static';
  return (['dhcp6', 'slaac', 'track6', '6rd', '6to4'] as const).find((mode) => mode === ipaddrv6) ?? 'none';
}

function isKnownMode(value: string, known: readonly string[]): boolean {
  return known.includes(value) || value === 'none';
}

export function endpoint(node: XmlObject | undefined): RuleEndpoint {
  const not = has(node, 'not');
  const port = text(node, 'port');
  const withPort = (ep: RuleEndpoint): RuleEndpoint => (port ? { ...ep, port } : ep);
  if (has(node, 'any')) return withPort({ kind: 'any', not });
  const network = text(node, 'network');
  if (network) return withPort({ kind: 'network', value: network, not });
  // An empty <address> is what pfSense calls an empty source/destination: the rule is skipped at generation.
  return withPort({ kind: 'address', value: text(node, 'address') ?? '', not });
}

export function child(node: XmlNode | XmlNode[] | undefined, tag: string): XmlObject | undefined {
  if (node === undefined || typeof node === 'string' || Array.isArray(node)) return undefined;
  const value = node[tag];
  if (value === undefined || Array.isArray(value))
    return Array.isArray(value) ? asObject(value[0]) : asObject(value);
  return asObject(value);
}

function asObject(node: XmlNode | undefined): XmlObject | undefined {
  if (node === undefined) return undefined;
  return typeof node === 'string' ? {} : node;
}

export function children(node: XmlObject | undefined, tag: string): XmlObject[] {
  const value = node?.[tag];
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => (typeof item === 'string' ? {} : item));
}

export function entries(node: XmlObject | undefined): Array<[string, XmlObject]> {
  if (node === undefined) return [];
  return Object.entries(node)
    .filter(([, value]) => value !== undefined && !Array.isArray(value))
    .map(([key, value]) => [key, asObject(value as XmlNode) ?? {}]);
}

/** Presence test: `<tag/>`, `<tag></tag>` and `<tag>anything</tag>` all count (pfSense `isset`). */
export function has(node: XmlObject | undefined, tag: string): boolean {
  return node !== undefined && node[tag] !== undefined;
}

export function text(node: XmlObject | undefined, tag: string): string | undefined {
  const value = node?.[tag];
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : '';
}

function copyText<K extends keyof RuleConfig>(node: XmlObject, rule: RuleConfig, tag: string, key: K): void {
  const value = text(node, tag);
  if (value) (rule as unknown as Record<string, string>)[key as string] = value;
}

export function splitWords(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(/\s+/).filter(Boolean);
}
