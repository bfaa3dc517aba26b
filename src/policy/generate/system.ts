/**
 * @module The rules pfSense 2.7.2 generates around the user rules (filter.inc `filter_rules_generate`,
 * l.3720-4240, and `filter_generate_ipsec_rules`, l.4659-4824), in its order and with its tracker numbering
 * (docs/adr/0033, 0034, 0035). Scrub, NAT, anchors, captive portal, static-route bypass and package rules are not
 * generated; the importer reports the sections that would add them.
 */
import { formatCidr, parseCidr } from '../../net/ip.ts';
import type { AddressSpec, PfRule, PfTable, PolicyConfig, PolicyWarning, SystemRuleKey } from '../model.ts';
import { policyWarning } from '../warnings.ts';
import type { FamilyAddress, FilterIf, InterfaceModel } from './interfaces.ts';
import { vipCidrs } from './interfaces.ts';
import { ANY, cidrs, type DraftRule, draftRule, type RuleFields, systemOrigin, table } from './rule.ts';

/** filter.inc `TRACKER_DEFAULT` and the fixed tracker ranges (l.113-140). */
const TRACKER_DEFAULT = 1_000_000_000;
const ANTILOCKOUT_TRACKER_START = 10_000;
const BOGONS_TRACKER_START = 11_000;
const RFC1918_TRACKER_START = 12_000;

/** pf label limit and the truncation filter.inc applies (`fix_rule_label`, l.183). */
const PFLABEL_MAXLEN = 63;

/** `fix_rule_label`: strip double quotes, cut to 63 characters ending in `...`. */
export function fixRuleLabel(text: string): string {
  const stripped = text.replaceAll('"', '');
  return stripped.length > PFLABEL_MAXLEN ? `${stripped.slice(0, PFLABEL_MAXLEN - 3)}...` : stripped;
}

const ICMP6_REQUIRED = ['1', '2', '135', '136'];
const ICMP6_OUT = ['129', '133', '134', '135', '136'];
const ICMP6_IN = ['128', '133', '134', '135', '136'];

const PRIVATE_BLOCKS: Array<[string, string]> = [
  ['10.0.0.0/8', 'Block private networks from %s block 10/8'],
  ['127.0.0.0/8', 'Block private networks from %s block 127/8'],
  ['172.16.0.0/12', 'Block private networks from %s block 172.16/12'],
  ['192.168.0.0/16', 'Block private networks from %s block 192.168/16'],
  ['fc00::/7', 'Block ULA networks from %s block fc00::/7'],
];

/** Generates the system rules that precede the user rules. */
export function generateSystemRules(
  config: PolicyConfig,
  ifs: InterfaceModel,
  warnings: PolicyWarning[],
): { before: DraftRule[]; after: DraftRule[]; tables: PfTable[] } {
  const system = new SystemRules(config, ifs, warnings);
  const before = system.generate();
  const after = system.afterUserRules();
  return { before, after, tables: [...system.dynamicTables.values()] };
}

/** The run-time table standing for an IPsec peer given by DNS name (printed `<ipsec_peer_vpn.example.com>`). */
function dnsPeerTable(hostname: string): string {
  return `${DNS_PEER_TABLE_PREFIX}${hostname.toLowerCase()}`;
}

export const DNS_PEER_TABLE_PREFIX = 'ipsec_peer_';

function isHostname(value: string): boolean {
  return /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(value);
}

class SystemRules {
  private readonly out: DraftRule[] = [];
  /** Tables the generated rules use whose contents are known only at run time (DNS-named IPsec peers). */
  readonly dynamicTables = new Map<string, PfTable>();
  private tracker = TRACKER_DEFAULT;
  private saved = TRACKER_DEFAULT;
  private antilockoutTracker = ANTILOCKOUT_TRACKER_START;
  private bogonsTracker = BOGONS_TRACKER_START;
  private rfc1918Tracker = RFC1918_TRACKER_START;
  private readonly logBlock: boolean;
  private readonly logPass: boolean;
  private readonly ipv6: boolean;

  constructor(
    private readonly config: PolicyConfig,
    private readonly ifs: InterfaceModel,
    private readonly warnings: PolicyWarning[],
  ) {
    this.logBlock = config.system.logDefaultBlock;
    this.logPass = config.system.logDefaultPass;
    this.ipv6 = config.system.ipv6Allow;
  }

  /** `$saved_tracker += step; $tracker = $saved_tracker;` */
  private step(by: number): void {
    this.saved += by;
    this.tracker = this.saved;
  }

  private emit(
    key: SystemRuleKey,
    descr: string,
    fields: Omit<RuleFields, 'origin'>,
    ridentifier: number | null,
  ): void {
    const id = ridentifier === null ? null : String(ridentifier);
    this.out.push(draftRule({ ...fields, origin: systemOrigin(key, descr), tracker: id, ridentifier: id }));
  }

  /** A rule numbered with `filter_rule_tracker()` (pre-increment). */
  private next(key: SystemRuleKey, descr: string, fields: Omit<RuleFields, 'origin'>): void {
    this.tracker += 1;
    this.emit(key, descr, fields, this.tracker);
  }

  generate(): DraftRule[] {
    const { system } = this.config;
    const block = { action: 'block', log: this.logBlock } as const;
    const pass = { action: 'pass', log: this.logPass } as const;
    const loopback = this.on(['lo0']);

    if (!this.ipv6) {
      for (const direction of ['in', 'out'] as const) {
        this.next('ipv6-loopback', 'pass IPv6 loopback', {
          ...pass,
          direction,
          quick: true,
          on: loopback,
          af: 'inet6',
          label: 'pass IPv6 loopback',
        });
      }
      for (const direction of ['in', 'out'] as const) {
        this.next('ipv6-block-all', 'Block all IPv6', {
          ...block,
          direction,
          quick: true,
          af: 'inet6',
          label: 'Block all IPv6',
        });
      }
    }
    this.step(100);
    if (!system.noApipaBlock) {
      this.next('ipv4-link-local', 'Block IPv4 link-local', {
        ...block,
        direction: 'in',
        quick: true,
        from: cidrs(['169.254.0.0/16']),
        af: 'inet',
        label: 'Block IPv4 link-local',
      });
      this.next('ipv4-link-local', 'Block IPv4 link-local', {
        ...block,
        direction: 'in',
        quick: true,
        to: cidrs(['169.254.0.0/16']),
        af: 'inet',
        label: 'Block IPv4 link-local',
      });
    }
    for (const [af, label] of [
      ['inet', 'Default deny rule IPv4'],
      ['inet6', 'Default deny rule IPv6'],
    ] as const) {
      for (const direction of ['in', 'out'] as const) {
        this.next('default-deny', label, { ...block, direction, af, label });
      }
    }
    if (this.ipv6) {
      const icmp6 = { ...pass, quick: true, af: 'inet6' as const, protocols: ['ipv6-icmp'] };
      this.next('icmp6-required', 'IPv6 ICMP required for operation', {
        ...icmp6,
        icmpTypes: ICMP6_REQUIRED,
      });
      const essential: Array<['in' | 'out', string, string, string[]]> = [
        ['out', 'fe80::/10', 'fe80::/10', ICMP6_OUT],
        ['out', 'fe80::/10', 'ff02::/16', ICMP6_OUT],
        ['in', 'fe80::/10', 'fe80::/10', ICMP6_IN],
        ['in', 'ff02::/16', 'fe80::/10', ICMP6_IN],
        ['in', 'fe80::/10', 'ff02::/16', ICMP6_IN],
        ['in', '::/128', 'ff02::/16', ICMP6_IN],
      ];
      for (const [direction, from, to, types] of essential) {
        this.next('icmp6-essential', 'Allow only bare essential ICMPv6 packets', {
          ...icmp6,
          direction,
          from: cidrs([from]),
          to: cidrs([to]),
          icmpTypes: types,
        });
      }
    }
    for (const af of this.ipv6 ? (['inet', 'inet6'] as const) : (['inet'] as const)) {
      const port0 = { ...block, quick: true, af, protocols: ['tcp', 'udp'] };
      this.next('port-0', 'Block traffic from port 0', {
        ...port0,
        fromPort: { ranges: [{ from: 0, to: 0 }] },
        label: 'Block traffic from port 0',
      });
      this.next('port-0', 'Block traffic to port 0', {
        ...port0,
        toPort: { ranges: [{ from: 0, to: 0 }] },
        label: 'Block traffic to port 0',
      });
    }
    this.next('snort2c', 'Block snort2c hosts', {
      ...block,
      quick: true,
      from: table('snort2c'),
      label: 'Block snort2c hosts',
    });
    this.next('snort2c', 'Block snort2c hosts', {
      ...block,
      quick: true,
      to: table('snort2c'),
      label: 'Block snort2c hosts',
    });

    this.step(100);
    if (this.config.virtualIps.some((vip) => vip.mode === 'carp')) {
      this.next('carp', 'CARP', {
        ...block,
        direction: 'in',
        quick: true,
        protocols: ['carp'],
        from: { match: { kind: 'self' }, negate: false },
      });
      this.next('carp', 'CARP', { ...pass, quick: true, protocols: ['carp'], state: 'none' });
    }

    this.step(100);
    const self: AddressSpec = { match: { kind: 'self' }, negate: false };
    const sshPort = system.ssh.port ?? 22;
    this.next('sshguard', 'sshguard', {
      ...block,
      direction: 'in',
      quick: true,
      protocols: ['tcp'],
      from: table('sshguard'),
      to: self,
      toPort: { ranges: [{ from: sshPort, to: sshPort }] },
      label: 'sshguard',
    });
    this.step(50);
    const guiPort = system.webgui.port ?? (system.webgui.protocol === 'http' ? 80 : 443);
    this.next('gui-lockout', 'GUI Lockout', {
      ...block,
      direction: 'in',
      quick: true,
      protocols: ['tcp'],
      from: table('sshguard'),
      to: self,
      toPort: { ranges: [{ from: guiPort, to: guiPort }] },
      label: 'GUI Lockout',
    });
    this.step(100);
    this.emit(
      'virusprot',
      'virusprot overload table',
      { ...block, direction: 'in', quick: true, from: table('virusprot'), label: 'virusprot overload table' },
      1_000_000_400,
    );

    for (const entry of this.ifs.filterIfs) this.perInterface(entry, block, pass);

    this.step(10);
    for (const [af, label] of this.ipv6
      ? ([
          ['inet', 'pass IPv4 loopback'],
          ['inet6', 'pass IPv6 loopback'],
        ] as const)
      : ([['inet', 'pass IPv4 loopback']] as const)) {
      for (const direction of ['in', 'out'] as const) {
        this.next('loopback', label, { ...pass, direction, on: loopback, af, label, state: 'keep' });
      }
    }
    for (const [af, label] of this.ipv6
      ? ([
          ['inet', 'let out anything IPv4 from firewall host itself'],
          ['inet6', 'let out anything IPv6 from firewall host itself'],
        ] as const)
      : ([['inet', 'let out anything IPv4 from firewall host itself']] as const)) {
      this.next('let-out-anything', label, { ...pass, direction: 'out', af, allowOpts: true, label });
    }

    this.step(100);
    for (const entry of this.ifs.filterIfs) this.routeToRules(entry, pass);

    this.step(300);
    if (this.config.vpn.ipsec) {
      // filter.inc writes two ridentifiers here; pfctl keeps the last one.
      this.tracker += 1;
      this.next('ipsec-internal', 'IPsec internal host to host', {
        ...pass,
        direction: 'out',
        on: this.on(this.ifs.byKey.get('enc0')?.leaves ?? ['enc0'], 'enc0'),
        label: 'IPsec internal host to host',
      });
    }

    this.step(10);
    this.antiLockout(pass);

    this.step(10);
    if (this.config.natReflection) {
      this.next('nat-reflection', 'NAT REFLECT: Allow traffic to localhost', {
        ...pass,
        direction: 'in',
        af: 'inet',
        tagged: { tag: 'PFREFLECT', negate: false },
        label: 'NAT REFLECT: Allow traffic to localhost',
      });
    }
    return this.out;
  }

  /**
   * The generated rules after the user rules: the IPsec service passes of `filter_generate_ipsec_rules`
   * (l.4659-4824), all non-quick: IKE and NAT-T in from each peer to `(self)` and out to it, ESP/AH when a phase 2
   * uses them. Mobile and 0.0.0.0 peers get the inbound rules from any and no outbound ones. Static-route bypass,
   * tftp-proxy and miniupnpd are not generated.
   */
  afterUserRules(): DraftRule[] {
    const out: DraftRule[] = [];
    this.step(10); // captive portal
    this.step(100); // static-route bypass
    this.step(100_000);
    const peers = this.config.vpn.ipsecPeers ?? [];
    if (!this.config.vpn.ipsec || this.config.vpn.disableVpnRules || peers.length === 0) return out;
    const pass = { action: 'pass', log: this.logPass } as const;
    const self: AddressSpec = { match: { kind: 'self' }, negate: false };
    for (const peer of peers) {
      this.tracker += 10;
      if (peer.disabled) continue;
      const entry = this.ifs.byKey.get(peer.interface);
      if (entry === undefined || entry.kind !== 'interface') {
        this.warnings.push(
          policyWarning(
            'POL043',
            'config',
            `IPsec peer "${peer.descr}" is bound to "${peer.interface}", which is not an enabled interface; its service rules are left out`,
          ),
        );
        continue;
      }
      let remote: AddressSpec = ANY;
      let passOut = !peer.mobile;
      if (!peer.mobile) {
        const cidr = peer.remoteGateway === undefined ? null : parseCidr(peer.remoteGateway);
        if (cidr === null && peer.remoteGateway !== undefined && isHostname(peer.remoteGateway)) {
          // pfSense resolves the name at each filter reload and writes the address (ipsec.inc
          // ipsec_get_phase1_dst): the peer is a run-time set, so answers about it are unknown until a facts
          // file names the address (docs/adr/0152-honest-inputs-and-runtime-facts.md).
          this.warnings.push(
            policyWarning(
              'POL043',
              'config',
              `IPsec peer "${peer.descr}" has remote gateway "${peer.remoteGateway}", resolved by DNS at run time; traffic to and from it is unknown unless --facts resolves the name`,
            ),
          );
          const name = dnsPeerTable(peer.remoteGateway);
          this.dynamicTables.set(name, { name, cidrs: [], dynamic: true, source: 'system', descr: `IPsec peer ${peer.remoteGateway}` });
          remote = table(name);
        } else if (cidr === null) {
          this.warnings.push(
            policyWarning(
              'POL043',
              'config',
              `IPsec peer "${peer.descr}" has no usable remote gateway "${peer.remoteGateway ?? ''}"; its service rules are left out`,
            ),
          );
          continue;
        } else {
          const text = formatCidr(cidr);
          passOut = text !== '0.0.0.0/32' && text !== '::/128';
          remote = cidrs([passOut ? text : text.includes(':') ? '::/0' : '0.0.0.0/0']);
        }
      }
      const descr = (peer.descr || (peer.remoteGateway ?? 'any')).slice(0, 35);
      const iface = entry.config;
      const gateway =
        remote.match.kind === 'cidrs' && remote.match.cidrs[0]?.includes(':')
          ? iface?.ipv6.gateway
          : iface?.ipv4.gateway;
      const routeTo = gateway ? `route-to ( ${entry.device} ${gateway} )` : undefined;
      const replyTo = gateway ? `reply-to ( ${entry.device} ${gateway} )` : undefined;
      const rule = (direction: 'in' | 'out', protocol: string, port: number | null, what: string) => {
        const inbound = direction === 'in';
        const label = `IPsec: ${descr} - ${inbound ? 'inbound' : 'outbound'} ${what}`;
        this.tracker += 1;
        out.push(
          draftRule({
            ...pass,
            direction,
            ...(inbound ? { on: this.on(entry.leaves) } : {}),
            ...((inbound ? replyTo : routeTo) ? { routing: inbound ? replyTo : routeTo } : {}),
            protocols: [protocol],
            from: inbound ? remote : self,
            to: inbound ? self : remote,
            ...(port === null ? {} : { toPort: { ranges: [{ from: port, to: port }] } }),
            label,
            origin: systemOrigin('ipsec-service', label),
            tracker: String(this.tracker),
            ridentifier: String(this.tracker),
          }),
        );
      };
      if (passOut) rule('out', 'udp', peer.ikePort ?? 500, 'isakmp');
      rule('in', 'udp', 500, 'isakmp');
      if (passOut) rule('out', 'udp', peer.nattPort ?? 4500, 'nat-t');
      rule('in', 'udp', 4500, 'nat-t');
      for (const protocol of ['esp', 'ah'] as const) {
        if (!peer.protocols.includes(protocol)) continue;
        if (passOut) rule('out', protocol, null, `${protocol} proto`);
        rule('in', protocol, null, `${protocol} proto`);
      }
    }
    return out;
  }

  private on(interfaces: string[], group?: string, negate = false): NonNullable<PfRule['on']> {
    return group === undefined ? { interfaces, negate } : { interfaces, negate, group };
  }

  private onEntry(entry: FilterIf): NonNullable<PfRule['on']> {
    return entry.kind === 'interface' ? this.on(entry.leaves) : this.on(entry.leaves, entry.key);
  }

  private perInterface(
    entry: FilterIf,
    block: { action: 'block'; log: boolean },
    pass: { action: 'pass'; log: boolean },
  ): void {
    const iface = entry.config;
    const on = this.onEntry(entry);
    const name = entry.macro;
    const v4Mode = iface?.ipv4.mode;
    const v6Mode = iface?.ipv6.mode;
    this.step(10);
    if (v4Mode === 'dhcp') {
      this.next('dhcp-client', `allow dhcp replies in ${name}`, {
        ...pass,
        direction: 'in',
        quick: true,
        on,
        protocols: ['udp'],
        fromPort: port(67),
        toPort: port(68),
        label: fixRuleLabel(`allow dhcp replies in ${name}`),
      });
      this.next('dhcp-client', `allow dhcp client out ${name}`, {
        ...pass,
        direction: 'out',
        quick: true,
        on,
        protocols: ['udp'],
        fromPort: port(68),
        toPort: port(67),
        label: fixRuleLabel(`allow dhcp client out ${name}`),
      });
    }
    if (this.ipv6 && (v6Mode === 'slaac' || v6Mode === 'dhcp6')) {
      const label = fixRuleLabel(`allow dhcpv6 client in ${name}`);
      this.next('dhcpv6-client', label, {
        ...pass,
        direction: 'in',
        quick: true,
        on,
        protocols: ['udp'],
        from: cidrs(['fe80::/10']),
        fromPort: port(546),
        to: cidrs(['fe80::/10']),
        toPort: port(546),
        af: 'inet6',
        label,
      });
      this.next('dhcpv6-client', label, {
        ...pass,
        direction: 'in',
        quick: true,
        on,
        protocols: ['udp'],
        fromPort: port(547),
        toPort: port(546),
        label,
      });
      const outLabel = fixRuleLabel(`allow dhcpv6 client out ${name}`);
      this.next('dhcpv6-client', outLabel, {
        ...pass,
        direction: 'out',
        quick: true,
        on,
        protocols: ['udp'],
        fromPort: port(546),
        toPort: port(547),
        label: outLabel,
      });
    }
    this.step(1000);
    if (iface?.blockBogons) {
      this.bogonsTracker += 1;
      const label = fixRuleLabel(`block bogon IPv4 networks from ${name}`);
      this.emit(
        'bogons',
        label,
        {
          ...block,
          log: this.config.system.logBogons !== false,
          direction: 'in',
          quick: true,
          on,
          from: table('bogons'),
          af: 'inet',
          label,
        },
        this.bogonsTracker,
      );
      if (this.ipv6) {
        this.bogonsTracker += 1;
        const label6 = fixRuleLabel(`block bogon IPv6 networks from ${name}`);
        this.emit(
          'bogons',
          label6,
          {
            ...block,
            log: this.config.system.logBogons !== false,
            direction: 'in',
            quick: true,
            on,
            from: table('bogonsv6'),
            af: 'inet6',
            label: label6,
          },
          this.bogonsTracker,
        );
      }
    }
    this.step(10);
    if (entry.kind === 'interface' && entry.ipv4 !== null) this.antispoof(entry, block);
    this.step(10);
    if (iface?.blockPrivate) {
      for (const [network, template] of PRIVATE_BLOCKS) {
        this.rfc1918Tracker += 1;
        const label = fixRuleLabel(template.replace('%s', name));
        this.emit(
          'block-private',
          label,
          {
            ...block,
            log: this.config.system.logPrivateNets !== false,
            direction: 'in',
            quick: true,
            on,
            from: cidrs([network]),
            af: network.includes(':') ? 'inet6' : 'inet',
            label,
          },
          this.rfc1918Tracker,
        );
      }
    }
    this.step(10);
    if (v4Mode === 'pptp') {
      const label = fixRuleLabel(`allow PPTP client on ${name}`);
      this.next('pptp-client', label, { ...pass, direction: 'in', on, protocols: ['gre'], label });
    } else if (v4Mode !== 'pppoe' && v4Mode !== 'none') {
      this.dhcpServerRules(entry, pass, on);
    }
    this.step(10);
    if (v6Mode === '6to4' && entry.ipv4 !== null) {
      const own = ownAddress(entry, entry.ipv4);
      this.next('proto-41', fixRuleLabel(`Allow 6in4 traffic in for 6to4 on ${name}`), {
        ...pass,
        direction: 'in',
        on,
        protocols: ['41'],
        to: own,
        label: fixRuleLabel(`Allow 6in4 traffic in for 6to4 on ${name}`),
      });
      this.next('proto-41', fixRuleLabel(`Allow 6in4 traffic out for 6to4 on ${name}`), {
        ...pass,
        direction: 'out',
        on,
        protocols: ['41'],
        from: own,
        label: fixRuleLabel(`Allow 6in4 traffic out for 6to4 on ${name}`),
      });
    } else if (v6Mode === '6rd') {
      this.warnings.push(
        policyWarning(
          'POL040',
          'interface',
          `interface ${entry.key} uses 6rd: the proto-41 passes for its border relay are not modelled`,
          { name: entry.key },
        ),
      );
    } else if (
      entry.kind === 'interface' &&
      (iface?.dhcpv6Server || this.config.dhcpRelay?.ipv6.includes(entry.key))
    ) {
      const label = 'allow access to DHCPv6 server';
      const dhcp6 = { ...pass, quick: true, on, af: 'inet6' as const, protocols: ['udp'], label };
      this.next('dhcpv6-server', label, {
        ...dhcp6,
        from: cidrs(['fe80::/10']),
        to: cidrs(['fe80::/10']),
        toPort: port(546),
      });
      this.next('dhcpv6-server', label, {
        ...dhcp6,
        from: cidrs(['fe80::/10']),
        to: cidrs(['ff02::/16']),
        toPort: port(546),
      });
      this.next('dhcpv6-server', label, {
        ...dhcp6,
        from: cidrs(['fe80::/10']),
        to: cidrs(['ff02::/16']),
        toPort: port(547),
      });
      this.next('dhcpv6-server', label, {
        ...dhcp6,
        from: cidrs(['ff02::/16']),
        to: cidrs(['fe80::/10']),
        toPort: port(547),
      });
      if (entry.ipv6 !== null) {
        const own = ownAddress(entry, entry.ipv6);
        this.next('dhcpv6-server', label, {
          ...dhcp6,
          direction: 'in',
          from: cidrs(['fe80::/10']),
          to: own,
          toPort: port(546),
        });
        this.next('dhcpv6-server', label, {
          ...dhcp6,
          direction: 'out',
          from: own,
          fromPort: port(547),
          to: cidrs(['fe80::/10']),
        });
      }
    }
  }

  /** DHCP server passes (l.4010-4034) and the DHCP relay pass (l.4036-4048), the default branch of the type switch. */
  private dhcpServerRules(
    entry: FilterIf,
    pass: { action: 'pass'; log: boolean },
    on: NonNullable<PfRule['on']>,
  ): void {
    if (entry.kind === 'interface' && entry.config?.dhcpServer) {
      const label = 'allow access to DHCP server';
      this.next('dhcp-server', label, {
        ...pass,
        direction: 'in',
        quick: true,
        on,
        protocols: ['udp'],
        fromPort: port(68),
        to: cidrs(['255.255.255.255/32']),
        toPort: port(67),
        label,
      });
      if (entry.ipv4 !== null && entry.ipv4 !== 'dynamic') {
        const own = cidrs([entry.ipv4.address]);
        this.next('dhcp-server', label, {
          ...pass,
          direction: 'in',
          quick: true,
          on,
          protocols: ['udp'],
          fromPort: port(68),
          to: own,
          toPort: port(67),
          label,
        });
        this.next('dhcp-server', label, {
          ...pass,
          direction: 'out',
          quick: true,
          on,
          protocols: ['udp'],
          from: own,
          fromPort: port(67),
          toPort: port(68),
          label,
        });
      }
    }
    if (this.config.dhcpRelay?.ipv4.includes(entry.key)) {
      const label = 'allow access to DHCP relay';
      this.next('dhcp-relay', label, {
        ...pass,
        direction: 'in',
        quick: true,
        on,
        protocols: ['udp'],
        fromPort: port(68),
        to: cidrs(['255.255.255.255/32']),
        toPort: port(67),
        label,
      });
    }
  }

  /**
   * `antispoof log for $IF` expanded as pfctl loads it (docs/reference/pf-semantics.md §2.7): per interface network
   * `block in log on ! IF from NET`, per interface address `block in log from ADDR` — all non-quick. IPv6
   * link-local addresses are unknown to a config and left out (POL033).
   */
  private antispoof(entry: FilterIf, block: { action: 'block'; log: boolean }): void {
    const ridentifier = this.tracker;
    this.tracker += 1;
    const descr = `antispoof for ${entry.macro}`;
    const networks: Array<[AddressSpec, 'inet' | 'inet6']> = [];
    const addresses: Array<[AddressSpec, 'inet' | 'inet6']> = [];
    for (const [family, af] of [
      [entry.ipv4, 'inet'],
      [entry.ipv6, 'inet6'],
    ] as const) {
      if (family === null) continue;
      if (family === 'dynamic') {
        networks.push([{ match: { kind: 'interface-network', interface: entry.key }, negate: false }, af]);
        addresses.push([{ match: { kind: 'interface-address', interface: entry.key }, negate: false }, af]);
        continue;
      }
      networks.push([cidrs([family.network]), af]);
      addresses.push([cidrs([family.address]), af]);
    }
    for (const vip of entry.vips) {
      if (vip.mode === 'proxyarp' || vip.mode === 'other') continue;
      const parsed = vipCidrs(vip);
      if (parsed === null) continue;
      const af = vip.address.includes(':') ? 'inet6' : 'inet';
      networks.push([cidrs([parsed.network]), af]);
      addresses.push([cidrs([parsed.host]), af]);
    }
    const fields = { ...block, log: this.logBlock, direction: 'in' } as const;
    // pfctl -o basic drops the duplicate a VIP inside the interface subnet would add.
    const seen = new Set<string>();
    for (const [from, af] of networks) {
      const key = JSON.stringify(from);
      if (seen.has(key)) continue;
      seen.add(key);
      this.emit(
        'antispoof',
        descr,
        { ...fields, on: { interfaces: entry.leaves, negate: true }, af, from },
        ridentifier,
      );
    }
    for (const [from, af] of addresses) this.emit('antispoof', descr, { ...fields, af, from }, ridentifier);
    if (this.ipv6 && entry.ipv6 !== null) {
      this.warnings.push(
        policyWarning(
          'POL033',
          'interface',
          `antispoof for ${entry.key}: its IPv6 link-local address is not in the config; that antispoof entry is left out`,
          { name: entry.key },
        ),
      );
    }
  }

  /** "let out anything from firewall host itself" with route-to, per interface with a gateway (l.4121-4150). */
  private routeToRules(entry: FilterIf, pass: { action: 'pass'; log: boolean }): void {
    const iface = entry.config;
    if (entry.kind !== 'interface' || iface === undefined) return;
    const label = 'let out anything from firewall host itself';
    const v4 = entry.ipv4;
    if (iface.ipv4.gateway !== undefined && v4 !== null && v4 !== 'dynamic') {
      const routing = entry.device.startsWith('ipsec')
        ? undefined
        : `route-to ( ${entry.device} ${iface.ipv4.gateway} )`;
      const rule = (from: string, notTo: string) => ({
        ...pass,
        direction: 'out' as const,
        af: 'inet' as const,
        from: cidrs([from]),
        to: cidrs([notTo], true),
        allowOpts: true,
        label,
        ...(routing ? { routing } : {}),
      });
      this.next('let-out-route-to', label, rule(v4.address, v4.network));
      for (const vip of entry.vips) {
        const parsed = vipCidrs(vip);
        if (vip.mode === 'proxyarp' || parsed === null || vip.address.includes(':')) continue;
        this.next(
          'let-out-route-to',
          label,
          rule(parsed.host, vipInside(vip.address, v4.network) ? v4.network : parsed.network),
        );
      }
    }
    const v6 = entry.ipv6;
    if (iface.ipv6.gateway !== undefined && v6 !== null && v6 !== 'dynamic') {
      const routing = entry.device.startsWith('ipsec')
        ? undefined
        : `route-to ( ${entry.device} ${iface.ipv6.gateway} )`;
      const rule = (from: string) => ({
        ...pass,
        direction: 'out' as const,
        af: 'inet6' as const,
        from: cidrs([from]),
        to: cidrs([v6.network], true),
        allowOpts: true,
        label,
        ...(routing ? { routing } : {}),
      });
      this.next('let-out-route-to', label, rule(v6.address));
      for (const vip of entry.vips) {
        const parsed = vipCidrs(vip);
        if (parsed === null || !vip.address.includes(':')) continue;
        this.next('let-out-route-to', label, rule(parsed.host));
      }
    }
  }

  /**
   * Anti-lockout (l.4166-4190): on LAN when there is more than one configured interface, on WAN when it is the
   * only one; ports from `filter_get_antilockout_ports` (docs/adr/0034).
   */
  private antiLockout(pass: { action: 'pass'; log: boolean }): void {
    const { webgui, ssh } = this.config.system;
    if (webgui.noAntiLockout) return;
    const key = this.ifs.configuredCount > 1 ? 'lan' : this.ifs.configuredCount === 1 ? 'wan' : null;
    const entry = key === null ? undefined : this.ifs.byKey.get(key);
    if (entry === undefined || entry.kind !== 'interface') return;
    const guiPort = webgui.port ?? (webgui.protocol === 'https' ? 443 : 80);
    const ports = [guiPort];
    if (webgui.protocol === 'https' && !webgui.disableHttpRedirect && guiPort !== 80) ports.push(80);
    if (ssh.enabled) ports.push(ssh.port ?? 22);
    this.antilockoutTracker += 1;
    this.emit(
      'anti-lockout',
      'anti-lockout rule',
      {
        ...pass,
        direction: 'in',
        quick: true,
        on: { interfaces: entry.leaves, negate: false },
        protocols: ['tcp'],
        to: { match: { kind: 'interface-address', interface: entry.key }, negate: false },
        toPort: { ranges: ports.map((p) => ({ from: p, to: p })) },
        label: 'anti-lockout rule',
      },
      this.antilockoutTracker,
    );
  }
}

/** The interface's own address in a generated rule: literal when known, `(if)` when assigned at run time. */
function ownAddress(entry: FilterIf, family: FamilyAddress): AddressSpec {
  return family === 'dynamic' || family === null
    ? { match: { kind: 'interface-address', interface: entry.key }, negate: false }
    : cidrs([family.address]);
}

function port(n: number) {
  return { ranges: [{ from: n, to: n }] };
}

/** Whether a VIP address lies inside the interface network (string CIDR). */
function vipInside(address: string, network: string): boolean {
  const [base, bits] = network.split('/');
  const vip = vipCidrs({ mode: 'ipalias', interface: '', address, prefixLength: Number(bits), descr: '' });
  return vip !== null && vip.network === `${base}/${bits}`;
}
