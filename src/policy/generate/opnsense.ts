/**
 * @module The automatic rules OPNsense registers around the user rules (filter.lib.inc `filter_core_rules_system`,
 * docs/reference/opnsense-rules.md §3), in its priority order: priority 1 (IPv6 block, default deny, ICMPv6,
 * port 0, CARP, lockout tables, DHCP clients and servers) then priority 5 (bogons, private networks, let-out,
 * anti-lockout). The vendor switch in `generateRuleset` uses these instead of pfSense's
 * (docs/adr/0146-opnsense-configurations.md).
 */
import type {
  AddressSpec,
  OpnsenseSettings,
  PolicyConfig,
  PolicyWarning,
  PortSpec,
  RuleConfig,
  SystemRuleKey,
} from '../model.ts';
import { policyWarning } from '../warnings.ts';
import type { FilterIf, InterfaceModel } from './interfaces.ts';
import { cidrs, type DraftRule, draftRule, type RuleFields, systemOrigin, table } from './rule.ts';

const SELF: AddressSpec = { match: { kind: 'self' }, negate: false };
const LINK_LOCAL = 'fe80::/10';
const ALL_NODES = 'ff02::/16';
const PRIVATE_V4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16'];
const PRIVATE_V6 = ['fd00::/8', 'fe80::/10', '::1/128'];

function ports(...list: number[]): PortSpec {
  return { ranges: list.map((n) => ({ from: n, to: n })) };
}

/** Generates OPNsense's automatic rules that precede the user rules (priorities 1 and 5). */
export function generateOpnsenseSystemRules(
  config: PolicyConfig,
  settings: OpnsenseSettings,
  ifs: InterfaceModel,
  warnings: PolicyWarning[],
): DraftRule[] {
  const out: DraftRule[] = [];
  const { system } = config;
  const ipv6 = system.ipv6Allow;
  // filter_core_bootstrap: every automatic pass / block logs unless syslog says otherwise; direction defaults to in.
  const add = (key: SystemRuleKey, descr: string, fields: Omit<RuleFields, 'origin'>) => {
    out.push(draftRule({ direction: 'in', quick: true, label: descr, ...fields, origin: systemOrigin(key, descr) }));
  };
  const pass = { action: 'pass', log: system.logDefaultPass } as const;
  const block = { action: 'block', log: system.logDefaultBlock } as const;
  // The interface mapping is sorted by description, naturally (config.inc legacy_config_get_interfaces, §3).
  const leaves = ifs.filterIfs
    .filter((entry) => entry.kind === 'interface')
    .sort((a, b) => naturalCompare(a.config?.descr ?? a.key, b.config?.descr ?? b.key));
  const on = (entry: FilterIf) => ({ interfaces: entry.leaves, negate: false });

  // --- priority 1 (§3.1) ---
  if (!ipv6) add('ipv6-block-all', 'Block all IPv6', { ...block, af: 'inet6' });
  // inet46 rules are written once per family (Rule.php `reader`).
  for (const af of ['inet', 'inet6'] as const) {
    add('default-deny', 'Default deny / state violation rule', { ...block, af, quick: false });
  }
  if (ipv6 && !settings.noIpv6Rfc4890) {
    const icmp6 = { ...pass, af: 'inet6' as const, protocols: ['ipv6-icmp'], state: 'keep' as const };
    const descr = 'IPv6 RFC4890 requirements (ICMP)';
    add('icmp6-required', descr, { ...icmp6, icmpTypes: ['1', '2', '3', '4', '135', '136'] });
    add('icmp6-essential', descr, {
      ...icmp6,
      direction: 'out',
      icmpTypes: ['128', '129', '133', '134', '135', '136'],
      from: SELF,
      to: cidrs([LINK_LOCAL, ALL_NODES]),
    });
    const inbound = ['128', '133', '134', '135', '136'];
    for (const [from, to] of [
      [[LINK_LOCAL], [LINK_LOCAL, ALL_NODES]],
      [[ALL_NODES], [LINK_LOCAL]],
      [['::/128'], [ALL_NODES]],
    ] as const) {
      add('icmp6-essential', descr, { ...icmp6, icmpTypes: inbound, from: cidrs([...from]), to: cidrs([...to]) });
    }
  }
  if (!settings.noPort0Block) {
    for (const side of ['fromPort', 'toPort'] as const) {
      for (const af of ['inet', 'inet6'] as const) {
        add('port-0', 'block all targeting port 0', { ...block, af, protocols: ['tcp', 'udp'], [side]: ports(0) });
      }
    }
  }
  if (config.virtualIps.some((vip) => vip.mode === 'carp')) {
    for (const to of ipv6 ? ['ff02::12/128', '224.0.0.18/32'] : ['224.0.0.18/32']) {
      add('carp', 'CARP defaults', { ...pass, direction: 'any', protocols: ['carp'], to: cidrs([to]) });
    }
  }
  if (!settings.noSshLockout) {
    const webPort = system.webgui.port ?? (system.webgui.protocol === 'http' ? 80 : 443);
    for (const port of [system.ssh.port ?? 22, webPort]) {
      const listed = { ...block, protocols: ['tcp'], from: table('sshlockout'), to: SELF };
      add('sshlockout', 'sshlockout', { ...listed, toPort: ports(port) });
    }
  }
  if (!settings.noVirusProt) add('virusprot', 'virusprot overload table', { ...block, from: table('virusprot') });
  for (const entry of leaves) addInterfaceServices(entry);

  // --- priority 5 (§3.2) ---
  for (const entry of leaves) {
    const iface = entry.config;
    if (iface === undefined || settings.virtualInterfaces.includes(entry.key)) continue;
    const bogon = { action: 'block', log: system.logBogons ?? true, on: on(entry) } as const;
    const priv = { action: 'block', log: system.logPrivateNets ?? true, on: on(entry) } as const;
    if (iface.blockBogons) {
      add('bogons', `Block bogon IPv4 networks from ${iface.descr}`, { ...bogon, af: 'inet', from: table('bogons') });
      if (ipv6) {
        const descr = `Block bogon IPv6 networks from ${iface.descr}`;
        add('bogons', descr, { ...bogon, af: 'inet6', from: table('bogonsv6') });
      }
    }
    if (iface.blockPrivate) {
      const descr = `Block private networks from ${iface.descr}`;
      add('block-private', descr, { ...priv, af: 'inet', from: cidrs(PRIVATE_V4) });
      if (ipv6) add('block-private', descr, { ...priv, af: 'inet6', from: cidrs(PRIVATE_V6) });
    }
  }
  add('let-out-anything', 'let out anything from firewall host itself', {
    ...pass,
    direction: 'out',
    quick: false,
    allowOpts: true,
  });
  const lockout = antiLockout(config, settings, ifs);
  if (lockout !== null) {
    for (const port of lockout.ports) {
      const rule = { ...pass, on: on(lockout.entry), protocols: ['tcp'], to: SELF, toPort: ports(port) };
      add('anti-lockout', 'anti-lockout rule', rule);
    }
  }
  return out;

  /** DHCP client / server passes per interface type (§3.1); 6rd and 6to4 are reported, not generated. */
  function addInterfaceServices(entry: FilterIf): void {
    const iface = entry.config;
    if (iface === undefined) return;
    const udp = { ...pass, on: on(entry), protocols: ['udp'] };
    if (ipv6 && (iface.ipv6.mode === 'dhcp6' || iface.ipv6.mode === 'slaac')) {
      const inbound = { ...udp, to: cidrs([LINK_LOCAL]), toPort: ports(546) };
      add('dhcpv6-client', `allow dhcpv6 client in ${iface.descr}`, inbound);
      add('dhcpv6-client', `allow dhcpv6 client out ${iface.descr}`, {
        ...udp,
        direction: 'out',
        from: cidrs([LINK_LOCAL]),
        fromPort: ports(546),
        to: cidrs([LINK_LOCAL, ALL_NODES]),
        toPort: ports(547),
      });
    }
    if (iface.ipv4.mode === 'dhcp') {
      const descr = `allow DHCP client on ${iface.descr}`;
      add('dhcp-client', descr, { ...udp, fromPort: ports(67), toPort: ports(68) });
      add('dhcp-client', descr, { ...udp, direction: 'out', fromPort: ports(68), toPort: ports(67) });
    } else if (iface.ipv4.mode === 'pptp') {
      const message = `${iface.key}: the PPTP client rules are not generated`;
      warnings.push(policyWarning('POL040', 'interface', message, { name: iface.key }));
    } else if (iface.dhcpServer) {
      const descr = 'allow access to DHCP server';
      add('dhcp-server', descr, { ...udp, fromPort: ports(68), to: cidrs(['255.255.255.255/32']), toPort: ports(67) });
      add('dhcp-server', descr, { ...udp, fromPort: ports(68), to: SELF, toPort: ports(67) });
      add('dhcp-server', descr, { ...udp, direction: 'out', from: SELF, fromPort: ports(67), toPort: ports(68) });
    }
    if (!ipv6) return;
    if (iface.ipv6.mode === '6rd' || iface.ipv6.mode === '6to4') {
      const message = `${iface.key}: the ${iface.ipv6.mode} protocol-41 rules are not generated`;
      warnings.push(policyWarning('POL040', 'interface', message, { name: iface.key }));
    } else if (iface.dhcpv6Server || iface.ipv6.mode === 'track6') {
      const descr = `allow access to DHCPv6 server on ${iface.descr}`;
      const udp6 = { ...udp, af: 'inet6' } as const;
      const toClients = cidrs([LINK_LOCAL, ALL_NODES]);
      add('dhcpv6-server', descr, { ...udp6, from: cidrs([LINK_LOCAL]), to: toClients, toPort: ports(546) });
      add('dhcpv6-server', descr, { ...udp6, from: cidrs([LINK_LOCAL]), to: cidrs([ALL_NODES]), toPort: ports(547) });
      add('dhcpv6-server', descr, { ...udp6, from: cidrs([ALL_NODES]), to: cidrs([LINK_LOCAL]), toPort: ports(547) });
      add('dhcpv6-server', descr, { ...udp6, from: cidrs([LINK_LOCAL]), to: SELF, toPort: ports(546) });
      const outbound = { ...udp6, direction: 'out', from: SELF, fromPort: ports(547) } as const;
      add('dhcpv6-server', descr, { ...outbound, to: cidrs([LINK_LOCAL]) });
    }
  }
}

/**
 * `filter_core_get_antilockout`: the first of the non-virtual interfaces, natural-sorted, named lan, optN or wan;
 * the GUI port (plus 80 for the https redirect) and the SSH port when enabled, sorted (§3.3).
 */
export function antiLockout(
  config: PolicyConfig,
  settings: OpnsenseSettings,
  ifs: InterfaceModel,
): { entry: FilterIf; ports: number[] } | null {
  const { webgui, ssh } = config.system;
  if (webgui.noAntiLockout) return null;
  const keys = config.interfaces
    .map((iface) => iface.key)
    .filter((key) => !settings.virtualInterfaces.includes(key))
    .sort(naturalCompare);
  const key = keys.find((name) => /^(lan|opt[0-9]+|wan)$/.test(name));
  const entry = key === undefined ? undefined : ifs.byKey.get(key);
  if (entry === undefined || entry.kind !== 'interface') return null;
  const list = [webgui.port ?? (webgui.protocol === 'https' ? 443 : 80)];
  if (webgui.protocol === 'https' && !webgui.disableHttpRedirect) list.push(80);
  if (ssh.enabled) list.push(ssh.port ?? 22);
  return { entry, ports: list.sort((a, b) => a - b) };
}

/** PHP `strnatcmp`: digit runs compare as numbers, everything else by code unit (case-sensitive). */
export function naturalCompare(a: string, b: string): number {
  const chunks = (value: string) => value.match(/\d+|\D+/g) ?? [];
  const left = chunks(a);
  const right = chunks(b);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i] ?? '';
    const y = right[i] ?? '';
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    const order = numeric ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (order !== 0) return Math.sign(order);
  }
  return Math.sign(left.length - right.length);
}

/**
 * The pass rules OPNsense registers for port forwards set to "Register rule" (`<pass>rule`), at priority 500000
 * after every user rule (filter.lib.inc l.638-668, docs/reference/opnsense-rules.md §7.3): on the forward's
 * interface, from its source, to its target on the local port (a range keeps its length), or the external port.
 */
export function opnsenseAssociatedRules(config: PolicyConfig): RuleConfig[] {
  const out: RuleConfig[] = [];
  for (const forward of config.nat?.portForwards ?? []) {
    if (!forward.registerRule || forward.disabled) continue;
    const external = forward.destination.port;
    let port = forward.localPort ?? external;
    const range = external === undefined ? null : /^(\d+)[-:](\d+)$/.exec(external);
    if (forward.localPort !== undefined && range !== null && /^\d+$/.test(forward.localPort)) {
      port = `${forward.localPort}-${Number(range[2]) - Number(range[1]) + Number(forward.localPort)}`;
    }
    out.push({
      type: 'pass',
      interface: forward.interface,
      floating: false,
      quick: true,
      direction: 'in',
      ipprotocol: forward.ipprotocol,
      protocol: forward.protocol === 'any' ? null : forward.protocol,
      icmptypes: null,
      source: forward.source,
      destination: {
        // An address or an alias (its table); an interface name is that interface's network (§2.3).
        kind: config.interfaces.some((i) => forward.target === i.key) ? 'network' : 'address',
        value: forward.target,
        not: false,
        ...(port ? { port } : {}),
      },
      descr: forward.descr,
      disabled: false,
      log: false,
      statetype: null,
      tcpflagsAny: false,
      allowopts: false,
    });
  }
  return out;
}
