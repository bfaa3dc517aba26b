/**
 * @module The typed policy model: the vendor-shaped INPUT (`PolicyConfig`, what a pfSense `config.xml` or a live
 * config says) and the generated OUTPUT (`PfRuleset`, the ordered pf ruleset pfSense 2.7.2 would load, with every
 * rule's origin). Pure types plus a few constants; no behaviour, no I/O.
 *
 * Contract for consumers (evaluator, lint, diff, nft compiler):
 * - `PfRuleset.rules` is in pf evaluation order (index = `PfRule.index`). pf semantics apply unchanged: the first
 *   matching `quick` rule decides, otherwise the last matching rule, otherwise pass (docs/adr/0030).
 * - Everything a rule matches on is resolved: interfaces to leaf interface keys, aliases to `tables` (static CIDR
 *   lists plus a `dynamic` flag), port aliases to inclusive ranges, inet46 to two rules, pfctl's implicit
 *   `flags S/SA` made explicit. A consumer never needs `PolicyConfig` to evaluate a packet.
 * - Address strings are canonical CIDRs (`10.0.0.0/8`, `192.168.1.1/32`, `2001:db8::/64`, `fe80::1/128`).
 * - Additive changes only after the first commit; each one is named in its commit message.
 */

/** pf address family keyword. */
export type AddressFamily = 'inet' | 'inet6';

// ---------------------------------------------------------------------------------------------------------------
// INPUT: PolicyConfig — the equivalent of the filter-relevant parts of a pfSense config.xml (docs/reference/pf-semantics.md §1.6)
// ---------------------------------------------------------------------------------------------------------------

/** IPv4 configuration type of an interface (`<ipaddr>`: a literal address means `static`). */
export type Ipv4Mode = 'static' | 'dhcp' | 'pppoe' | 'pptp' | 'l2tp' | 'none';
/** IPv6 configuration type of an interface (`<ipaddrv6>`: a literal address means `static`). */
export type Ipv6Mode = 'static' | 'dhcp6' | 'slaac' | 'track6' | 'idassoc6' | '6rd' | '6to4' | 'none';

/** One assigned interface (`<interfaces><wan>…`). */
export interface InterfaceConfig {
  /** Config key rules refer to: `wan`, `lan`, `opt1`, … */
  key: string;
  /** Real device name (`<if>`): `em0`, `igb1.10`, `ovpns1`, `ipsec1`, … */
  device: string;
  /** `<descr>`; pfSense upper-cases it into the pf macro name (`$WAN`). Defaults to the upper-cased key. */
  descr: string;
  /** `<enable/>` present. Disabled interfaces are left out of the ruleset (pfSense `$FilterIflist`). */
  enabled: boolean;
  ipv4: {
    mode: Ipv4Mode;
    /** Static address, or the known current address of a dynamic interface (JSON model only). */
    address?: string;
    /** Prefix length of `address`. */
    prefixLength?: number;
    /** Gateway IP address (resolved from `<gateway>` name), used only for reply-to / route-to text. */
    gateway?: string;
  };
  ipv6: {
    mode: Ipv6Mode;
    address?: string;
    prefixLength?: number;
    gateway?: string;
    /** track6: the interface key the prefix is delegated from. */
    trackInterface?: string;
  };
  /** `<blockpriv/>`: block RFC1918, 127/8 and ULA sources inbound. */
  blockPrivate: boolean;
  /** `<blockbogons/>`: block `<bogons>` (and `<bogonsv6>` when IPv6 is allowed) sources inbound. */
  blockBogons: boolean;
  /** DHCPv4 server enabled on this interface (`<dhcpd><KEY><enable/>`): adds "allow access to DHCP server". */
  dhcpServer: boolean;
  /** DHCPv6 server enabled on this interface (`<dhcpdv6><KEY><enable/>`). */
  dhcpv6Server: boolean;
}

/** A user interface group (`<ifgroups><ifgroupentry>`). */
export interface InterfaceGroupConfig {
  /** `<ifname>`: group name, also the rules tab key and the pf interface group name. */
  name: string;
  /** Member interface keys (`<members>`, space separated in XML). */
  members: string[];
  descr: string;
}

/** A virtual IP (`<virtualip><vip>`); adds an address (and its subnet) to its interface. */
export interface VirtualIpConfig {
  mode: 'ipalias' | 'carp' | 'proxyarp' | 'other';
  /** Interface key (or `lo0`). */
  interface: string;
  address: string;
  prefixLength: number;
  descr: string;
}

/** Alias types as stored in `<alias><type>`. */
export type AliasType = 'host' | 'network' | 'port' | 'url' | 'url_ports' | 'urltable' | 'urltable_ports';

/** One alias (`<aliases><alias>`). */
export interface AliasConfig {
  name: string;
  type: AliasType;
  /** `<address>` split on whitespace: IPs, CIDRs, ranges `a-b`, FQDNs, ports, `a:b` port ranges, alias names. */
  entries: string[];
  descr: string;
  /** `<url>` / `<aliasurl>` for url types (informational; contents are unknown to a pure engine). */
  urls?: string[];
}

/** Rule action as stored in `<type>`; anything else is imported as `pass` (legacy default, filter.inc). */
export type RuleType = 'pass' | 'block' | 'reject' | 'match';

/** One side of a rule (`<source>` / `<destination>`). */
export interface RuleEndpoint {
  /**
   * `any` (`<any/>`), `network` (`<network>`: `lan`, `lanip`, `opt1`, `opt1ip`, `wan`, `wanip`, `(self)`,
   * `pppoe`, `l2tp`, a group name) or `address` (`<address>`: IP, CIDR or alias name).
   */
  kind: 'any' | 'network' | 'address';
  /** The `<network>` or `<address>` text (absent for `any`). */
  value?: string;
  /** `<port>`: `80`, `1000-2000`, or a port alias name. */
  port?: string;
  /** `<not/>` present. */
  not: boolean;
}

/** One user rule (`<filter><rule>`), in config order. Field names follow the XML tags. */
export interface RuleConfig {
  tracker?: string;
  type: RuleType;
  /** `<interface>`: one key for tab rules; a comma list (or `any`/empty) for floating rules. */
  interface: string;
  /** `<floating>yes</floating>` present. */
  floating: boolean;
  /** `<quick>` present (only meaningful for floating rules; tab rules are always quick). */
  quick: boolean;
  /** `<direction>`: floating only; tab rules are always `in`. */
  direction: 'in' | 'out' | 'any';
  ipprotocol: 'inet' | 'inet6' | 'inet46';
  /** `<protocol>` as stored (`tcp`, `udp`, `tcp/udp`, `icmp`, `esp`, `any`, …); null when empty. */
  protocol: string | null;
  /** `<icmptype>` split on commas (names or numbers); null when empty or `any`. */
  icmptypes: string[] | null;
  source: RuleEndpoint;
  destination: RuleEndpoint;
  descr: string;
  disabled: boolean;
  log: boolean;
  /** `<statetype>`: `keep state` (default), `sloppy state`, `modulate state`, `synproxy state`, `none`. */
  statetype: string | null;
  /** `<tcpflags1>` (flags that must be set) / `<tcpflags2>` (out of), comma lists of names (`syn,ack`). */
  tcpflags1?: string;
  tcpflags2?: string;
  tcpflagsAny: boolean;
  allowopts: boolean;
  tag?: string;
  tagged?: string;
  nottagged?: boolean;
  /** `<gateway>` name (policy routing). */
  gateway?: string;
  /** `<sched>` name (time-based rule). */
  sched?: string;
  /** Other child elements present on the rule that the engine does not model, with their text. */
  extra?: Record<string, string>;
}

/** The VPN services that create rules tabs (interface groups behind the scenes, docs/reference/pf-semantics.md §1.4). */
export interface VpnConfig {
  /**
   * OpenVPN server/client instances (disabled ones too: any instance creates the OpenVPN tab); device
   * `ovpns<vpnid>` / `ovpnc<vpnid>`.
   */
  openvpn: Array<{
    mode: 'server' | 'client';
    vpnid: number;
    device: string;
    descr: string;
    disabled?: boolean;
  }>;
  /** IPsec enabled (`<ipsec><enable/>` or any enabled phase 1): creates the `enc0` tab. */
  ipsec: boolean;
  /**
   * IPsec phase 1 peers in config order, for the IKE / NAT-T / ESP / AH passes pfSense adds after the user rules
   * (filter.inc `filter_generate_ipsec_rules`). Absent = none known.
   */
  ipsecPeers?: IpsecPeerConfig[];
  /** `<system><disablevpnrules/>`: pfSense adds no IPsec service rules. */
  disableVpnRules?: boolean;
  /** L2TP server enabled (`<l2tp><mode>server`). */
  l2tp: boolean;
  /** PPPoE servers enabled (`<pppoes><pppoe><mode>server`). */
  pppoeServer: boolean;
}

/** One IPsec phase 1 (`<ipsec><phase1>`) with the protocols of its phase 2 entries. */
export interface IpsecPeerConfig {
  descr: string;
  /** Interface key the tunnel is bound to (`<interface>`, a VIP reference is resolved by the importer). */
  interface: string;
  /** Remote gateway IP address; absent for mobile (road-warrior) phase 1s. */
  remoteGateway?: string;
  mobile: boolean;
  /** Protocols used by its phase 2 entries. */
  protocols: Array<'esp' | 'ah'>;
  /** `<disabled/>`: no rules, but it still advances pfSense's tracker numbering. */
  disabled?: boolean;
  /** `<ikeport>` / `<nattport>` of the peer (defaults 500 / 4500). */
  ikePort?: number;
  nattPort?: number;
}

/** System settings that add or shape generated rules. */
interface SystemConfig {
  hostname: string;
  /** `<system><ipv6allow/>`; when false IPv6 is blocked by quick rules near the top. */
  ipv6Allow: boolean;
  webgui: {
    protocol: 'http' | 'https';
    /** `<webgui><port>`; null = protocol default (80/443). */
    port: number | null;
    /** `<webgui><noantilockout/>`. */
    noAntiLockout: boolean;
    /** `<webgui><disablehttpredirect/>`: https without the port-80 redirect (anti-lockout keeps only the GUI port). */
    disableHttpRedirect: boolean;
  };
  ssh: {
    enabled: boolean;
    /** `<ssh><port>`; null = 22. */
    port: number | null;
  };
  /** `<system><disablereplyto/>`. */
  disableReplyTo: boolean;
  /** `<system><no_apipa_block/>`: drops the IPv4 link-local block rules. */
  noApipaBlock: boolean;
  /** `<syslog><nologdefaultblock/>` inverted: default block rules carry `log`. */
  logDefaultBlock: boolean;
  /** `<syslog><nologdefaultpass/>` present: default pass rules carry `log`. */
  logDefaultPass: boolean;
  /** `<syslog><nologbogons/>` inverted (absent = true): bogon block rules carry `log`. */
  logBogons?: boolean;
  /** `<syslog><nologprivatenets/>` inverted (absent = true): private-network block rules carry `log`. */
  logPrivateNets?: boolean;
  /** `<system><maximumtableentries>`, informational. */
  maximumTableEntries?: number;
  /**
   * Known contents of the pf `<bogons>` / `<bogonsv6>` tables. Absent = use the file pfSense ships (IPv4, static)
   * and treat `<bogonsv6>` as dynamic (its contents come from a periodic download) — see docs/adr/0038.
   */
  bogons?: { ipv4?: string[]; ipv6?: string[] };
}

/** The whole filter-relevant configuration. This is also the JSON model accepted by the importer. */
export interface PolicyConfig {
  /** Format version of this JSON shape. */
  version: 1;
  system: SystemConfig;
  /** Interfaces in config order (pfSense processes them in this order). */
  interfaces: InterfaceConfig[];
  groups: InterfaceGroupConfig[];
  virtualIps: VirtualIpConfig[];
  aliases: AliasConfig[];
  vpn: VpnConfig;
  /** `<filter><rule>` in config order (all tabs interleaved, as stored). Separators are not rules. */
  rules: RuleConfig[];
  /** Interfaces the DHCP (`<dhcrelay>`) and DHCPv6 (`<dhcrelay6>`) relays listen on, when enabled. Additive. */
  dhcpRelay?: { ipv4: string[]; ipv6: string[] };
  /** NAT port forwards present with reflection enabled (adds the NAT-reflection pass). */
  natReflection: boolean;
  /** `<nat>`: port forwards, 1:1 and outbound NAT (docs/reference/pfsense-nat.md). Absent = no NAT configured. Additive. */
  nat?: NatConfig;
  /**
   * Present when the config is an OPNsense one: the ruleset is generated in OPNsense's order with its automatic
   * rules, and `rules` are already in OPNsense's priority order (docs/reference/opnsense-rules.md §2). Additive.
   */
  opnsense?: OpnsenseSettings;
}

/** OPNsense switches that shape its automatic rules (docs/reference/opnsense-rules.md §3). */
export interface OpnsenseSettings {
  /** `<system><no_ipv6_rfc4890_req>`: no ICMPv6 essentials. */
  noIpv6Rfc4890: boolean;
  /** `<system><no_port0_block>`: no port-0 block. */
  noPort0Block: boolean;
  /** `<system><no_sshlockout>`: no `<sshlockout>` blocks. */
  noSshLockout: boolean;
  /** `<system><no_virusprot>`: no `<virusprot>` block. */
  noVirusProt: boolean;
  /** Interface keys marked `<virtual>`: no bogon / private-network rules, never the anti-lockout interface. */
  virtualInterfaces: string[];
  /**
   * Interface keys that have an IPv4 / IPv6 gateway as OPNsense's interface mapping sees it: automatic outbound NAT
   * applies on them and NAT reflection skips them (docs/reference/opnsense-rules.md §7.1). Absent = pfSense's test.
   * Additive.
   */
  gatewayInterfaces?: { inet: string[]; inet6: string[] };
}

/** NAT reflection mode of a port forward or 1:1 entry (`<natreflection>`); absent = the system default. */
export type NatReflectionMode = 'enable' | 'purenat' | 'disable';

/** One port forward (`<nat><rule>`), in config order. */
export interface PortForwardConfig {
  /** Interface key (`<interface>`; empty = `wan`). */
  interface: string;
  ipprotocol: 'inet' | 'inet6';
  /** `<protocol>`: `tcp`, `udp`, `tcp/udp`, `icmp`, `any`, … */
  protocol: string;
  source: RuleEndpoint;
  /** The external destination and its port (range `80-90` or a port alias). */
  destination: RuleEndpoint;
  /** `<target>`: the internal IP address or host alias. */
  target: string;
  /** `<local-port>`: the first internal port (a range maps one to one); empty = same port. */
  localPort?: string;
  /** `<associated-rule-id>`: the linked filter rule's id, `pass` for `rdr pass`, empty for none. */
  associatedRuleId?: string;
  /**
   * OPNsense `<pass>rule</pass>` ("Register rule"): OPNsense writes the associated pass rule itself, after every user
   * rule (docs/reference/opnsense-rules.md §7.3). Additive.
   */
  registerRule?: boolean;
  /** `<nordr/>`: `no rdr` (exclude from redirection). */
  noRdr: boolean;
  disabled: boolean;
  natReflection?: NatReflectionMode;
  descr: string;
}

/** Outbound NAT mode (`<nat><outbound><mode>`); absent in XML = `automatic`. */
type OutboundNatMode = 'automatic' | 'hybrid' | 'advanced' | 'disabled';

/** One manual outbound NAT rule (`<nat><outbound><rule>`). */
export interface OutboundNatConfig {
  interface: string;
  /** `inet`, `inet6` or absent (both / from the addresses). */
  ipprotocol?: 'inet' | 'inet6';
  /** `<protocol>`; absent = any. */
  protocol?: string;
  /** `<source><network>`: CIDR, alias or `any`. */
  source: string;
  /** `<source><not/>` (OPNsense only; pfSense has no source negation here). Additive. */
  sourceNot?: boolean;
  sourcePort?: string;
  /** `<destination><network>` or `any`; `not` = `<destination><not/>`. */
  destination: string;
  destinationNot: boolean;
  destinationPort?: string;
  /** `<target>`: empty = the interface address; an IP, a subnet (with `targetSubnet`) or an alias. */
  target: string;
  targetSubnet?: number;
  /** `<natport>`: a fixed translated source port. */
  natPort?: string;
  /** `<staticnatport/>`: keep the source port. */
  staticPort: boolean;
  /** `<nonat/>`: `no nat` (do not translate). */
  noNat: boolean;
  disabled: boolean;
  descr: string;
}

/** One 1:1 mapping (`<nat><onetoone>`). */
export interface OneToOneConfig {
  interface: string;
  ipprotocol: 'inet' | 'inet6';
  /** `<external>`: the external address (the internal `source` subnet's size applies). */
  external: string;
  /** `<source>`: the internal address or subnet. */
  source: RuleEndpoint;
  /** `<destination>`: which peers the mapping applies to (usually any). */
  destination: RuleEndpoint;
  /** `<nobinat/>`: `no binat`. */
  noBinat: boolean;
  /**
   * OPNsense 1:1 `<type>`: `binat` (default) or `nat`, a one-way `nat` rule that only translates outbound traffic
   * (docs/reference/opnsense-rules.md §7.4). Additive.
   */
  type?: 'binat' | 'nat';
  disabled: boolean;
  natReflection?: NatReflectionMode;
  descr: string;
}

/** `<nat>` plus the system switches that shape it. */
export interface NatConfig {
  portForwards: PortForwardConfig[];
  outbound: { mode: OutboundNatMode; rules: OutboundNatConfig[] };
  oneToOne: OneToOneConfig[];
  /**
   * `<system>` reflection switches: `disablenatreflection` (port forwards default to no reflection),
   * `enablenatreflectionpurenat` (default mode pure NAT instead of NAT + proxy), `enablebinatreflection` (1:1
   * reflection), `enablenatreflectionhelper` (automatic outbound NAT for reflection).
   */
  reflection: { disabled: boolean; pureNat: boolean; binat: boolean; helper: boolean };
}

// ---------------------------------------------------------------------------------------------------------------
// OUTPUT: PfRuleset — the generated, resolved ruleset
// ---------------------------------------------------------------------------------------------------------------

/**
 * A set of addresses: canonical CIDR strings of BOTH families, and whether the set may hold more than `cidrs`
 * (contents known only at run time: URL tables, FQDN entries, DHCP/PPPoE/SLAAC addresses, `<bogonsv6>`).
 * Contract: an address inside `cidrs` is in the set; an address outside `cidrs` is NOT in the set when `dynamic`
 * is false and UNKNOWN when `dynamic` is true (the evaluator answers `unknown`, never a confident guess).
 */
export interface AddressSet {
  cidrs: string[];
  dynamic: boolean;
  /**
   * When `dynamic`: the families whose contents are not fully known (a LAN with a static IPv4 address and track6
   * IPv6 is dynamic for `inet6` only, so IPv4 answers stay definite). Absent = both families. Additive field for
   * the evaluator (docs/adr/0053).
   */
  dynamicFamilies?: AddressFamily[];
  /**
   * When `dynamic`: CIDRs known to hold no run-time member (the static subnets of the firewall's other interfaces,
   * loopback): an address outside `cidrs` but inside `excludes` is NOT in the set. A DHCP WAN address or a VPN
   * tunnel address cannot lie inside the LAN's subnet (docs/adr/0038). Absent = nothing excluded. Additive field.
   */
  excludes?: string[];
}

/** A pf table (`table <NAME> { … }`), generated for an alias, an interface network or a system list. */
export interface PfTable extends AddressSet {
  name: string;
  /** What produced it: a user alias, an interface/group `__NETWORK` macro, or a pfSense system table. */
  source: 'alias' | 'interface-network' | 'system';
  /** Alias type, for `source: 'alias'`. */
  aliasType?: AliasType;
  descr?: string;
}

/**
 * What an address position (`from …` / `to …`) matches, before negation.
 * - `any`: every address.
 * - `cidrs`: a literal list, OR-ed (pf `{ a b }`); static.
 * - `table`: `PfRuleset.tables[table]` (aliases, `$LAN__NETWORK`, `<bogons>`, `<sshguard>`, …).
 * - `self`: pf `(self)`, every address of the firewall: `PfRuleset.self`.
 * - `interface-address`: pf `(em1)`, the addresses of one interface (`PfRuleset.interfaces[…].addresses`),
 *   used by the anti-lockout rule and for interfaces whose address is dynamic.
 * - `interface-network`: pf `(em0:network)`, the subnets of one interface (`…networks`), used for antispoof of an
 *   interface whose address is dynamic.
 * Only addresses of the rule's `af` can match (a mixed-family table restricted by `inet`/`inet6`, §1.5).
 */
export type AddressMatch =
  | { kind: 'any' }
  | { kind: 'cidrs'; cidrs: string[] }
  | { kind: 'table'; table: string }
  | { kind: 'self' }
  | { kind: 'interface-address'; interface: string }
  | { kind: 'interface-network'; interface: string };

/** `from`/`to` address with negation (`! <table>` matches every address NOT in the set; docs/reference/pf-semantics.md §2.3). */
export interface AddressSpec {
  match: AddressMatch;
  negate: boolean;
}

/** An inclusive port range; a single port has `from === to`. */
export interface PortRange {
  from: number;
  to: number;
}

/**
 * A port position: the packet port must lie in one of `ranges` (OR). Only TCP/UDP packets can match a rule with a
 * port spec (pf: ports imply tcp/udp). `alias` names the port alias for printing; `dynamic` marks a url_ports /
 * urltable_ports alias whose contents are unknown (then `ranges` holds what is known, usually nothing).
 */
export interface PortSpec {
  ranges: PortRange[];
  alias?: string;
  dynamic?: boolean;
}

/** TCP flags test `flags <set>/<outOf>`: (packet flags & outOf) === set. Letters F S R P A U E W. */
export interface TcpFlags {
  set: string;
  outOf: string;
  /** True when pfctl adds it (every stateful rule without a flags clause); the printer omits implicit flags. */
  implicit: boolean;
}

/** State handling of a `pass` rule (null on block/reject/match rules). */
export type StateType = 'keep' | 'modulate' | 'synproxy' | 'sloppy' | 'none';

/**
 * The action as pf loads it. `reject` is pf `block return`: TCP gets RST|ACK, UDP and other non-ICMP protocols an
 * ICMP(v6) port unreachable, ICMP nothing (docs/reference/pf-semantics.md §2.6). `match` never changes the verdict.
 */
type RuleAction = 'pass' | 'block' | 'reject' | 'match';

/** Which tab (or generator section) a rule comes from. */
export interface RuleOrigin {
  kind: 'user' | 'system';
  /**
   * User rules: `floating`, a group name (incl. the VPN tabs `openvpn`, `enc0`, `l2tp`, `pppoe`) or an interface
   * key (`wan`, `lan`, `opt1`). System rules: `system`.
   */
  tab: string;
  /**
   * User rules: 1-based position in its tab as the GUI lists it (counting disabled rules and not separators).
   * System rules: 1-based order among the generated system rules.
   */
  position: number;
  /** User rule `<descr>`, or the system rule's purpose. */
  descr: string;
  /**
   * User rules: 0-based index of the `<rule>` inside `<filter>`; for an OPNsense config, the index in
   * `PolicyConfig.rules` (MVC and legacy rules in priority order, docs/reference/opnsense-rules.md §2).
   */
  configIndex?: number;
  /** System rules: stable identifier of the generator section (see `SystemRuleKey`). */
  systemKey?: SystemRuleKey;
  /** inet46 user rules are emitted twice; this says which half. */
  splitFamily?: AddressFamily;
}

/** Stable names of the generated system rule sections (filter.inc `filter_rules_generate`). */
export type SystemRuleKey =
  | 'ipv6-loopback'
  | 'ipv6-block-all'
  | 'ipv4-link-local'
  | 'default-deny'
  | 'icmp6-required'
  | 'icmp6-essential'
  | 'port-0'
  | 'snort2c'
  | 'carp'
  | 'sshguard'
  | 'sshlockout'
  | 'gui-lockout'
  | 'virusprot'
  | 'dhcp-client'
  | 'dhcpv6-client'
  | 'bogons'
  | 'antispoof'
  | 'block-private'
  | 'dhcp-server'
  | 'dhcp-relay'
  | 'dhcpv6-server'
  | 'pptp-client'
  | 'proto-41'
  | 'loopback'
  | 'let-out-anything'
  | 'let-out-route-to'
  | 'ipsec-internal'
  | 'ipsec-service'
  | 'anti-lockout'
  | 'nat-reflection'
  | 'nat-associated';

/**
 * The interfaces a rule applies to. `interfaces` are leaf interface keys (`PfInterface.key`, never a group): a
 * packet on interface K matches when K is in the list (or, with `negate`, when it is not). `group` is set when
 * the rule is written `on $GROUP` (group and VPN tabs), for printing. A rule with `on: null` applies everywhere.
 */
export interface InterfaceSpec {
  interfaces: string[];
  negate: boolean;
  group?: string;
}

/** One pf rule in evaluation order. */
export interface PfRule {
  /** 0-based position in `PfRuleset.rules`. */
  index: number;
  action: RuleAction;
  /** `any` = no direction keyword (both directions). */
  direction: 'in' | 'out' | 'any';
  quick: boolean;
  log: boolean;
  on: InterfaceSpec | null;
  /** null = no family keyword: matches IPv4 and IPv6. */
  af: AddressFamily | null;
  /**
   * pf protocol names, OR-ed (`tcp`, `udp`, `icmp`, `ipv6-icmp`, `esp`, `gre`, `41`, …); null = any protocol.
   * ICMPv6 is always `ipv6-icmp`.
   */
  protocols: string[] | null;
  from: AddressSpec;
  fromPort: PortSpec | null;
  to: AddressSpec;
  toPort: PortSpec | null;
  /** ICMP / ICMPv6 types (names as pf prints them or numbers), OR-ed; null = any type. */
  icmpTypes: string[] | null;
  /**
   * Effective TCP flags test; applies to TCP packets only. null = no test (`flags any`, or a stateless rule
   * without explicit flags). pfSense writes `flags S/SA` on every rule whose protocol is exactly tcp (block rules
   * too) and pfctl adds it to every stateful pass (docs/reference/pf-semantics.md §1.3, §2.4).
   */
  tcpFlags: TcpFlags | null;
  /** State created when this `pass` rule decides: null for non-pass rules. */
  state: StateType | null;
  /**
   * pf text of matching options the engine does not model (`os "…"`, `tos …`, `prio …`, `queue …`, `dnpipe …`),
   * printed verbatim. Matching ignores them (the rule is treated as matching regardless); a POL008 warning says so.
   */
  unmodelledOptions?: string[];
  /** State options as filter.inc writes them inside `( … )` (`sloppy max 100`), for printing; no verdict effect. */
  stateOptions?: string;
  allowOpts: boolean;
  /** `tag "x"`: sticky tag set on match (docs/reference/pf-semantics.md §2.8). */
  tag?: string;
  /** `tagged "x"` (or `! tagged "x"` with negate): matches only packets carrying the tag. */
  tagged?: { tag: string; negate: boolean };
  /** Schedule name: pfSense loads the rule only while the schedule is active; the verdict is time-dependent. */
  schedule?: string;
  /** Policy-routing text (`reply-to ( em0 1.2.3.4 )`, `route-to ( … )`, `$GWname`); no verdict effect. */
  routing?: string;
  /** The rule's descriptive label (`USER_RULE: …`, `Default deny rule IPv4`, …); null when none. */
  label: string | null;
  /** Further labels (`id:<tracker>`, `s:<schedule>`, `gw:<name>`). */
  extraLabels: string[];
  /** User rule `<tracker>` or the generated rule's tracker number (same as ridentifier for system rules). */
  tracker: string | null;
  /** pf `ridentifier`. */
  ridentifier: string | null;
  origin: RuleOrigin;
}

/** What kind of rules tab / pf interface an entry of `PfRuleset.interfaces` is. */
type PfInterfaceKind = 'interface' | 'group' | 'vpn-group' | 'vpn-tunnel' | 'loopback';

/**
 * An interface as the ruleset sees it. Leaf kinds (`interface`, `vpn-tunnel`, `loopback`) are what packets arrive
 * on; `group` entries list their leaf `members`. `vpn-tunnel` entries (`openvpn`, `enc0`, `l2tp`, `pppoe`) stand
 * for the tunnels of a VPN service that are not assigned as interfaces; they are also that service's rules tab, and
 * their `members` list the leaves the tab covers: the entry itself plus the assigned VPN interfaces (e.g. `opt2` on
 * `ovpns1`), so both tabs apply to those (docs/reference/pf-semantics.md §1.4). `vpn-group` is reserved (not emitted).
 */
export interface PfInterface {
  /** Config key (`wan`, `opt2`), group name, VPN tab key, or `lo0`. Packets name their interface by this key. */
  key: string;
  kind: PfInterfaceKind;
  /** pf interface or interface-group name (`em0`, `openvpn`, `enc0`, `INTERNAL`, `lo0`). */
  device: string;
  /**
   * `vpn-tunnel` only: the real devices this leaf stands for, so a packet may name them (`ovpns1`, `ovpnc2` for
   * unassigned OpenVPN instances; `enc0`).
   */
  tunnelDevices?: string[];
  /** pf macro name (`WAN`, `LAN`, `OpenVPN`, `IPsec`, …). */
  descr: string;
  /** For groups: member leaf keys. */
  members?: string[];
  /** Host addresses (/32, /128) of the interface incl. CARP and IP-alias VIPs; IPv6 link-local ones are unknown. */
  addresses: AddressSet;
  /** Connected subnets of the interface incl. VIP subnets. */
  networks: AddressSet;
  /** Has an IPv4 / IPv6 gateway (reply-to applies). */
  hasGateway: boolean;
}

/**
 * One pf translation rule, in the order pfSense writes them (binat, then outbound nat, then rdr). pf consults, per
 * packet, outbound binat then nat, inbound rdr then binat (docs/reference/pfsense-nat.md §2). Addresses are resolved
 * like filter rules.
 */
export interface PfNatRule {
  index: number;
  kind: 'nat' | 'rdr' | 'binat';
  /** `no nat` / `no rdr` / `no binat`: a match ends the search without translating. */
  no: boolean;
  /** `rdr pass`: the redirected packet passes without filter rule evaluation. */
  pass: boolean;
  on: InterfaceSpec;
  af: AddressFamily;
  protocols: string[] | null;
  /** For binat: `from` is the internal address (outbound match); inbound packets match `to` = `target`. */
  from: AddressSpec;
  fromPort: PortSpec | null;
  to: AddressSpec;
  toPort: PortSpec | null;
  /**
   * The translation target: an address or subnet (`cidr`; a subnet maps host bits one to one for binat and rdr
   * `bitmask`), or the interface's current address (`interface`, pf `(em0)`, dynamic when DHCP).
   */
  target: { kind: 'cidr'; cidr: string } | { kind: 'interface'; interface: string } | null;
  /** rdr: first internal port (a range keeps its offset); nat: a fixed port. null = unchanged / pf chooses. */
  targetPort: number | null;
  /** nat: `static-port` (source port kept). Without it pf picks a port in 1024-65535. */
  staticPort: boolean;
  origin: {
    kind: 'port-forward' | 'outbound' | 'outbound-automatic' | 'one-to-one' | 'reflection';
    /** 0-based index in its config list (`<nat><rule>`, `<outbound><rule>`, `<onetoone>`). */
    configIndex?: number;
    descr: string;
  };
  /** pf text as rules.debug prints it. */
  text: string;
}

/** A note line in the generated text (a skipped rule, a section header), placed before rule `beforeIndex`. */
export interface RulesetNote {
  beforeIndex: number;
  text: string;
}

/** Severity of an import/generation warning: `error` = a rule or element was left out or cannot be modelled. */
export type WarningSeverity = 'error' | 'warning' | 'info';

/**
 * Something unsupported, unresolvable or left out, reported instead of silently dropped.
 * `code` values are stable (see `src/policy/warnings.ts` and docs/policy.md).
 */
export interface PolicyWarning {
  code: string;
  severity: WarningSeverity;
  message: string;
  /** Where: `rule`, `alias`, `interface`, `group`, `vip`, `system`, `config`. */
  element: string;
  /** Rule origin (tab/position/descr) or element name when it applies. */
  ref?: { tab?: string; position?: number; configIndex?: number; name?: string; descr?: string };
}

/** The generated ruleset. */
export interface PfRuleset {
  /** Which generator this reproduces: pfSense 2.7.2, or OPNsense (docs/reference/opnsense-rules.md). */
  target: 'pfsense-2.7.2' | 'opnsense';
  /** pf state policy: pfSense 2.7.2 emits none, so FreeBSD's default `floating` applies. */
  statePolicy: 'floating' | 'if-bound';
  /** Interfaces in pfSense's `$FilterIflist` order: enabled interfaces, VPN tabs, groups; then loopback. */
  interfaces: PfInterface[];
  /** Tables by name. */
  tables: Record<string, PfTable>;
  /** Port aliases by name (pf macros `NAME = "{ 80 443 8000:8080 }"`), for printing. */
  portAliases: Record<string, PortSpec>;
  /** pf `(self)`: every address of every interface, VIPs, and loopback. */
  self: AddressSet;
  /** The rules in evaluation order. */
  rules: PfRule[];
  /** Comment lines for the printed text (skipped rules and why). */
  notes: RulesetNote[];
  /** Everything reported while importing and generating. */
  warnings: PolicyWarning[];
  /** Translation rules (rules.debug's NAT section). Absent = none. Additive. */
  nat?: PfNatRule[];
}

/** pfSense's `$vpn_and_ppp_ifs` (globals.inc): rule tabs that are interface groups behind the scenes. */
export const VPN_TAB_KEYS = ['l2tp', 'pppoe', 'enc0', 'openvpn'] as const;
