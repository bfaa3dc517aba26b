/**
 * @module `api/unbound/settings/*_host_override` and `api/unbound/service/reconfigure` (docs/reference/brain-l3.md
 * §5.3): config-only CRUD of Unbound's `hosts.host` (`ApiMutableModelControllerBase` getBase / addBase / setBase /
 * delBase / toggleBase), live after the service reconfigure.
 *
 * Upstream (opnsense/core f95e8151): `controllers/OPNsense/Unbound/Api/SettingsController.php:186-244`,
 * `models/OPNsense/Unbound/Unbound.xml:314-423` (enabled default 1; hostname a host label, `*` or empty; domain
 * required, a DNS name; rr A | AAAA | MX | TXT, default A; server one address without prefix, required for A and
 * AAAA; mxprio and mx required for MX; txtdata for TXT; addptr default 1; ttl 0-2147483647; description),
 * base messages `FieldTypes/NetworkField.php:135`, `HostnameField.php:122`, `BaseField.php:656`.
 */
import { isIP } from 'node:net';
import { type Ctx, hasPost, phpString, searchRecordset, throwReadOnly } from './context.ts';
import type { Route } from './routes.ts';
import { type OpnHost, randomUuid } from './state.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RR = { A: 'A (IPv4 address)', AAAA: 'AAAA (IPv6 address)', MX: 'MX (mail server)', TXT: 'TXT (text)' } as const;
const FIELDS = ['enabled', 'hostname', 'domain', 'rr', 'mxprio', 'mx', 'ttl', 'server', 'txtdata', 'addptr', 'description'];
const LABEL = /^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/i;
const DOMAIN = /^(?:(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/i;

function hosts(ctx: Ctx): OpnHost[] {
  ctx.dev.box.config.unboundHosts ??= [];
  return ctx.dev.box.config.unboundHosts;
}

function blank(uuid: string): OpnHost {
  return {
    uuid,
    enabled: '1',
    hostname: '',
    domain: '',
    rr: 'A',
    mxprio: '',
    mx: '',
    ttl: '',
    server: '',
    txtdata: '',
    addptr: '1',
    description: '',
  };
}

/** `getBase`: the node's fields, option fields as `{key: {value, selected}}` maps. */
function nodes(h: OpnHost): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) {
    out[f] =
      f === 'rr'
        ? Object.fromEntries(Object.entries(RR).map(([k, v]) => [k, { value: v, selected: h.rr === k ? 1 : 0 }]))
        : h[f];
  }
  return out;
}

/** The model's validations of one host, keyed `host.<field>` (first message per field). */
function validate(h: OpnHost): Record<string, string> {
  const v: Record<string, string> = {};
  if (!['0', '1'].includes(h.enabled ?? '')) v['host.enabled'] = 'The value is not a valid boolean.';
  const name = h.hostname ?? '';
  if (name !== '' && name !== '*' && !LABEL.test(name)) {
    v['host.hostname'] = 'A valid hostname must be specified.';
  }
  if ((h.domain ?? '') === '') v['host.domain'] = 'A value is required.';
  else if (!DOMAIN.test(h.domain ?? '')) v['host.domain'] = 'A valid domain must be specified.';
  const rr = h.rr ?? '';
  if (!(rr in RR)) v['host.rr'] = 'Option not in list.';
  const server = h.server ?? '';
  if (server !== '' && isIP(server) === 0) v['host.server'] = 'Please specify a valid network segment or IP address.';
  else if (server === '' && (rr === 'A' || rr === 'AAAA')) v['host.server'] = 'The field IP address is required.';
  if (rr === 'MX' && (h.mxprio ?? '') === '') v['host.mxprio'] = 'The field MX Priority is required.';
  if (rr === 'MX' && (h.mx ?? '') === '') v['host.mx'] = 'The field MX Host is required.';
  if (rr === 'TXT' && (h.txtdata ?? '') === '') v['host.txtdata'] = 'The field TXT Data is required.';
  const ttl = h.ttl ?? '';
  if (ttl !== '' && (!/^\d+$/.test(ttl) || Number(ttl) > 2147483647)) {
    v['host.ttl'] = 'Please specify a value between 0 and 2147483647.';
  }
  if ((h.description ?? '').length > 255) v['host.description'] = 'Description should not exceed 255 characters';
  return v;
}

/** `setNodes`: posted scalars over the node; an option field takes its key. */
function merge(node: OpnHost, posted: Record<string, unknown>): void {
  for (const f of FIELDS) if (posted[f] !== undefined) node[f] = phpString(posted[f]);
}

function posted(ctx: Ctx): Record<string, unknown> | null {
  const p = ctx.post.host;
  return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : null;
}

function search(ctx: Ctx): unknown {
  // searchBase shows option fields by their description.
  const rows = hosts(ctx).map((h) => ({ ...h, rr: RR[h.rr as keyof typeof RR] ?? h.rr, isAlias: false }));
  return searchRecordset(ctx, rows);
}

function get(ctx: Ctx): unknown {
  const uuid = ctx.params[0];
  if (uuid === undefined) return { host: nodes(blank(randomUuid())) };
  const h = hosts(ctx).find((x) => x.uuid === uuid);
  return h ? { host: nodes(h) } : [];
}

function add(ctx: Ctx): unknown {
  if (!ctx.isPost || !hasPost(ctx, 'host')) return { result: 'failed' };
  const node = blank(randomUuid());
  merge(node, posted(ctx) ?? {});
  const validations = validate(node);
  if (Object.keys(validations).length > 0) return { result: 'failed', validations };
  throwReadOnly(ctx);
  hosts(ctx).push(node);
  ctx.dev.save();
  return { result: 'saved', uuid: node.uuid };
}

function set(ctx: Ctx): unknown {
  const uuid = ctx.params[0] as string;
  if (!ctx.isPost || !hasPost(ctx, 'host')) return { result: 'failed' };
  const list = hosts(ctx);
  const existing = list.find((x) => x.uuid === uuid);
  if (!existing && !UUID_RE.test(uuid)) return { result: 'failed' };
  const node = existing ? { ...existing } : blank(uuid);
  merge(node, posted(ctx) ?? {});
  const validations = validate(node);
  if (Object.keys(validations).length > 0) return { result: 'failed', validations };
  throwReadOnly(ctx);
  if (existing) Object.assign(existing, node);
  else list.push(node);
  ctx.dev.save();
  return { result: 'saved' };
}

function del(ctx: Ctx): unknown {
  if (!ctx.isPost) return { result: 'failed' };
  const uuid = ctx.params[0] ?? '';
  const list = hosts(ctx);
  const i = list.findIndex((x) => x.uuid === uuid);
  if (i < 0) return { result: 'not found' };
  throwReadOnly(ctx);
  list.splice(i, 1);
  ctx.dev.save();
  return { result: 'deleted' };
}

function toggle(ctx: Ctx): unknown {
  if (!ctx.isPost) return { result: 'failed' };
  const h = hosts(ctx).find((x) => x.uuid === ctx.params[0]);
  if (!h) return { result: 'failed' };
  const flag = ctx.params[1];
  throwReadOnly(ctx);
  h.enabled = flag === '0' || flag === '1' ? flag : h.enabled === '1' ? '0' : '1';
  ctx.dev.save();
  return { result: h.enabled === '1' ? 'Enabled' : 'Disabled', changed: true };
}

/** `ApiMutableServiceControllerBase::reconfigureAction`: POST only; Unbound reloads the overrides. */
function reconfigure(ctx: Ctx): unknown {
  if (!ctx.isPost) return { status: 'failed' };
  ctx.dev.box.runtime.unboundHosts = structuredClone(hosts(ctx).filter((h) => h.enabled === '1'));
  return { status: 'ok' };
}

const settings = (action: string, required: number, handler: (ctx: Ctx) => unknown): Route => ({
  module: 'unbound',
  controller: 'Settings',
  action,
  required,
  handler,
});

export const UNBOUND_ROUTES: Route[] = [
  settings('searchHostOverride', 0, search),
  settings('getHostOverride', 0, get),
  settings('addHostOverride', 0, add),
  settings('setHostOverride', 1, set),
  settings('delHostOverride', 1, del),
  settings('toggleHostOverride', 1, toggle),
  { module: 'unbound', controller: 'Service', action: 'reconfigure', required: 0, handler: reconfigure },
];
