/**
 * @module `<nat>` → pf translation rules as pfSense 2.7.2 writes them (filter.inc `filter_nat_rules_generate`,
 * docs/reference/pfsense-nat.md): 1:1 `binat` (with its reflection `rdr`), outbound `nat` (manual rules in
 * hybrid/advanced mode, then the automatic rules in automatic/hybrid mode), then port-forward `rdr` (with pure-NAT
 * reflection `rdr` on the internal interfaces). NAT + proxy reflection hands the connection to a proxy on the
 * firewall: it is kept as an `rdr` whose target is null, so answers that reach it are `unknown` (docs/adr/0150-nat-before-filtering.md).
 */
import { formatCidr, parseCidr } from '../../net/ip.ts';
import type {
  AddressFamily,
  AddressSpec,
  PfNatRule,
  OpnsenseSettings,
  PolicyConfig,
  PolicyWarning,
  PortForwardConfig,
  PortSpec,
  RuleEndpoint,
} from '../model.ts';
import { policyWarning } from '../warnings.ts';
import type { AliasResolution } from './aliases.ts';
import { parsePortEntry } from './aliases.ts';
import type { FilterIf, InterfaceModel } from './interfaces.ts';
import { antiLockout, naturalCompare } from './opnsense.ts';
import { ANY, cidrs, table } from './rule.ts';

type DraftNat = Omit<PfNatRule, 'index'>;

/** Generates the translation rules; problems become warnings (POL045) and the entry is left out. */
export function generateNatRules(
  config: PolicyConfig,
  ifs: InterfaceModel,
  aliases: AliasResolution,
  warnings: PolicyWarning[],
): PfNatRule[] {
  const nat = config.nat;
  if (nat === undefined) return [];
  const out: DraftNat[] = [];
  const gen = new NatGenerator(config, ifs, aliases, warnings);
  if (config.opnsense !== undefined) {
    // OPNsense's priority order (docs/reference/opnsense-rules.md §7): source NAT 50-200, the anti-lockout `no rdr`
    // 300, 1:1 and NPt 500, port forwards 600. pf keeps only the order inside each kind, which this preserves.
    out.push(...gen.outbound());
    out.push(...gen.antiLockoutNoRdr());
    out.push(...gen.oneToOne());
    out.push(...gen.portForwards());
  } else {
    out.push(...gen.oneToOne());
    out.push(...gen.outbound());
    out.push(...gen.portForwards());
  }
  return out.map((rule, index) => ({ index, ...rule }));
}

/** pfSense `interface_has_gateway`: a gateway is set, or the address comes from DHCP/PPP (which bring one). */
function interfaceHasGateway(entry: FilterIf): boolean {
  const v4 = entry.config?.ipv4;
  return v4 !== undefined && (v4.gateway !== undefined || ['dhcp', 'pppoe', 'pptp', 'l2tp'].includes(v4.mode));
}

class NatGenerator {
  /** OPNsense semantics where they differ from pfSense's (docs/adr/0260). */
  private readonly opnsense: OpnsenseSettings | undefined;

  constructor(
    private readonly config: PolicyConfig,
    private readonly ifs: InterfaceModel,
    private readonly aliases: AliasResolution,
    private readonly warnings: PolicyWarning[],
  ) {
    this.opnsense = config.opnsense;
  }

  /** Whether an interface has a gateway of the family (OPNsense: its interface mapping, §7.1). */
  private hasGateway(entry: FilterIf, af: AddressFamily): boolean {
    const known = this.opnsense?.gatewayInterfaces;
    if (known === undefined) return af === 'inet' ? interfaceHasGateway(entry) : entry.config?.ipv6.gateway !== undefined;
    return known[af].includes(entry.key);
  }

  /** OPNsense's interface mapping order: enabled interfaces sorted naturally by description (§3). */
  private opnsenseInterfaces(): FilterIf[] {
    return this.ifs.filterIfs
      .filter((e) => e.kind === 'interface')
      .sort((a, b) => naturalCompare(a.config?.descr ?? a.key, b.config?.descr ?? b.key));
  }

  private get nat() {
    return this.config.nat as NonNullable<PolicyConfig['nat']>;
  }

  private warn(message: string, descr: string): void {
    this.warnings.push(policyWarning('POL045', 'nat', message, { descr }));
  }

  private iface(key: string): FilterIf | undefined {
    const entry = this.ifs.byKey.get(key);
    return entry?.kind === 'interface' ? entry : undefined;
  }

  /**
   * Interfaces that get reflection redirects: every other one without a gateway (`filter_get_reflection_interfaces`,
   * l.1488). OPNsense (ForwardRule.php / DNatRule.php `reflectionInterfaces`): without an IPv4 and an IPv6 gateway,
   * and only those with an address of the rule's family (§7.3).
   */
  private reflectionInterfaces(natif: string, af: AddressFamily = 'inet'): FilterIf[] {
    if (this.opnsense === undefined) {
      return this.ifs.filterIfs.filter((e) => e.kind === 'interface' && e.key !== natif && !interfaceHasGateway(e));
    }
    return this.opnsenseInterfaces().filter(
      (e) =>
        e.key !== natif &&
        !this.hasGateway(e, 'inet') &&
        !this.hasGateway(e, 'inet6') &&
        (af === 'inet' ? e.ipv4 : e.ipv6) !== null,
    );
  }

  /** pf `(<device>)` of an interface: its static address, or the run-time one. */
  private interfaceAddress(entry: FilterIf, af: AddressFamily): PfNatRule['target'] {
    const own = af === 'inet' ? entry.ipv4 : entry.ipv6;
    return own !== null && own !== 'dynamic' ? { kind: 'cidr', cidr: own.address } : { kind: 'interface', interface: entry.key };
  }

  /**
   * `enablenatreflectionhelper` (ForwardRule.php `rdr_nat`, DNatRule.php `nat_refl`): on the forward's interface and
   * each reflection interface, `nat on <if> from (<if>:network) to <target> -> (<if>)`, so reflected replies return
   * through the firewall (§7.3).
   */
  private reflectionHelper(
    list: FilterIf[],
    af: AddressFamily,
    protocols: string[] | null,
    target: string,
    toPort: PortSpec | null,
    origin: PfNatRule['origin'],
  ): DraftNat[] {
    if (this.opnsense === undefined || !this.nat.reflection.helper) return [];
    const withFamily = list.filter((entry) => (af === 'inet' ? entry.ipv4 : entry.ipv6) !== null);
    return withFamily.map((entry) =>
      this.natRule(entry, af, protocols?.join('/') ?? null, { match: { kind: 'interface-network', interface: entry.key }, negate: false }, null, cidrs([target]), toPort, {
        target: null,
        no: false,
        staticPort: false,
        natPort: null,
        origin: { ...origin, kind: 'reflection' },
      }),
    );
  }

  /** OPNsense's anti-lockout `no rdr` (pf.inc `filter_auto_destination_nat`, priority 300, §7.3). */
  antiLockoutNoRdr(): DraftNat[] {
    const opnsense = this.opnsense;
    const lockout = opnsense === undefined ? null : antiLockout(this.config, opnsense, this.ifs);
    if (lockout === null) return [];
    const descr = 'Anti-lockout; prevent redirects for protected ports to this interface address';
    // No family keyword: `(<device>)` stands for the addresses of both families.
    const families = (['inet', 'inet6'] as const).flatMap((af) => {
      const to = this.address({ kind: 'network', value: `${lockout.entry.key}ip`, not: false }, af);
      return to === null ? [] : [{ af, to }];
    });
    return families.flatMap(({ af, to }) => lockout.ports.map((port) => ({
      kind: 'rdr' as const,
      no: true,
      pass: false,
      on: { interfaces: [lockout.entry.key], negate: false },
      af,
      protocols: ['tcp'],
      from: ANY,
      fromPort: null,
      to,
      toPort: { ranges: [{ from: port, to: port }] },
      target: null,
      targetPort: null,
      staticPort: false,
      origin: { kind: 'port-forward' as const, descr },
      text: `no rdr on ${lockout.entry.device} ${af} proto tcp from any to ${specText(to)} port ${port}`,
    })));
  }

  /** `filter_generate_address` for a NAT endpoint: null = unresolvable (reported by the caller). */
  private address(endpoint: RuleEndpoint, af: AddressFamily): AddressSpec | null {
    if (endpoint.kind === 'any') return endpoint.not ? null : ANY;
    const value = endpoint.value ?? '';
    if (endpoint.kind === 'address') {
      if (this.aliases.tables.has(value)) return table(value, endpoint.not);
      const cidr = parseCidr(value);
      if (cidr === null || (cidr.family === 4) !== (af === 'inet')) return null;
      return cidrs([formatCidr(cidr)], endpoint.not);
    }
    if (value === '(self)') return { match: { kind: 'self' }, negate: endpoint.not };
    const ip = /^(.+?)ip$/.exec(value);
    const entry = this.iface(ip?.[1] ?? value);
    if (entry === undefined) return null;
    const family = af === 'inet' ? entry.ipv4 : entry.ipv6;
    if (family === null) return null;
    if (ip !== null) {
      return family === 'dynamic'
        ? { match: { kind: 'interface-address', interface: entry.key }, negate: endpoint.not }
        : cidrs([family.address], endpoint.not);
    }
    return family === 'dynamic'
      ? { match: { kind: 'interface-network', interface: entry.key }, negate: endpoint.not }
      : cidrs([family.network], endpoint.not);
  }

  private ports(text: string | undefined): PortSpec | null | 'bad' {
    if (!text) return null;
    const alias = this.aliases.ports.get(text);
    if (alias !== undefined) return alias;
    const range = parsePortEntry(text);
    return range === null ? 'bad' : { ranges: [range] };
  }

  oneToOne(): DraftNat[] {
    if (this.opnsense !== undefined) return this.oneToOneOpnsense();
    const out: DraftNat[] = [];
    for (const [configIndex, rule] of this.nat.oneToOne.entries()) {
      if (rule.disabled) continue;
      const entry = this.iface(rule.interface);
      const internal = rule.source.kind === 'address' ? parseCidr(rule.source.value ?? '') : null;
      const external = parseCidr(rule.external);
      const to = this.address(rule.destination, rule.ipprotocol);
      if (entry === undefined || internal === null || external === null || to === null || internal.family !== external.family) {
        this.warn(
          `1:1 "${rule.descr}" (#${configIndex + 1}) has an interface, internal, external or destination address the engine cannot resolve; left out`,
          rule.descr,
        );
        continue;
      }
      const internalText = formatCidr(internal);
      const externalText = formatCidr(parseCidr(`${rule.external}/${internal.prefix}`) ?? external);
      const origin = { kind: 'one-to-one' as const, configIndex, descr: rule.descr };
      const base = {
        on: { interfaces: [entry.key], negate: false },
        af: rule.ipprotocol,
        protocols: null,
        fromPort: null,
        toPort: null,
        targetPort: null,
        staticPort: false,
        pass: false,
      };
      const sn = internal.prefix === (internal.family === 4 ? 32 : 128) ? '' : `/${internal.prefix}`;
      if (rule.noBinat) {
        out.push({
          ...base,
          kind: 'binat',
          no: true,
          from: cidrs([internalText]),
          to,
          target: null,
          origin,
          text: `no binat on ${entry.device} ${rule.ipprotocol} from ${internalText} to ${specText(to)}`,
        });
        continue;
      }
      out.push({
        ...base,
        kind: 'binat',
        no: false,
        from: cidrs([internalText]),
        to,
        target: { kind: 'cidr', cidr: externalText },
        origin,
        text: `binat on ${entry.device} ${rule.ipprotocol} from ${hostText(internalText)} to ${specText(to)} -> ${rule.external}${sn}`,
      });
      const reflect = (this.nat.reflection.binat || rule.natReflection === 'enable') && rule.natReflection !== 'disable';
      const list = reflect ? this.reflectionInterfaces(entry.key) : [];
      if (list.length > 0) {
        out.push({
          ...base,
          kind: 'rdr',
          no: false,
          on: { interfaces: list.map((e) => e.key), negate: false },
          from: to,
          to: cidrs([externalText]),
          target: { kind: 'cidr', cidr: internalText },
          origin: { ...origin, kind: 'reflection' },
          text:
            `rdr on { ${list.map((e) => e.device).join(' ')} } ${rule.ipprotocol} from ${specText(to)} ` +
            `to ${rule.external}${sn} -> ${hostText(internalText)} bitmask`,
        });
      }
    }
    return out;
  }

  /**
   * OPNsense 1:1 and NPt (DNatRule.php, NptRule.php, §7.4): `binat` (or a one-way `nat` for type nat) from the
   * internal address to the destination, the external subnet taking the internal one's length; reflection when the
   * entry says `enable` or, without a value, `enablebinatreflection` is set.
   */
  private oneToOneOpnsense(): DraftNat[] {
    const out: DraftNat[] = [];
    for (const [configIndex, rule] of this.nat.oneToOne.entries()) {
      if (rule.disabled) continue;
      const entry = this.iface(rule.interface);
      const internal = rule.source.kind === 'address' && !rule.source.not ? parseCidr(rule.source.value ?? '') : null;
      const af: AddressFamily = internal?.family === 6 ? 'inet6' : 'inet';
      const to = this.address(rule.destination, af);
      const origin = { kind: 'one-to-one' as const, configIndex, descr: rule.descr };
      if (entry === undefined || internal === null || to === null) {
        this.warn(
          `1:1 "${rule.descr}" (#${configIndex + 1}) has an interface, internal or destination address the engine cannot resolve (aliases and negation are not modelled here); left out`,
          rule.descr,
        );
        continue;
      }
      const internalText = formatCidr(internal);
      const sn = internal.prefix === (internal.family === 4 ? 32 : 128) ? '' : `/${internal.prefix}`;
      // DNatRule.php: an external address without a length takes the internal subnet's.
      const externalCidr = rule.external.includes('/') ? parseCidr(rule.external) : parseCidr(`${rule.external}/${internal.prefix}`);
      const external = externalCidr !== null && externalCidr.family === internal.family ? formatCidr(externalCidr) : null;
      const kind = rule.type === 'nat' ? 'nat' : 'binat';
      const base = {
        on: { interfaces: [entry.key], negate: false },
        af,
        protocols: null,
        fromPort: null,
        toPort: null,
        targetPort: null,
        staticPort: false,
        pass: false,
        no: false,
        from: cidrs([internalText]),
        to,
        origin,
      };
      const shown = rule.external === '' ? `(${entry.device}:0)${sn}` : hostText(external ?? rule.external);
      const text = `${kind} on ${entry.device}${kind === 'binat' && internal.family === 6 ? ' inet6' : ''} from ${hostText(internalText)} to ${specText(to)} -> ${shown}`;
      if (external === null) {
        // NPt without an external prefix takes it from the interface at run time; anything else is malformed.
        const why = rule.external === '' ? 'is taken from the interface at run time' : `"${rule.external}" is not an address of the internal family`;
        this.warn(`1:1 / NPt "${rule.descr}" (#${configIndex + 1}): the external address ${why}; answers it translates are unknown`, rule.descr);
        out.push({ ...base, kind, target: null, text });
        continue;
      }
      out.push({ ...base, kind, target: { kind: 'cidr', cidr: external }, text });
      const reflect = rule.natReflection === 'enable' || (rule.natReflection === undefined && this.nat.reflection.binat);
      const list = reflect ? this.reflectionInterfaces(entry.key, af) : [];
      if (list.length > 0) {
        out.push({
          ...base,
          kind: 'rdr',
          on: { interfaces: list.map((e) => e.key), negate: false },
          from: to,
          to: cidrs([external]),
          target: { kind: 'cidr', cidr: internalText },
          origin: { ...origin, kind: 'reflection' },
          text: `rdr on { ${list.map((e) => e.device).join(' ')} } from ${specText(to)} to ${hostText(external)} -> ${hostText(internalText)} bitmask`,
        });
      }
      out.push(...this.reflectionHelper([...this.reflectionInterfaces(entry.key, af), entry], af, null, internalText, null, origin));
    }
    return out;
  }

  outbound(): DraftNat[] {
    const { mode, rules } = this.nat.outbound;
    const out: DraftNat[] = [];
    if (mode === 'advanced' || mode === 'hybrid') {
      for (const [configIndex, rule] of rules.entries()) {
        if (rule.disabled) continue;
        const entry = this.iface(rule.interface);
        const origin = { kind: 'outbound' as const, configIndex, descr: rule.descr };
        const af: AddressFamily = rule.ipprotocol ?? (rule.source.includes(':') || rule.target.includes(':') ? 'inet6' : 'inet');
        const from = this.outboundAddress(rule.source, rule.sourceNot === true, af);
        const to = this.outboundAddress(rule.destination, rule.destinationNot, af);
        const fromPort = this.ports(rule.sourcePort);
        const toPort = this.ports(rule.destinationPort);
        const opnsenseTarget = this.opnsense !== undefined && entry !== undefined && !rule.noNat ? this.opnsenseTarget(rule.target, af) : undefined;
        const target =
          rule.target === '' || opnsenseTarget !== undefined
            ? null
            : parseCidr(rule.targetSubnet === undefined ? rule.target : `${rule.target}/${rule.targetSubnet}`);
        const unresolved =
          entry === undefined || from === null || to === null || fromPort === 'bad' || toPort === 'bad';
        if (opnsenseTarget?.target === null) {
          this.warn(
            `outbound NAT rule "${rule.descr}" (#${configIndex + 1}) translates to alias "${rule.target}", whose addresses are not one known address (a pool or run-time contents); answers it translates are unknown`,
            rule.descr,
          );
        }
        if (unresolved || (rule.target !== '' && target === null && opnsenseTarget === undefined)) {
          this.warn(
            `outbound NAT rule "${rule.descr}" (#${configIndex + 1}) has an interface, address, port or target the engine cannot resolve (aliases as targets are not modelled); left out`,
            rule.descr,
          );
          continue;
        }
        const natPort = rule.natPort ? Number(rule.natPort) : null;
        out.push(
          this.natRule(entry, af, rule.protocol ?? null, from, fromPort, to, toPort, {
            target: target === null ? null : formatCidr(target),
            no: rule.noNat,
            staticPort: rule.staticPort,
            natPort: Number.isInteger(natPort) ? natPort : null,
            origin,
            ...(opnsenseTarget !== undefined ? { resolved: opnsenseTarget } : {}),
          }),
        );
      }
    }
    if (mode === 'automatic' || mode === 'hybrid') out.push(...(this.opnsense ? this.automaticOpnsense() : this.automatic()));
    return out;
  }

  /**
   * An OPNsense outbound target other than the rule interface's own address (SNatRule.php, §7.2): `<if>ip` is that
   * interface's address, an alias is a round-robin pool (one known address, or unknown: `target` null). Undefined =
   * a literal address or empty, handled as pfSense's.
   */
  private opnsenseTarget(value: string, af: AddressFamily): { target: PfNatRule['target']; shown: string } | undefined {
    const ipOf = /^(wan|lan|opt[0-9]+)ip$/.exec(value)?.[1];
    const other = ipOf === undefined ? undefined : this.iface(ipOf);
    if (other !== undefined) return { target: this.interfaceAddress(other, af), shown: `(${other.device}:0)` };
    const alias = this.aliases.tables.get(value);
    if (alias === undefined) return undefined;
    const known = alias.cidrs.filter((c) => c.includes(':') === (af === 'inet6'));
    const single = !alias.dynamic && known.length === 1 ? (known[0] as string) : null;
    return { target: single === null ? null : { kind: 'cidr', cidr: single }, shown: `$${value}` };
  }

  /**
   * OPNsense's automatic rules (filter.inc l.208-226, filter.lib.inc `filter_auto_source_nat`, pf.inc
   * `pf_get_default_nat_outbound_networks`, §7.2): on every interface with an IPv4 gateway (not OpenVPN), first
   * ISAKMP with static port then everything, each from every interface network without a gateway and from
   * 127.0.0.0/8, IPv4 only, to the interface address with `port 1024:65535`.
   */
  private automaticOpnsense(): DraftNat[] {
    const mapping = this.opnsenseInterfaces();
    const networks: AddressSpec[] = [
      ...mapping
        .filter((e) => e.ipv4 !== null && !this.hasGateway(e, 'inet'))
        .map((e): AddressSpec => ({ match: { kind: 'interface-network', interface: e.key }, negate: false })),
      cidrs(['127.0.0.0/8']),
    ];
    const out: DraftNat[] = [];
    for (const entry of mapping) {
      if (!this.hasGateway(entry, 'inet') || entry.device.startsWith('ovpn')) continue;
      const isakmp: PortSpec = { ranges: [{ from: 500, to: 500 }] };
      for (const [staticPort, dstPort] of [
        [true, isakmp],
        [false, null],
      ] as const) {
        for (const from of networks) {
          out.push(
            this.natRule(entry, 'inet', null, from, null, ANY, dstPort, {
              target: null,
              no: false,
              staticPort,
              natPort: null,
              origin: { kind: 'outbound-automatic', descr: 'Automatic outbound rule' },
            }),
          );
        }
      }
    }
    return out;
  }

  private outboundAddress(value: string, negate: boolean, af: AddressFamily): AddressSpec | null {
    if (value === 'any' || value === '') return negate ? null : ANY;
    return this.address({ kind: 'address', value, not: negate }, af) ?? this.address({ kind: 'network', value, not: negate }, af);
  }

  /**
   * The automatic rules (`filter_nat_rules_outbound_automatic`, l.1982): per interface with a gateway (not OpenVPN
   * or IPsec), ISAKMP with static port, then everything else, from the internal subnets (`tonathosts`, l.1838).
   */
  private automatic(): DraftNat[] {
    const hosts = ['127.0.0.0/8', '::1/128'];
    for (const entry of this.ifs.filterIfs) {
      if (entry.kind !== 'interface' || interfaceHasGateway(entry)) continue;
      if (entry.ipv4 !== null && entry.ipv4 !== 'dynamic') hosts.push(entry.ipv4.network);
    }
    if (this.config.vpn.openvpn.some((o) => !o.disabled)) {
      this.warn('automatic outbound NAT: OpenVPN tunnel networks are not in the model, so traffic from them is not translated here', 'tonathosts');
    }
    const macro = hosts.length > 4 ? '<tonatsubnets>' : '$tonatsubnets';
    // l.2563-2572: the subnets become a macro (up to 4) or a table, written before the first automatic rule.
    let definition =
      hosts.length > 4 ? `table <tonatsubnets> { ${hosts.join(' ')} }\n` : `tonatsubnets\t= "{ ${hosts.join(' ')} }"\n`;
    const out: DraftNat[] = [];
    for (const entry of this.ifs.filterIfs) {
      if (entry.kind !== 'interface' || !interfaceHasGateway(entry)) continue;
      if (entry.device.startsWith('ovpn') || entry.device.startsWith('ipsec')) continue;
      const isakmp: PortSpec = { ranges: [{ from: 500, to: 500 }] };
      for (const [staticPort, descr, dstPort] of [
        [true, 'Auto created rule for ISAKMP', isakmp],
        [false, 'Auto created rule', null],
      ] as const) {
        // The source is a macro, so filter_nat_rules_generate_if writes one rule per family (l.2040-2056).
        for (const af of ['inet', 'inet6'] as const) {
          const family = hosts.filter((h) => h.includes(':') === (af === 'inet6'));
          const rule = this.natRule(entry, af, null, cidrs(family), null, ANY, dstPort, {
            target: null,
            no: false,
            staticPort,
            natPort: null,
            origin: { kind: 'outbound-automatic', descr },
          });
          out.push({ ...rule, text: definition + rule.text.replace(` from ${specText(cidrs(family))} `, ` from ${macro} `) });
          definition = '';
        }
      }
    }
    return out;
  }

  /** `filter_nat_rules_generate_if` (l.2023): one `nat` line; an empty target is the interface's address. */
  private natRule(
    entry: FilterIf,
    af: AddressFamily,
    protocol: string | null,
    from: AddressSpec,
    fromPort: PortSpec | null,
    to: AddressSpec,
    toPort: PortSpec | null,
    how: {
      target: string | null;
      no: boolean;
      staticPort: boolean;
      natPort: number | null;
      origin: PfNatRule['origin'];
      /** A target resolved by the caller (null = not known), with its pf text. */
      resolved?: { target: PfNatRule['target']; shown: string };
    },
  ): DraftNat {
    const { target, no, staticPort, natPort, origin } = how;
    const own = af === 'inet' ? entry.ipv4 : entry.ipv6;
    const resolved: PfNatRule['target'] =
      how.resolved !== undefined
        ? how.resolved.target
        : target !== null
          ? { kind: 'cidr', cidr: target }
          : own !== null && own !== 'dynamic'
            ? { kind: 'cidr', cidr: own.address }
            : { kind: 'interface', interface: entry.key };
    const targetText =
      how.resolved !== undefined
        ? how.resolved.shown
        : resolved?.kind === 'cidr'
          ? resolved.cidr
          : `(${entry.device}${this.opnsense ? ':0' : ''})`;
    const protocols = protocol === null ? null : protocol === 'tcp/udp' ? ['tcp', 'udp'] : [protocol];
    const protoText = protocols === null ? '' : protocols.length > 1 ? ` proto { ${protocols.join(' ')} }` : ` proto ${protocols[0]}`;
    const portText = staticPort ? '' : natPort !== null ? ` port ${natPort}` : ' port 1024:65535';
    const src = `${specText(from)}${fromPort ? ` port ${portsText(fromPort)}` : ''}`;
    const dst = `${specText(to)}${toPort ? ` port ${portsText(toPort)}` : ''}`;
    const descr = origin.kind === 'outbound' && origin.descr ? ` # ${origin.descr}` : '';
    const on = this.opnsense === undefined ? `$${entry.macro}` : entry.device;
    const text = no
      ? `no nat on ${on} ${af}${protoText} from ${src} to ${dst}${descr}`
      : `nat on ${on} ${af}${protoText} from ${src} to ${dst} -> ${targetText}${portText} ${staticPort ? ' static-port' : ''}${descr}`;
    return {
      kind: 'nat',
      no,
      pass: false,
      on: { interfaces: [entry.key], negate: false },
      af,
      protocols,
      from,
      fromPort,
      to,
      toPort,
      target: no ? null : resolved,
      targetPort: natPort,
      staticPort,
      origin,
      text,
    };
  }

  /** Port forwards (`<nat><rule>`, l.2626-2900): `rdr [pass] on <device>`, plus pure-NAT reflection on the other interfaces. */
  portForwards(): DraftNat[] {
    const out: DraftNat[] = [];
    const system = this.nat.reflection;
    for (const [configIndex, rule] of this.nat.portForwards.entries()) {
      if (rule.disabled) continue;
      const entry = this.iface(rule.interface);
      const af = rule.ipprotocol;
      const from = this.address(rule.source, af);
      const to = this.address(rule.destination, af);
      const protocols = rule.protocol === 'any' ? null : rule.protocol === 'tcp/udp' ? ['tcp', 'udp'] : [rule.protocol];
      const portsApply = protocols !== null && protocols.every((p) => p === 'tcp' || p === 'udp');
      const fromPort = portsApply ? this.ports(rule.source.port) : null;
      const toPort = portsApply ? this.ports(rule.destination.port) : null;
      const pool = this.opnsense !== undefined && !rule.noRdr ? this.forwardPool(rule.target, af) : undefined;
      const target = pool !== undefined ? null : this.forwardTarget(rule.target, af);
      const localPort = portsApply && rule.localPort ? parsePortEntry(rule.localPort) : null;
      const origin = { kind: 'port-forward' as const, configIndex, descr: rule.descr };
      if (pool !== undefined && entry !== undefined) {
        this.warn(
          `port forward "${rule.descr}" (#${configIndex + 1}) redirects to ${pool}, which is not one known address (a pool or run-time contents); answers it redirects are unknown`,
          rule.descr,
        );
      }
      if (entry === undefined || from === null || to === null || fromPort === 'bad' || toPort === 'bad' || (target === null && !rule.noRdr && pool === undefined)) {
        this.warn(
          `port forward "${rule.descr}" (#${configIndex + 1}) has an interface, address, port or target the engine cannot resolve; left out`,
          rule.descr,
        );
        continue;
      }
      const first = toPort?.ranges[0]?.from ?? null;
      const targetPort = localPort !== null && localPort.from !== first ? localPort.from : null;
      const pass = rule.associatedRuleId === 'pass' && !rule.noRdr;
      const protoText = protocols === null ? '' : protocols.length > 1 ? ' proto { tcp udp }' : ` proto ${protocols[0]}`;
      const src = `${specText(from)}${fromPort ? ` port ${portsText(fromPort)}` : ''}`;
      const dst = `${specText(to)}${toPort ? ` port ${portsText(toPort)}` : ''}`;
      // A range keeps its length: `port 8000:8010 -> … port 9000:9010` (l.2661-2670).
      const range = toPort?.ranges[0];
      const end = range && targetPort !== null && range.to !== range.from ? `:${targetPort + range.to - range.from}` : '';
      const local = targetPort !== null ? ` port ${targetPort}${end}` : '';
      const arrow = rule.noRdr ? '' : ` -> ${pool ?? hostText(target as string)}${local}`;
      const base: DraftNat = {
        kind: 'rdr',
        no: rule.noRdr,
        pass,
        on: { interfaces: [entry.key], negate: false },
        af,
        protocols,
        from,
        fromPort,
        to,
        toPort,
        target: rule.noRdr || target === null ? null : { kind: 'cidr', cidr: target },
        targetPort,
        staticPort: false,
        origin,
        text: `${rule.noRdr ? 'no ' : ''}rdr ${pass ? 'pass ' : ''}on ${entry.device} ${af}${protoText} from ${src} to ${dst}${arrow}`,
      };
      out.push(base);
      if (this.opnsense !== undefined) {
        if (!rule.noRdr) out.push(...this.opnsenseReflection(rule, entry, base, target, localPort && targetPort !== null ? { from: targetPort, to: targetPort + (range ? range.to - range.from : 0) } : null));
        continue;
      }
      // Reflection (l.2784-2900): pure NAT repeats the rdr on the internal interfaces; NAT + proxy hands the
      // connection to a proxy on 127.0.0.1 (not modelled: answers reaching it are unknown).
      const toAddress = base.to.match.kind === 'cidrs' ? base.to.match.cidrs[0] : undefined;
      let type: 'none' | 'proxy' | 'purenat' = 'none';
      if (rule.natReflection !== 'disable' && toAddress !== '0.0.0.0/32' && toAddress !== '::/128') {
        if (rule.natReflection === 'enable') type = 'proxy';
        else if (rule.natReflection === 'purenat') type = 'purenat';
        else if (!system.disabled) type = system.pureNat ? 'purenat' : 'proxy';
      }
      const list = type === 'none' ? [] : this.reflectionInterfaces(entry.key);
      if (list.length === 0 || rule.noRdr) continue;
      if (type === 'proxy' && !protocols?.every((p) => p === 'tcp')) {
        // The proxy handles TCP only; filter.inc writes no reflection for other protocols in proxy mode.
        continue;
      }
      // l.2865: the reflected rdr keeps "rdr pass" when the forward has it.
      const reflected: DraftNat = {
        ...base,
        on: { interfaces: list.map((e) => e.key), negate: false },
        target: type === 'proxy' ? null : base.target,
        origin: { ...origin, kind: 'reflection' },
        text:
          type === 'proxy'
            ? `# NAT reflection (NAT + proxy) for "${rule.descr}" on { ${list.map((e) => e.device).join(' ')} }: ` +
              'redirected to a proxy on 127.0.0.1 (not modelled)'
            : `rdr ${pass ? 'pass ' : ''}on { ${list.map((e) => e.device).join(' ')} } ${af}${protoText} from ${src} to ${dst}${arrow}`,
      };
      out.push(reflected);
    }
    return out;
  }

  /**
   * OPNsense reflection (ForwardRule.php `parseRdrRules`, §7.3): always pure NAT — the same rdr on every reflection
   * interface with an address of the family — when the forward says `enable` / `purenat`, or says nothing and
   * `disablenatreflection` is not set; with `enablenatreflectionhelper`, a `nat` on the forward's interface and on
   * each reflection interface.
   */
  private opnsenseReflection(
    rule: PortForwardConfig,
    entry: FilterIf,
    base: DraftNat,
    target: string | null,
    local: { from: number; to: number } | null,
  ): DraftNat[] {
    const on = rule.natReflection === undefined ? !this.nat.reflection.disabled : rule.natReflection !== 'disable';
    const list = on ? this.reflectionInterfaces(entry.key, base.af) : [];
    const out: DraftNat[] = [];
    if (list.length > 0) {
      const devices = list.map((e) => e.device).join(' ');
      out.push({
        ...base,
        on: { interfaces: list.map((e) => e.key), negate: false },
        origin: { ...base.origin, kind: 'reflection' },
        text: base.text.replace(` on ${entry.device} `, ` on { ${devices} } `),
      });
    }
    if (target !== null && (entry.ipv4 !== null || entry.ipv6 !== null)) {
      const toPort = local === null ? base.toPort : { ranges: [local] };
      out.push(...this.reflectionHelper([entry, ...list], base.af, base.protocols, target, toPort, base.origin));
    }
    return out;
  }

  /** OPNsense `<target>` that is a pool (an alias without exactly one known host, or a subnet): its pf text. */
  private forwardPool(value: string, af: AddressFamily): string | undefined {
    const alias = this.aliases.tables.get(value);
    if (alias !== undefined) {
      const known = alias.cidrs.filter((c) => c.includes(':') === (af === 'inet6'));
      const host = known.length === 1 && /\/(32|128)$/.test(known[0] as string);
      return !alias.dynamic && host ? undefined : `$${value}`;
    }
    const cidr = parseCidr(value);
    return cidr !== null && value.includes('/') && cidr.prefix !== (cidr.family === 4 ? 32 : 128) ? value : undefined;
  }

  /** `<target>`: an IP, or a host alias with one known address (pfSense uses the alias's first address). */
  private forwardTarget(value: string, af: AddressFamily): string | null {
    const alias = this.aliases.tables.get(value);
    const candidate = alias !== undefined ? (alias.dynamic ? undefined : alias.cidrs.find((c) => c.includes(':') === (af === 'inet6'))) : value;
    const cidr = candidate === undefined ? null : parseCidr(candidate);
    if (cidr === null || (cidr.family === 4) !== (af === 'inet') || cidr.prefix !== (cidr.family === 4 ? 32 : 128)) return null;
    return formatCidr(cidr);
  }
}

function hostText(cidr: string): string {
  return cidr.replace(/\/(32|128)$/, '');
}

function specText(spec: AddressSpec): string {
  const not = spec.negate ? '! ' : '';
  const m = spec.match;
  switch (m.kind) {
    case 'any':
      return 'any';
    case 'cidrs':
      return `${not}${m.cidrs.length === 1 ? hostText(m.cidrs[0] as string) : `{ ${m.cidrs.map(hostText).join(' ')} }`}`;
    case 'table':
      return `${not}$${m.table}`;
    case 'self':
      return `${not}(self)`;
    case 'interface-address':
      return `${not}(${m.interface})`;
    case 'interface-network':
      return `${not}(${m.interface}:network)`;
  }
}

function portsText(spec: PortSpec): string {
  if (spec.alias !== undefined) return `$${spec.alias}`;
  const one = (r: { from: number; to: number }) => (r.from === r.to ? `${r.from}` : `${r.from}:${r.to}`);
  return spec.ranges.length === 1 ? one(spec.ranges[0] as { from: number; to: number }) : `{ ${spec.ranges.map(one).join(' ')} }`;
}
