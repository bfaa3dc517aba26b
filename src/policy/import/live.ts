/**
 * @module The engine's config model built from a gateway's live reads (rules, NAT, aliases, interfaces in the
 * vendor-neutral shapes of the live view), faithful to how pfSense generates its ruleset from the same objects:
 * interfaces in device order, tab and floating rules in the device's rule order, aliases, port forwards and
 * outbound / 1:1 NAT into the NAT model; pfSense's own rules (default deny, anti-lockout, ...) come from the
 * generator. What a live read does not carry but can change a verdict (system settings, interface options, how an
 * address is assigned, rdr pass) is assumed as pfSense's factory default and named in a POL046 warning, never
 * silently (docs/adr/0170-semantic-preview-of-a-live-change.md, docs/adr/0152-honest-inputs-and-runtime-facts.md).
 * Pure; the input shapes here are structurally the live view's (src/policy imports no adapter).
 */
import { isIp, parseCidr } from '../../net/ip.ts';
import type {
  AliasConfig,
  AliasType,
  InterfaceConfig,
  Ipv4Mode,
  Ipv6Mode,
  NatConfig,
  OneToOneConfig,
  OutboundNatConfig,
  PolicyConfig,
  PolicyWarning,
  PortForwardConfig,
  RuleConfig,
  RuleEndpoint,
} from '../model.ts';
import { policyWarning } from '../warnings.ts';

/** A firewall rule as the live view reads it, in device order (the fields the engine needs). */
export interface LiveRuleInput {
  vendor_rule_id: string | null;
  action: 'allow' | 'deny' | 'reject' | null;
  interfaces: string[];
  direction: string | null;
  ip_version: string | null;
  protocol: string;
  source_address: string;
  source_port: string | null;
  dest_address: string;
  dest_port: string | null;
  description: string;
  is_enabled: boolean;
  log_enabled: boolean;
  floating: boolean;
  quick: boolean;
  icmp_types: string[] | null;
  schedule: string | null;
  unmodelled_options: string[];
}

/** A NAT entry as the live view reads it. */
export interface LiveNatRuleInput {
  vendor_id: number | null;
  interface: string | null;
  protocol: string | null;
  original_address: string | null;
  original_port: string | null;
  destination_address: string | null;
  destination_port: string | null;
  translated_address: string | null;
  translated_port: string | null;
  description: string;
  is_enabled: boolean;
}

export interface LiveAliasInput {
  name: string;
  type: string;
  description: string;
  entries: Array<{ address: string; detail: string }>;
}

export interface LiveInterfaceInput {
  id: string;
  device: string | null;
  description: string;
  enabled: boolean;
  /** Current address as `address/prefix`. */
  ipv4: string | null;
  ipv6: string | null;
  ipv4_mode: string | null;
  ipv6_mode: string | null;
  /** null = not read (the settings' lists, or the factory default, decide). */
  block_private: boolean | null;
  block_bogons: boolean | null;
  gateway: string | null;
}

/** One gateway's live configuration, as four live reads return it. */
export interface LiveSnapshot {
  rules: LiveRuleInput[];
  nat: {
    port_forwards: LiveNatRuleInput[];
    outbound: { mode: string | null; mappings: LiveNatRuleInput[] };
    one_to_one: LiveNatRuleInput[];
  };
  aliases: LiveAliasInput[];
  interfaces: LiveInterfaceInput[];
}

/**
 * Settings a live read does not carry. Each one not given is assumed as pfSense's factory default (below) and
 * named in a POL046 warning.
 */
export interface LiveSystemSettings {
  /** The anti-lockout rule (LAN, or WAN when there is no LAN, to the GUI and SSH ports). */
  anti_lockout: boolean;
  webgui_protocol: 'http' | 'https';
  /** null = the protocol's default port. */
  webgui_port: number | null;
  ssh_enabled: boolean;
  ssh_port: number | null;
  ipv6_allow: boolean;
  /** Interface ids with "block private networks" / "block bogon networks", where the live read does not say. */
  block_private: string[];
  block_bogons: string[];
  /** Interface ids with a DHCPv4 server. */
  dhcp_server: string[];
  /** NAT reflection for port forwards (system default). */
  nat_reflection: boolean;
}

/** pfSense's factory defaults (a fresh install's config.xml: WAN blocks private and bogon sources, LAN serves DHCP). */
const FACTORY_SETTINGS: LiveSystemSettings = {
  anti_lockout: true,
  webgui_protocol: 'https',
  webgui_port: null,
  ssh_enabled: false,
  ssh_port: null,
  ipv6_allow: true,
  block_private: ['wan'],
  block_bogons: ['wan'],
  dhcp_server: ['lan'],
  nat_reflection: false,
};

const ALIAS_TYPES: readonly AliasType[] = ['host', 'network', 'port', 'url', 'url_ports', 'urltable', 'urltable_ports'];
const URL_TYPES: ReadonlySet<string> = new Set(['url', 'url_ports', 'urltable', 'urltable_ports']);
const IPV4_MODES: readonly Ipv4Mode[] = ['static', 'dhcp', 'pppoe', 'pptp', 'l2tp', 'none'];
const IPV6_MODES: readonly Ipv6Mode[] = ['static', 'dhcp6', 'slaac', 'track6', '6rd', '6to4', 'none'];
/** Addresses pfSense's address fields accept besides IPs, aliases and interface ids. */
const NETWORK_WORDS: ReadonlySet<string> = new Set(['(self)', 'l2tp', 'pppoe']);

/** `address/prefix` split into the model's fields; undefined parts when absent or malformed. */
function splitAddress(text: string | null): { address?: string; prefixLength?: number } {
  if (text === null) return {};
  const [address, prefix] = text.split('/');
  if (address === undefined || !isIp(address)) return {};
  const prefixLength = prefix === undefined ? (address.includes(':') ? 128 : 32) : Number(prefix);
  return Number.isInteger(prefixLength) ? { address, prefixLength } : { address };
}

/** pfRest writes port ranges `low:high`; the model (like config.xml) `low-high`. */
const portText = (port: string | null): string | undefined =>
  port === null || port === '' || port === 'any' ? undefined : port.replace(':', '-');

class LiveBuilder {
  readonly warnings: PolicyWarning[] = [];
  private readonly interfaceIds: ReadonlySet<string>;
  private readonly settings: LiveSystemSettings;
  private readonly assumed: string[] = [];

  constructor(
    private readonly snapshot: LiveSnapshot,
    given: Partial<LiveSystemSettings>,
  ) {
    this.interfaceIds = new Set(snapshot.interfaces.map((i) => i.id));
    this.settings = { ...FACTORY_SETTINGS, ...given };
    const read = {
      block_private: snapshot.interfaces.every((i) => i.block_private !== null),
      block_bogons: snapshot.interfaces.every((i) => i.block_bogons !== null),
    };
    for (const key of Object.keys(FACTORY_SETTINGS) as Array<keyof LiveSystemSettings>) {
      const readForAll = (key === 'block_private' || key === 'block_bogons') && read[key];
      if (given[key] === undefined && !readForAll) this.assumed.push(`${key} ${JSON.stringify(FACTORY_SETTINGS[key])}`);
    }
  }

  build(): PolicyConfig {
    const { settings } = this;
    if (this.assumed.length > 0) {
      const assumed = this.assumed.join(', ');
      const message = `the live read does not carry these settings; pfSense's factory defaults are assumed: ${assumed}`;
      this.warn('system', message);
    }
    this.warn(
      'config',
      'the live read does not carry interface groups, virtual IPs or VPN instances; ' +
        'rules on group or VPN tabs are left out',
    );
    return {
      version: 1,
      system: {
        hostname: '',
        ipv6Allow: settings.ipv6_allow,
        webgui: {
          protocol: settings.webgui_protocol,
          port: settings.webgui_port,
          noAntiLockout: !settings.anti_lockout,
          disableHttpRedirect: false,
        },
        ssh: { enabled: settings.ssh_enabled, port: settings.ssh_port },
        disableReplyTo: false,
        noApipaBlock: false,
        logDefaultBlock: true,
        logDefaultPass: false,
      },
      interfaces: this.snapshot.interfaces.map((i) => this.iface(i)),
      groups: [],
      virtualIps: [],
      aliases: this.aliases(),
      vpn: { openvpn: [], ipsec: false, l2tp: false, pppoeServer: false },
      rules: this.snapshot.rules.map((r, i) => this.rule(r, i)),
      natReflection: false,
      nat: this.nat(),
    };
  }

  private warn(element: string, message: string, ref?: PolicyWarning['ref']): void {
    this.warnings.push(policyWarning('POL046', element, message, ref));
  }

  private iface(live: LiveInterfaceInput): InterfaceConfig {
    const v4 = splitAddress(live.ipv4);
    const v6 = splitAddress(live.ipv6);
    const v4Mode = IPV4_MODES.find((m) => m === live.ipv4_mode);
    const v6Mode = IPV6_MODES.find((m) => m === live.ipv6_mode);
    // Unsaid: a known address is kept (static-like); without one the IPv4 address is run-time (answers unknown).
    if (v4Mode === undefined) {
      const used =
        v4.address === undefined ? 'assumed assigned at run time' : `its current address ${live.ipv4} is used`;
      this.warn('interface', `interface ${live.id}: how its IPv4 address is assigned is not read; ${used}`, {
        name: live.id,
      });
    }
    if (v6Mode === undefined && v6.address === undefined) {
      this.warn('interface', `interface ${live.id}: no IPv6 address or mode read; assumed to have no IPv6 address`, {
        name: live.id,
      });
    }
    const ipv4Gateway =
      live.gateway !== null && isIp(live.gateway) && !live.gateway.includes(':') ? live.gateway : undefined;
    return {
      key: live.id,
      device: live.device ?? live.id,
      descr: live.description === '' ? live.id.toUpperCase() : live.description,
      enabled: live.enabled,
      ipv4: {
        mode: v4Mode ?? (v4.address === undefined ? 'dhcp' : 'static'),
        ...v4,
        ...(ipv4Gateway !== undefined ? { gateway: ipv4Gateway } : {}),
      },
      ipv6: { mode: v6Mode ?? (v6.address === undefined ? 'none' : 'static'), ...v6 },
      blockPrivate: live.block_private ?? this.settings.block_private.includes(live.id),
      blockBogons: live.block_bogons ?? this.settings.block_bogons.includes(live.id),
      dhcpServer: this.settings.dhcp_server.includes(live.id),
      dhcpv6Server: false,
    };
  }

  private aliases(): AliasConfig[] {
    const out: AliasConfig[] = [];
    for (const alias of this.snapshot.aliases) {
      const type = ALIAS_TYPES.find((t) => t === alias.type);
      if (type === undefined) {
        const message = `alias ${alias.name} has type "${alias.type}"; left out`;
        this.warnings.push(policyWarning('POL026', 'alias', message, { name: alias.name }));
        continue;
      }
      const addresses = alias.entries.map((e) => e.address);
      out.push(
        URL_TYPES.has(type)
          ? { name: alias.name, type, entries: [], descr: alias.description, urls: addresses }
          : { name: alias.name, type, entries: addresses, descr: alias.description },
      );
    }
    return out;
  }

  /** An address field (`any`, `!x`, an interface id, `<id>:ip`, `(self)`, an IP, CIDR or alias) with its port. */
  private endpoint(text: string | null, port: string | null): RuleEndpoint {
    const raw = text === null || text === '' ? 'any' : text;
    const not = raw.startsWith('!');
    const value = not ? raw.slice(1) : raw;
    const withPort = (endpoint: RuleEndpoint): RuleEndpoint => {
      const p = portText(port);
      return p === undefined ? endpoint : { ...endpoint, port: p };
    };
    if (value === 'any') return withPort({ kind: 'any', not: false });
    const ipOf = /^(.+):ip$/.exec(value);
    if (ipOf !== null && this.interfaceIds.has(ipOf[1] as string)) {
      return withPort({ kind: 'network', value: `${ipOf[1]}ip`, not });
    }
    if (this.interfaceIds.has(value) || NETWORK_WORDS.has(value)) return withPort({ kind: 'network', value, not });
    return withPort({ kind: 'address', value, not });
  }

  private rule(live: LiveRuleInput, index: number): RuleConfig {
    const ref = { configIndex: index, descr: live.description };
    if (live.action === null) {
      const message =
        `rule "${live.description}" has no action the live read names; read as pass (pfSense's legacy default)`;
      this.warnings.push(policyWarning('POL011', 'rule', message, ref));
    }
    if (live.unmodelled_options.length > 0) {
      const message = `rule "${live.description}" sets ${live.unmodelled_options.join(', ')}; the preview ignores them`;
      this.warnings.push(policyWarning('POL008', 'rule', message, ref));
    }
    const ipprotocol = live.ip_version === 'inet6' || live.ip_version === 'inet46' ? live.ip_version : 'inet';
    // Tab rules are inbound; a floating rule without a direction matches both.
    const floatingDirection = live.direction === 'in' || live.direction === 'out' ? live.direction : 'any';
    const direction = live.floating ? floatingDirection : 'in';
    const icmp = live.icmp_types?.filter((t) => t !== 'any') ?? [];
    const rule: RuleConfig = {
      type: live.action === 'deny' ? 'block' : live.action === 'reject' ? 'reject' : 'pass',
      interface: live.interfaces.join(','),
      floating: live.floating,
      quick: live.floating ? live.quick : true,
      direction,
      ipprotocol,
      protocol: live.protocol === 'any' || live.protocol === '' ? null : live.protocol,
      icmptypes: icmp.length > 0 ? icmp : null,
      source: this.endpoint(live.source_address, live.source_port),
      destination: this.endpoint(live.dest_address, live.dest_port),
      descr: live.description,
      disabled: !live.is_enabled,
      log: live.log_enabled,
      statetype: null,
      tcpflagsAny: false,
      allowopts: false,
    };
    if (live.vendor_rule_id !== null) rule.tracker = live.vendor_rule_id;
    if (live.schedule !== null) rule.sched = live.schedule;
    return rule;
  }

  private nat(): NatConfig {
    const { nat } = this.snapshot;
    const family = (...texts: Array<string | null>) =>
      texts.some((t) => t !== null && t.includes(':') && !/:ip$/.test(t)) ? ('inet6' as const) : ('inet' as const);
    const portForwards = nat.port_forwards.map((live, i): PortForwardConfig => {
      if (live.is_enabled) {
        this.warn(
          'nat',
          `port forward "${live.description}": whether it passes without a filter rule (rdr pass) is not read; ` +
            'assumed filtered by the rules',
          { configIndex: i, descr: live.description },
        );
      }
      const forward: PortForwardConfig = {
        interface: live.interface ?? 'wan',
        ipprotocol: family(live.destination_address, live.translated_address),
        protocol: live.protocol ?? 'any',
        source: this.endpoint(live.original_address, live.original_port),
        destination: this.endpoint(live.destination_address, live.destination_port),
        target: live.translated_address ?? '',
        noRdr: false,
        disabled: !live.is_enabled,
        descr: live.description,
      };
      const local = portText(live.translated_port);
      if (local !== undefined) forward.localPort = local;
      if (!this.settings.nat_reflection) forward.natReflection = 'disable';
      return forward;
    });
    const mode = nat.outbound.mode;
    const outboundMode = mode === 'hybrid' || mode === 'advanced' || mode === 'disabled' ? mode : 'automatic';
    const outbound = nat.outbound.mappings.map((live): OutboundNatConfig => {
      const destination = live.destination_address ?? 'any';
      const target = splitTarget(live.translated_address);
      const mapping: OutboundNatConfig = {
        interface: live.interface ?? 'wan',
        source: live.original_address ?? 'any',
        destination: destination.replace(/^!/, ''),
        destinationNot: destination.startsWith('!'),
        target: target.target,
        staticPort: false,
        noNat: live.translated_address === null,
        disabled: !live.is_enabled,
        descr: live.description,
      };
      if (live.protocol !== null && live.protocol !== 'any') mapping.protocol = live.protocol;
      if (target.subnet !== undefined) mapping.targetSubnet = target.subnet;
      const sourcePort = portText(live.original_port);
      if (sourcePort !== undefined) mapping.sourcePort = sourcePort;
      const destinationPort = portText(live.destination_port);
      if (destinationPort !== undefined) mapping.destinationPort = destinationPort;
      const natPort = portText(live.translated_port);
      if (natPort !== undefined) mapping.natPort = natPort;
      return mapping;
    });
    const oneToOne = nat.one_to_one.map(
      (live): OneToOneConfig => ({
        interface: live.interface ?? 'wan',
        ipprotocol: family(live.translated_address, live.original_address),
        external: live.translated_address ?? '',
        source: this.endpoint(live.original_address, null),
        destination: this.endpoint(live.destination_address, null),
        noBinat: false,
        disabled: !live.is_enabled,
        descr: live.description,
      }),
    );
    return {
      portForwards,
      outbound: { mode: outboundMode, rules: outbound },
      oneToOne,
      reflection: { disabled: !this.settings.nat_reflection, pureNat: false, binat: false, helper: false },
    };
  }
}

/**
 * An outbound target `a.b.c.d/24` as address and subnet size; an interface address name (`wan:ip`) is the
 * interface's own address (empty in the model).
 */
function splitTarget(text: string | null): { target: string; subnet?: number } {
  if (text === null || /:ip$/.test(text)) return { target: '' };
  const cidr = parseCidr(text);
  if (cidr === null || !text.includes('/')) return { target: text };
  const [address, prefix] = text.split('/') as [string, string];
  return { target: address, subnet: Number(prefix) };
}

/**
 * Builds the engine's config model from a live snapshot. `settings` are what the caller knows of the device's
 * system settings; the rest are assumed (factory defaults) and named in POL046 warnings, which come back with
 * any other warning about what the live read lacks.
 */
export function buildPolicyFromLive(
  snapshot: LiveSnapshot,
  settings: Partial<LiveSystemSettings> = {},
): { config: PolicyConfig; warnings: PolicyWarning[] } {
  const builder = new LiveBuilder(snapshot, settings);
  const config = builder.build();
  return { config, warnings: builder.warnings };
}
