/**
 * @module OPNsense NAT → the engine's `NatConfig` (docs/reference/opnsense-rules.md §7, docs/adr/0260). Port forwards
 * are the `<nat><rule>` entries (the DNat model is mounted there), outbound NAT is `<nat><outbound>` plus the MVC
 * `Filter/snatrules`, 1:1 NAT the MVC `Filter/onetoone` (or a not yet migrated `<nat><onetoone>`), NPt the MVC
 * `Filter/npt` (or `<nat><npt>`), read as an IPv6 `binat`. Lists (interfaces, families, networks) are expanded the
 * way Rule.php `reader` expands them, so every entry has one interface and one family.
 */
import { isIpv4, isIpv6 } from '../../net/ip.ts';
import type {
  AliasConfig,
  InterfaceConfig,
  NatConfig,
  NatReflectionMode,
  OneToOneConfig,
  OutboundNatConfig,
  PolicyWarning,
  PortForwardConfig,
  RuleEndpoint,
} from '../model.ts';
import { policyWarning } from '../warnings.ts';
import { child, children, has, text, type XmlObject } from './xml.ts';

type Family = 'inet' | 'inet6';

/** OPNsense booleans: `<x>1</x>`; empty or `0` is off (PHP `empty()`). */
function flag(node: XmlObject | undefined, tag: string): boolean {
  const value = text(node, tag);
  return value !== undefined && value !== '' && value !== '0';
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);
}

/** The family an address literal (`a.b.c.d`, `x::y/64`) belongs to, or null for names. */
function familyOf(value: string | undefined): Family | null {
  const address = (value ?? '').split('/')[0] ?? '';
  return isIpv4(address) ? 'inet' : isIpv6(address) ? 'inet6' : null;
}

/**
 * `ipprotocol` as Rule.php `reader` expands it: `inet46` is both families, a value is that family; none (a port
 * forward or 1:1 entry may leave it blank) is the family of the addresses given, IPv4 when none says.
 */
function families(value: string | undefined, ...addresses: Array<string | undefined>): Family[] {
  if (value === 'inet46') return ['inet', 'inet6'];
  if (value === 'inet' || value === 'inet6') return [value];
  for (const address of addresses) {
    const family = familyOf(address);
    if (family !== null) return [family];
  }
  return ['inet'];
}

const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'tcp/udp']);

/**
 * Service names a port field accepts (PortField.php `$wellknownservices`, §7.5): Rule.php writes the number. The
 * numbers are the IANA assignments.
 */
const WELL_KNOWN_PORTS: Readonly<Record<string, number>> = {
  'afs3-fileserver': 7000, aol: 5190, auth: 113, 'avt-profile-1': 5004, cvsup: 5999, domain: 53, 'domain-s': 853,
  ftp: 21, hbci: 3000, http: 80, https: 443, igmpv3lite: 465, imap: 143, imaps: 993, 'ipsec-msft': 10000,
  'ipsec-nat-t': 4500, isakmp: 500, l2f: 1701, ldap: 389, ldaps: 636, 'microsoft-ds': 445, 'ms-streaming': 1755,
  'ms-wbt-server': 3389, msnp: 1863, 'nat-stun-port': 3478, 'netbios-dgm': 138, 'netbios-ns': 137,
  'netbios-ssn': 139, nntp: 119, ntp: 123, openvpn: 1194, pop3: 110, pop3s: 995, pptp: 1723, radius: 1812,
  'radius-acct': 1813, rfb: 5900, sip: 5060, 'sip-tls': 5061, smtp: 25, snmp: 161, snmptrap: 162, ssh: 22,
  submission: 587, submissions: 465, telnet: 23, teredo: 3544, tftp: 69, urd: 465, wins: 1512,
};

/** A port field's value with a service name replaced by its number (`https` → `443`). */
function portNumber(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const known = WELL_KNOWN_PORTS[value];
  return known === undefined ? value : String(known);
}

export class OpnsenseNatImport {
  private readonly nat: XmlObject | undefined;
  private readonly filter: XmlObject | undefined;
  private readonly names: Set<string>;

  constructor(
    private readonly root: XmlObject,
    mvc: XmlObject | undefined,
    interfaces: InterfaceConfig[],
    private readonly warnings: PolicyWarning[],
    private readonly aliases: AliasConfig[] = [],
  ) {
    this.nat = child(root, 'nat');
    this.filter = child(child(mvc, 'Firewall'), 'Filter');
    this.names = new Set(interfaces.map((i) => i.key));
  }

  run(): NatConfig {
    const system = child(this.root, 'system');
    const tagged = [...children(this.nat, 'rule'), ...children(child(this.nat, 'outbound'), 'rule'), ...children(child(this.filter, 'snatrules'), 'rule')]
      .some((node) => Boolean(text(node, 'tag') || text(node, 'tagged')));
    if (tagged) {
      const why = 'filter rules matching `tagged` see no tag from them (POL010 marks those rules)';
      this.warnings.push(policyWarning('POL040', 'config', `NAT entries set or match pf tags: not modelled; ${why}`));
    }
    const rawMode = text(child(this.nat, 'outbound'), 'mode') ?? '';
    // filter.lib.inc filter_auto_source_nat: '' is automatic; manual rules only in advanced / hybrid (§7.2).
    const mode = rawMode === '' ? 'automatic' : (['automatic', 'hybrid', 'advanced', 'disabled'] as const).find((m) => m === rawMode);
    if (mode === undefined) {
      const message = `nat.outbound.mode "${rawMode}" is unknown; OPNsense generates no outbound NAT rules for it`;
      this.warnings.push(policyWarning('POL042', 'config', message));
    }
    return {
      portForwards: this.portForwards(),
      outbound: { mode: mode ?? 'disabled', rules: [...this.mvcOutbound(), ...this.legacyOutbound()] },
      oneToOne: [...this.npt(), ...this.oneToOne()],
      reflection: {
        // Plugin.php reads these with empty(): `<x>0</x>` is off.
        disabled: flag(system, 'disablenatreflection'),
        pureNat: false,
        binat: flag(system, 'enablebinatreflection'),
        helper: flag(system, 'enablenatreflectionhelper'),
      },
    };
  }

  /**
   * A NAT side as Rule.php `legacyMoveAddressFields` reads it: `<network>`, else `<address>`, else any; `not` never
   * negates any; a port only with tcp/udp. Interface names, `<if>ip` and `(self)` are networks, the rest addresses.
   */
  private side(node: XmlObject | undefined, protocol: string): RuleEndpoint {
    const value = text(node, 'network') || text(node, 'address') || 'any';
    const port = PORT_PROTOCOLS.has(protocol) ? portNumber(text(node, 'port')) : undefined;
    return this.address(value, value !== 'any' && flag(node, 'not'), port);
  }

  private address(value: string, not: boolean, port?: string): RuleEndpoint {
    const withPort = (ep: RuleEndpoint): RuleEndpoint => (port ? { ...ep, port } : ep);
    if (value === 'any' || value === '') return withPort({ kind: 'any', not: false });
    const ipOf = /^(wan|lan|opt[0-9]+)ip$/.exec(value)?.[1];
    const isNetwork = value === '(self)' || this.names.has(value) || (ipOf !== undefined && this.names.has(ipOf));
    return withPort({ kind: isNetwork ? 'network' : 'address', value, not });
  }

  /** `<nat><rule>` (DNat.xml, mounted at /nat/rule): one entry per interface and family (§7.3). */
  private portForwards(): PortForwardConfig[] {
    const out: PortForwardConfig[] = [];
    const rules = children(this.nat, 'rule')
      .map((node, index) => ({ node, index, sequence: Number(text(node, 'sequence') || 0) || 0 }))
      // DNat rules are registered sortedBy sequence; entries without one keep their config order.
      .sort((a, b) => a.sequence - b.sequence || a.index - b.index);
    for (const { node, index } of rules) {
      const descr = text(node, 'descr') ?? '';
      const protocol = (text(node, 'protocol') || 'any').toLowerCase();
      const target = text(node, 'target') ?? '';
      const interfaces = list(text(node, 'interface'));
      if (interfaces.length === 0) {
        const message = `port forward "${descr}" (#${index + 1}) names no interface (pf would apply it everywhere); left out`;
        this.warnings.push(policyWarning('POL045', 'nat', message, { descr }));
        continue;
      }
      // DNatAssociatedRuleField: a legacy `associated-rule-id` of `pass` becomes `<pass>pass`; a linked rule id
      // is dropped (the linked rule is an ordinary <filter><rule>).
      const associated = text(node, 'associated-rule-id') ?? '';
      const pass = text(node, 'pass') || (associated === 'pass' ? 'pass' : '');
      const reflectionText = text(node, 'natreflection');
      const natReflection: NatReflectionMode | undefined =
        reflectionText === 'enable' || reflectionText === 'purenat' || reflectionText === 'disable' ? reflectionText : undefined;
      const destination = this.side(child(node, 'destination'), protocol);
      const localPort = this.localPort(portNumber(text(node, 'local-port')), destination.port);
      for (const iface of interfaces) {
        for (const ipprotocol of families(text(node, 'ipprotocol'), target, destination.value)) {
          out.push({
            interface: iface,
            ipprotocol,
            protocol,
            source: this.side(child(node, 'source'), protocol),
            destination,
            target,
            ...(localPort && PORT_PROTOCOLS.has(protocol) ? { localPort } : {}),
            ...(pass === 'pass' ? { associatedRuleId: 'pass' } : associated ? { associatedRuleId: associated } : {}),
            ...(pass === 'rule' ? { registerRule: true } : {}),
            noRdr: flag(node, 'nordr'),
            disabled: flag(node, 'disabled'),
            ...(natReflection ? { natReflection } : {}),
            descr,
          });
        }
      }
    }
    return out;
  }

  /**
   * ForwardRule.php `parseRdrRules`: a port alias as the local port is dropped when it is also the external port
   * (pf keeps the port), otherwise its first port is used.
   */
  private localPort(value: string | undefined, external: string | undefined): string | undefined {
    const alias = value === undefined ? undefined : this.aliases.find((a) => a.name === value && a.type === 'port');
    if (alias === undefined) return value;
    if (value === external) return undefined;
    return alias.entries[0]?.replace(':', '-');
  }

  /** MVC `Filter/snatrules` (SourceNatRuleField serialize): registered at priority 50, before the legacy rules. */
  private mvcOutbound(): OutboundNatConfig[] {
    const out: OutboundNatConfig[] = [];
    for (const node of this.sorted(child(this.filter, 'snatrules'))) {
      const protocol = (text(node, 'protocol') || 'any').toLowerCase();
      const base = {
        target: text(node, 'target') ?? '',
        staticPort: flag(node, 'staticnatport'),
        noNat: flag(node, 'nonat'),
        disabled: text(node, 'enabled') === '0',
        descr: text(node, 'description') ?? '',
        ...(protocol !== 'any' ? { protocol } : {}),
      };
      const optional = (value: string | undefined) => (value ? value : undefined);
      for (const source of list(text(node, 'source_net') || 'any')) {
        for (const destination of list(text(node, 'destination_net') || 'any')) {
          for (const iface of this.outboundInterfaces(text(node, 'interface'), base.descr)) {
            for (const ipprotocol of families(text(node, 'ipprotocol'), source, destination, base.target)) {
              out.push(
                this.outboundEntry(iface, ipprotocol, base, {
                  source,
                  sourceNot: flag(node, 'source_not'),
                  sourcePort: optional(portNumber(text(node, 'source_port'))),
                  destination,
                  destinationNot: flag(node, 'destination_not'),
                  destinationPort: optional(portNumber(text(node, 'destination_port'))),
                  // pf resolves a service name itself (getservbyname).
                  natPort: optional(portNumber(text(node, 'target_port'))),
                }),
              );
            }
          }
        }
      }
    }
    return out;
  }

  /** `<nat><outbound><rule>` (filter.inc l.195-206): the legacy manual rules, priority 100. */
  private legacyOutbound(): OutboundNatConfig[] {
    const out: OutboundNatConfig[] = [];
    for (const node of children(child(this.nat, 'outbound'), 'rule')) {
      const protocol = (text(node, 'protocol') || 'any').toLowerCase();
      const sideOf = (tag: string) => {
        const side = child(node, tag);
        const value = text(side, 'network') || text(side, 'address') || 'any';
        return { value, not: value !== 'any' && flag(side, 'not') };
      };
      const source = sideOf('source');
      const destination = sideOf('destination');
      let target = text(node, 'target') ?? '';
      // SNatRule.php: `other-subnet` is targetip/targetip_subnet.
      if (target === 'other-subnet') target = `${text(node, 'targetip') ?? ''}/${text(node, 'targetip_subnet') ?? ''}`;
      const optional = (value: string | undefined) => (value ? value : undefined);
      const base = {
        target,
        staticPort: flag(node, 'staticnatport'),
        noNat: flag(node, 'nonat'),
        disabled: flag(node, 'disabled'),
        descr: text(node, 'descr') ?? '',
        ...(protocol !== 'any' ? { protocol } : {}),
      };
      for (const iface of this.outboundInterfaces(text(node, 'interface'), base.descr)) {
        for (const ipprotocol of families(text(node, 'ipprotocol'), source.value, destination.value, target)) {
          out.push(
            this.outboundEntry(iface, ipprotocol, base, {
              source: source.value,
              sourceNot: source.not,
              sourcePort: optional(portNumber(text(node, 'sourceport'))),
              destination: destination.value,
              destinationNot: destination.not,
              destinationPort: optional(portNumber(text(node, 'dstport'))),
              natPort: optional(portNumber(text(node, 'natport'))),
            }),
          );
        }
      }
    }
    return out;
  }

  /** The interfaces of an outbound rule; none (pf would apply it everywhere) is reported and left out. */
  private outboundInterfaces(value: string | undefined, descr: string): string[] {
    const interfaces = list(value);
    if (interfaces.length === 0) {
      const message = `outbound NAT rule "${descr}" names no interface (pf would apply it everywhere); left out`;
      this.warnings.push(policyWarning('POL045', 'nat', message, { descr }));
    }
    return interfaces;
  }

  private outboundEntry(
    iface: string,
    ipprotocol: Family,
    base: Pick<OutboundNatConfig, 'target' | 'staticPort' | 'noNat' | 'disabled' | 'descr' | 'protocol'>,
    sides: {
      source: string;
      sourceNot: boolean;
      sourcePort: string | undefined;
      destination: string;
      destinationNot: boolean;
      destinationPort: string | undefined;
      natPort: string | undefined;
    },
  ): OutboundNatConfig {
    const { sourcePort, destinationPort, natPort, ...rest } = sides;
    // SNatRule.php: no static port and no `natport` means `port 1024:65535`; `<if>ip` targets the interface address.
    const own = /^(wan|lan|opt[0-9]+)ip$/.exec(base.target)?.[1];
    const target = own === iface ? '' : base.target;
    return {
      interface: iface,
      ipprotocol,
      ...rest,
      ...base,
      target,
      ...(sourcePort ? { sourcePort } : {}),
      ...(destinationPort ? { destinationPort } : {}),
      ...(natPort && !base.staticPort && !base.noNat ? { natPort } : {}),
    };
  }

  /** MVC `Filter/onetoone` (DNatRule.php, priority 500), or a `<nat><onetoone>` read as migration MFP1_0_4 does. */
  private oneToOne(): OneToOneConfig[] {
    const out: OneToOneConfig[] = [];
    const entries = [
      ...this.sorted(child(this.filter, 'onetoone')).map((node) => ({
        interfaces: list(text(node, 'interface')),
        type: text(node, 'type') === 'nat' ? ('nat' as const) : ('binat' as const),
        source: this.address(text(node, 'source_net') || 'any', flag(node, 'source_not')),
        destination: this.address(text(node, 'destination_net') || 'any', flag(node, 'destination_not')),
        external: text(node, 'external') ?? '',
        reflection: text(node, 'natreflection'),
        disabled: text(node, 'enabled') === '0',
        descr: text(node, 'description') ?? '',
      })),
      ...children(this.nat, 'onetoone').map((node) => ({
        interfaces: list(text(node, 'interface')),
        type: text(node, 'type') === 'nat' ? ('nat' as const) : ('binat' as const),
        source: this.legacyOneToOneSide(child(node, 'source')),
        destination: this.legacyOneToOneSide(child(node, 'destination')),
        external: text(node, 'external') ?? '',
        reflection: text(node, 'natreflection'),
        disabled: flag(node, 'disabled'),
        descr: text(node, 'descr') ?? '',
      })),
    ];
    for (const entry of entries) {
      const natReflection = entry.reflection === 'enable' || entry.reflection === 'disable' ? entry.reflection : undefined;
      for (const iface of entry.interfaces) {
        out.push({
          interface: iface,
          ipprotocol: families(undefined, entry.external, entry.source.value)[0] as Family,
          external: entry.external,
          source: entry.source,
          destination: entry.destination,
          noBinat: false,
          type: entry.type,
          disabled: entry.disabled,
          ...(natReflection ? { natReflection } : {}),
          descr: entry.descr,
        });
      }
    }
    return out;
  }

  private legacyOneToOneSide(node: XmlObject | undefined): RuleEndpoint {
    if (has(node, 'any')) return { kind: 'any', not: false };
    const value = text(node, 'address') || text(node, 'network') || 'any';
    return this.address(value, flag(node, 'not'));
  }

  /**
   * NPt (NptRule.php, priority 50): `binat on <if> inet6 from <internal prefix> -> <external prefix>`, the same
   * translation as an IPv6 1:1 of a subnet. MVC `Filter/npt`, or `<nat><npt>` as migration MFP1_0_3 reads it.
   */
  private npt(): OneToOneConfig[] {
    const entries = [
      ...this.sorted(child(this.filter, 'npt')).map((node) => ({
        iface: text(node, 'interface') ?? '',
        internal: text(node, 'source_net') ?? '',
        external: text(node, 'destination_net') ?? '',
        disabled: text(node, 'enabled') === '0',
        descr: text(node, 'description') ?? '',
      })),
      ...children(this.nat, 'npt').map((node) => {
        const internal = text(child(node, 'source'), 'address') ?? '';
        const external = text(child(node, 'destination'), 'address') ?? '';
        // MFP1_0_3: an external prefix without a length takes the internal one.
        const length = internal.split('/')[1] ?? '128';
        return {
          iface: text(node, 'interface') ?? '',
          internal,
          external: external && !external.includes('/') ? `${external}/${length}` : external,
          disabled: flag(node, 'disabled'),
          descr: text(node, 'descr') ?? '',
        };
      }),
    ];
    return entries.map((entry) => ({
      interface: entry.iface,
      ipprotocol: 'inet6',
      // An empty external prefix is taken from the interface at run time: left to the generator to report.
      external: entry.external,
      source: { kind: 'address', value: entry.internal, not: false },
      destination: { kind: 'any', not: false },
      noBinat: false,
      type: 'binat',
      disabled: entry.disabled,
      natReflection: 'disable',
      descr: entry.descr || 'NPt',
    }));
  }

  /** Items of an MVC list (`<rule>` children) in `<sequence>` order (`sortedBy(['sequence'])`). */
  private sorted(node: XmlObject | undefined): XmlObject[] {
    return children(node, 'rule')
      .map((item, index) => ({ item, index, sequence: Number(text(item, 'sequence') || 0) || 0 }))
      .sort((a, b) => a.sequence - b.sequence || a.index - b.index)
      .map(({ item }) => item);
  }
}

/**
 * Interfaces with a gateway as `filter_core_get_initialized_plugin_system` finds them (§7.1): an IPv4 gateway when
 * the address is dynamic (DHCP / PPP bring a router) or a static interface names a gateway other than `none`; the
 * same for IPv6 with `dhcp6`, `slaac`, `6rd`, `6to4` or a named `<gatewayv6>`.
 */
export function opnsenseGatewayInterfaces(
  root: XmlObject,
  interfaces: InterfaceConfig[],
): { inet: string[]; inet6: string[] } {
  const nodes = child(root, 'interfaces');
  const named = (key: string, tag: string) => {
    const value = text(child(nodes, key), tag) ?? '';
    return value !== '' && value !== 'none';
  };
  const inet: string[] = [];
  const inet6: string[] = [];
  for (const iface of interfaces) {
    if (!iface.enabled) continue;
    if (['dhcp', 'pppoe', 'pptp', 'l2tp'].includes(iface.ipv4.mode) || (iface.ipv4.mode === 'static' && named(iface.key, 'gateway'))) {
      inet.push(iface.key);
    }
    if (['dhcp6', 'slaac', '6rd', '6to4'].includes(iface.ipv6.mode) || (iface.ipv6.mode === 'static' && named(iface.key, 'gatewayv6'))) {
      inet6.push(iface.key);
    }
  }
  return { inet, inet6 };
}
