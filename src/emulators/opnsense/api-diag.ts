/**
 * @module Live reads and state kills (docs/reference/opnsense-api.md §6): `diagnostics/firewall`
 * (`query_states`, `kill_states`, `del_state`, `flush_states`, `log`, `pf_states`), `core/firmware/status`,
 * `diagnostics/system/*`, `core/system/status`, `interfaces/overview/*` and `ids/service/query_alerts`, as
 * opnsense/core 26.1.11 answers them over the emulated box.
 */
import ipaddr from 'ipaddr.js';
import { type Ctx, phpString, postInt, requestGet, requestInt, searchRecordset } from './context.ts';
import type { Route } from './routes.ts';
import type { PfState } from './state.ts';
import type { VersionProfile } from './types.ts';

/** `SanitizeFilter::filter_query`: keeps `[0-9a-zA-Z ,*-_.#]` — so `:` and `/` vanish (§7). */
export function sanitizeQuery(input: string): string {
  return input.replace(/[^0-9,a-z,A-Z, ,*,\-,_,.,#]/g, '');
}

function hexval(input: string): string {
  return input.replace(/[^0-9a-fA-F]/g, '');
}

type NetClause = [net: [ipaddr.IPv4 | ipaddr.IPv6, number], port: string | null];

/** `lib/states.py::split_filter_clauses`: a clause that parses as a network filters by address, others by text. */
function splitClauses(filter: string): [NetClause[], string[]] {
  const nets: NetClause[] = [];
  const texts: string[] = [];
  for (const clause of filter.split(/\s+/).filter((c) => c !== '')) {
    let addr = clause.trim();
    let port: string | null = null;
    if (addr.startsWith('[') && addr.split(']').length === 2) {
      const tail = addr.split(']')[1] as string;
      port = (tail.match(/:/g) ?? []).length === 1 ? (tail.split(':')[1] as string) : null;
      addr = (addr.split(']')[0] as string).slice(1);
    } else if ((addr.match(/:/g) ?? []).length === 1) {
      port = addr.split(':')[1] as string;
      addr = addr.split(':')[0] as string;
    }
    const net = parseNetwork(addr);
    if (net) nets.push([net, port]);
    else texts.push(clause);
  }
  return [nets, texts];
}

/** Python's `ipaddress.ip_network(addr)` (strict): host bits set is an error. */
function parseNetwork(addr: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | null {
  try {
    if (addr.includes('/')) {
      const [ip, bits] = ipaddr.parseCIDR(addr);
      const base = ip.kind() === 'ipv4'
        ? ipaddr.IPv4.networkAddressFromCIDR(addr)
        : ipaddr.IPv6.networkAddressFromCIDR(addr);
      if (base.toString() !== ip.toString()) return null;
      return [ip, bits];
    }
    if (!ipaddr.isValid(addr)) return null;
    if (addr.includes('.') && !ipaddr.IPv4.isValidFourPartDecimal(addr)) return null;
    const ip = ipaddr.parse(addr);
    return [ip, ip.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return null;
  }
}

function overlaps(net: [ipaddr.IPv4 | ipaddr.IPv6, number], addr: string | null): boolean {
  if (addr === null || addr === '') return false;
  try {
    const ip = ipaddr.parse(addr);
    return ip.kind() === net[0].kind() && ip.match(net[0], net[1]);
  } catch {
    return false;
  }
}

/** `lib/states.py::query_states` over the emulated state table. */
export function queryStates(states: PfState[], ruleLabel: string, filter: string): PfState[] {
  const [nets, texts] = splitClauses(filter);
  return states.filter((s) => {
    if (ruleLabel !== '' && !s.label.toLowerCase().includes(ruleLabel)) return false;
    if (nets.length === 0 && texts.length === 0) return true;
    let match = nets.length === 0;
    for (const [net, port] of nets) {
      match = false;
      const pairs: Array<[string | null, string | null]> = [
        [s.src_addr, s.src_port],
        [s.dst_addr, s.dst_port],
        [s.nat_addr, s.nat_port],
        [s.gateway, null],
      ];
      for (const [addr, p] of pairs) {
        if (overlaps(net, addr) && (port === null || port === p)) match = true;
      }
      if (!match) break;
    }
    if (!match) return false;
    if (texts.length > 0) {
      const line = Object.values(s)
        .filter((v) => v !== null && v !== '' && !(Array.isArray(v) && v.length === 0) && v !== 0)
        .map((v) => (Array.isArray(v) ? `[${v.join(', ')}]` : String(v)))
        .join(' ');
      for (const t of texts) if (!line.includes(t)) return false;
    }
    return true;
  });
}

function ifnames(ctx: Ctx): Record<string, string> {
  const out: Record<string, string> = { lo0: 'loopback' };
  for (const i of ctx.dev.box.interfaces) out[i.device] = i.descr !== '' ? i.descr : i.id;
  return out;
}

const queryStatesAction = (ctx: Ctx): unknown => {
  if (!ctx.isPost) return { rows: [], rowCount: 0, total: 0, current: 0 };
  const perPage = postInt(ctx, 'rowCount', 9999);
  const current = postInt(ctx, 'current', 1);
  const ruleId = typeof ctx.post.ruleid === 'string' && ctx.post.ruleid !== '' ? sanitizeQuery(ctx.post.ruleid) : '';
  const phrase =
    typeof ctx.post.searchPhrase === 'string' ? ctx.post.searchPhrase.replace(/<[^>]*>/g, '') : '';
  const all = queryStates(ctx.dev.box.states, ruleId, phrase);
  const offset = (current - 1) * perPage;
  let details = offset >= 0 ? all.slice(offset) : all;
  if (perPage >= 0 && details.length >= perPage) details = details.slice(0, perPage);
  const names = ifnames(ctx);
  const rows = details.map((s) => ({ ...s, interface: names[s.iface] ?? s.iface }));
  return { rows, rowCount: rows.length, total: all.length, current };
};

const killStatesAction = (ctx: Ctx): unknown => {
  if (!ctx.isPost) return { result: 'failed' };
  const rawFilter = ctx.post.filter;
  const rawRule = ctx.post.ruleid;
  const filter = rawFilter !== undefined && rawFilter !== null && rawFilter !== '' && rawFilter !== '0'
    ? sanitizeQuery(phpString(rawFilter))
    : '';
  const ruleid = rawRule !== undefined && rawRule !== null && rawRule !== '' && rawRule !== '0' ? hexval(phpString(rawRule)) : '';
  if (filter === '' && ruleid === '') return { result: 'failed' };
  const victims = new Set(queryStates(ctx.dev.box.states, ruleid, filter).map((s) => s.id));
  ctx.dev.box.states = ctx.dev.box.states.filter((s) => !victims.has(s.id));
  return { result: 'ok', dropped_states: victims.size };
};

const delStateAction = (ctx: Ctx): unknown => {
  if (!ctx.isPost) return { result: '' };
  const id = `${hexval(ctx.params[0] ?? '')}/${hexval(ctx.params[1] ?? '')}`;
  const before = ctx.dev.box.states.length;
  ctx.dev.box.states = ctx.dev.box.states.filter((s) => s.id !== id);
  return { result: before !== ctx.dev.box.states.length ? 'killed 1 states\n' : 'killed 0 states\n' };
};

const flushStatesAction = (ctx: Ctx): unknown => {
  if (!ctx.isPost) return { result: 'failed' };
  ctx.dev.box.states = [];
  return { result: 'ok' };
};

const pfStatesAction = (ctx: Ctx): unknown => ({ current: String(ctx.dev.box.states.length), limit: '1000000' });

const logAction = (ctx: Ctx): unknown => {
  if (!ctx.isGet) return null;
  const limit = requestInt(ctx, 'limit', 1000) || 1000;
  const digest = phpString(requestGet(ctx, 'digest'));
  let rows = [...ctx.dev.box.firewallLog].reverse();
  if (digest !== '') {
    const i = rows.findIndex((r) => r.__digest__ === digest);
    if (i >= 0) rows = rows.slice(0, i);
  }
  return rows.slice(0, limit);
};

// ---- version, health, interfaces ----------------------------------------------------------------------------

const NICKNAMES: Record<VersionProfile, string> = {
  '24.7': 'Thriving Tiger',
  '26.1.11': 'Witty Woodpecker',
  '26.7': 'Xenial Xenops',
  // Mk/version.mk CORE_NICKNAME on master (opnsense/core f95e81516e)
  '27.1.a_161': 'Not Yet',
};

function series(v: VersionProfile): string {
  return v.split('.').slice(0, 2).join('.');
}

export function product(ctx: Ctx): Record<string, unknown> {
  const v = ctx.dev.version;
  return {
    product_abi: series(v),
    product_arch: 'amd64',
    product_check: null,
    product_conflicts: 'os-firewall',
    product_copyright_owner: 'Deciso B.V.',
    product_copyright_url: 'https://www.deciso.com/',
    product_copyright_years: '2014-2026',
    product_email: 'project@opnsense.org',
    product_hash: '0123abcd4',
    product_id: 'opnsense',
    product_latest: v,
    product_license: [],
    product_log: 0,
    product_mirror: 'https://pkg.opnsense.org/FreeBSD:14:amd64/' + series(v),
    product_name: 'OPNsense',
    product_nickname: NICKNAMES[v],
    product_repos: 'OPNsense',
    product_series: series(v),
    product_tier: '1',
    product_time: new Date(ctx.dev.box.bootedAt).toUTCString(),
    product_version: v,
    product_website: 'https://opnsense.org/',
  };
}

const firmwareStatus = (ctx: Ctx): unknown => ({
  product: product(ctx),
  status_msg: 'Firmware status requires to check for update first to provide more information.',
  status: 'none',
});

const systemInformation = (ctx: Ctx): unknown => {
  const cfg = ctx.dev.box.config;
  return {
    name: `${cfg.hostname}.${cfg.domain}`,
    versions: [`OPNsense ${ctx.dev.version}-amd64`, 'FreeBSD 14.3-RELEASE-p5', 'OpenSSL 3.0.17 1 Jul 2025'],
    updates: 'Click to check for updates.',
  };
};

const systemResources = (ctx: Ctx): unknown => ({
  memory: { total: '4294967296', total_frmt: '4096', used: 1073741824, used_frmt: '1024', arc: '0', arc_frmt: '0', arc_txt: '' },
  uptime: Math.floor((ctx.dev.now() - ctx.dev.box.bootedAt) / 1000),
});

const systemTime = (ctx: Ctx): unknown => {
  const up = Math.floor((ctx.dev.now() - ctx.dev.box.bootedAt) / 1000);
  return {
    uptime: `${Math.floor(up / 86400)} days ${new Date(up * 1000).toISOString().slice(11, 19)}`,
    datetime: new Date(ctx.dev.now()).toUTCString(),
    boottime: new Date(ctx.dev.box.bootedAt).toUTCString(),
    config: new Date(Number(ctx.dev.box.config.revision) * 1000).toUTCString(),
    loadavg: '0.10, 0.08, 0.05',
  };
};

const coreSystemStatus = (ctx: Ctx): unknown => {
  const pendingRollback = ctx.dev.box.rollback !== null;
  return {
    metadata: { system: { status: 2, message: 'No pending messages', title: 'System' } },
    ...(pendingRollback ? { firewall: { status: 1, message: 'A rollback is scheduled', title: 'Firewall' } } : {}),
  };
};

const interfacesInfo = (ctx: Ctx): unknown => {
  const rows = ctx.dev.box.interfaces.map((i) => ({
    identifier: i.id,
    description: i.descr,
    device: i.device,
    status: 'up',
    enabled: i.enabled ?? true,
    link_type: i.id === 'lo0' || i.ipv4 === '' ? 'none' : 'static',
    addr4: i.ipv4 === '' ? '' : `${i.ipv4}/${i.subnet}`,
    addr6: '',
    ipv4: i.ipv4 === '' ? [] : [{ ipaddr: `${i.ipv4}/${i.subnet}` }],
    ipv6: [],
    macaddr: i.mac,
    mtu: i.id === 'lo0' ? '16384' : '1500',
    is_physical: i.id !== 'lo0',
    statistics: { 'packets received': 0, 'packets transmitted': 0, 'bytes received': 0, 'bytes transmitted': 0 },
  }));
  return searchRecordset(ctx, rows);
};

const interfaceNames = (ctx: Ctx): unknown => {
  const out: Record<string, string> = {};
  for (const i of ctx.dev.box.interfaces) out[i.device] = i.descr;
  return out;
};

/**
 * `IDS/Api/ServiceController::queryAlertsAction` over `scripts/suricata/queryAlertLog.py`: eve.json alert records,
 * newest first, `alert` flattened to its signature (`alert_sid`, `alert_action` beside it), paged from the body.
 */
const queryAlerts = (ctx: Ctx): unknown => {
  if (!ctx.isPost) return [];
  const perPage = postInt(ctx, 'rowCount', 9999);
  const current = postInt(ctx, 'current', 1);
  const raw = typeof ctx.post.searchPhrase === 'string' ? sanitizeQuery(ctx.post.searchPhrase) : '';
  const filters: Record<string, string> = raw === '' ? {} : { 'alert,alert_action,src_ip,dest_ip': `*${raw}*` };
  const rows: Array<Record<string, unknown>> = [];
  const all = [...ctx.dev.box.idsAlerts].reverse();
  all.forEach((record, i) => {
    const alert = record.alert as Record<string, unknown> | undefined;
    if (!alert || typeof alert !== 'object') return;
    const row: Record<string, unknown> = {
      ...record,
      filepos: (all.length - i) * 512,
      fileid: '',
      alert_sid: alert.signature_id,
      alert_action: alert.action,
      alert: alert.signature,
    };
    if (raw !== '') {
      const needle = raw.toLowerCase().replace(/\*/g, '');
      const hit = ['alert', 'alert_action', 'src_ip', 'dest_ip'].some((k) => phpString(row[k]).toLowerCase().includes(needle));
      if (!hit) return;
    }
    rows.push(row);
  });
  const offset = (current - 1) * perPage;
  const page = perPage > 0 ? rows.slice(offset, offset + perPage) : rows.slice(offset);
  return { filters, rows: page, origin: 'eve.json', rowCount: page.length, total: rows.length, current };
};

/** `Diagnostics/Api/InterfaceController::getRoutesAction`: `netstat -rn` rows (`scripts/routes/show_routes.py`). */
const getRoutes = (ctx: Ctx): unknown => {
  const names = ifnames(ctx);
  const rows: Array<Record<string, string>> = [];
  const wan = ctx.dev.box.interfaces.find((i) => i.id === 'wan');
  if (wan) {
    const gw = wan.ipv4.split('.').slice(0, 3).concat('1').join('.');
    rows.push({ proto: 'ipv4', destination: 'default', gateway: gw, flags: 'UGS', netif: wan.device, expire: '' });
  }
  ctx.dev.box.interfaces.forEach((i, n) => {
    const base = i.ipv4.split('.').map(Number).reduce((a, o) => a * 256 + o, 0);
    const size = 2 ** (32 - i.subnet);
    const net = base - (base % size);
    const dotted = [24, 16, 8, 0].map((sh) => Math.floor(net / 2 ** sh) % 256).join('.');
    rows.push({ proto: 'ipv4', destination: `${dotted}/${i.subnet}`, gateway: `link#${n + 1}`, flags: 'U', netif: i.device, expire: '' });
    rows.push({ proto: 'ipv4', destination: i.ipv4, gateway: 'link#' + String(n + 1), flags: 'UHS', netif: 'lo0', expire: '' });
  });
  return rows.map((r) => ({ ...r, intf_description: names[r.netif as string] ?? '', id: `${r.destination as string},${r.gateway as string}` }));
};

/** `Routes/Api/RoutesController::searchrouteAction`: configured static routes (none on a fresh box). */
const searchRoute = (ctx: Ctx): unknown => {
  const current = requestInt(ctx, 'current', 1);
  return { rows: [], rowCount: 0, total: 0, current };
};

/**
 * The services `configctl service list` reports on a fresh box, as the emulator models them: a fixed set, all
 * running (it starts and stops nothing).
 */
const SERVICES: Array<{ name: string; description: string; locked?: number }> = [
  { name: 'configd', description: 'System Configuration Daemon', locked: 1 },
  { name: 'pf', description: 'Packet Filter', locked: 1 },
  { name: 'openssh', description: 'Secure Shell Daemon' },
  { name: 'syslog-ng', description: 'Syslog-ng Daemon' },
  { name: 'unbound', description: 'Unbound DNS' },
];

/**
 * `Core/Api/ServiceController::searchAction` (opnsense/core src/opnsense/mvc/app/controllers/OPNsense/Core/Api/
 * ServiceController.php:44-63 @ f95e815): one record per service, `id` = name, `locked` and `running` as 0/1.
 */
const searchServices = (ctx: Ctx): unknown =>
  searchRecordset(
    ctx,
    SERVICES.map((s) => ({ id: s.name, locked: s.locked ?? 0, running: 1, description: s.description, name: s.name })),
  );

export const DIAG_ROUTES: Route[] = [
  { module: 'diagnostics', controller: 'Firewall', action: 'queryStates', required: 0, handler: queryStatesAction },
  { module: 'diagnostics', controller: 'Firewall', action: 'killStates', required: 0, handler: killStatesAction },
  { module: 'diagnostics', controller: 'Firewall', action: 'delState', required: 2, handler: delStateAction },
  { module: 'diagnostics', controller: 'Firewall', action: 'flushStates', required: 0, handler: flushStatesAction },
  { module: 'diagnostics', controller: 'Firewall', action: 'pfStates', required: 0, handler: pfStatesAction },
  { module: 'diagnostics', controller: 'Firewall', action: 'log', required: 0, handler: logAction },
  { module: 'core', controller: 'Firmware', action: 'status', required: 0, handler: firmwareStatus },
  { module: 'diagnostics', controller: 'System', action: 'systemInformation', required: 0, handler: systemInformation },
  { module: 'diagnostics', controller: 'System', action: 'systemResources', required: 0, handler: systemResources },
  { module: 'diagnostics', controller: 'System', action: 'systemTime', required: 0, handler: systemTime },
  { module: 'core', controller: 'System', action: 'status', required: 0, handler: coreSystemStatus },
  { module: 'interfaces', controller: 'Overview', action: 'interfacesInfo', required: 0, handler: interfacesInfo },
  { module: 'diagnostics', controller: 'Interface', action: 'getInterfaceNames', required: 0, handler: interfaceNames },
  { module: 'ids', controller: 'Service', action: 'queryAlerts', required: 0, handler: queryAlerts },
  { module: 'diagnostics', controller: 'Interface', action: 'getRoutes', required: 0, handler: getRoutes },
  { module: 'routes', controller: 'Routes', action: 'searchroute', required: 0, handler: searchRoute },
  { module: 'core', controller: 'Service', action: 'search', required: 0, handler: searchServices },
];
