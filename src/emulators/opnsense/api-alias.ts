/**
 * @module `api/firewall/alias/*` and `api/firewall/alias_util/*` as opnsense/core 26.1.11 implements them
 * (`Firewall/Api/AliasController.php`, `AliasUtilController.php`, `ApiMutableModelControllerBase.php`;
 * docs/reference/opnsense-api.md §3).
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import {
  aliasNodes,
  aliasRow,
  applyAliasPost,
  pfNormalize,
  validateAlias,
} from './aliases.ts';
import {
  type Ctx,
  hasPost,
  PhpError,
  phpString,
  requestGet,
  requestInt,
  searchRecordset,
  throwReadOnly,
  UserException,
} from './context.ts';
import type { Route } from './routes.ts';
import { blankAlias, type OpnAlias, randomUuid } from './state.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function arrayToString(ctx: Ctx): never {
  throw new PhpError(ctx.dev.developmentMode ? 'Array to string conversion' : '');
}

function findByUuid(ctx: Ctx, uuid: string): OpnAlias | undefined {
  return ctx.dev.box.config.aliases.find((a) => a.uuid === uuid);
}

/** Validation of a candidate against every alias the model holds (built-ins included). */
function validate(ctx: Ctx, candidate: OpnAlias): Record<string, string | string[]> {
  const all = ctx.dev.allAliases().filter((a) => a.uuid !== candidate.uuid);
  const names = new Set(all.map((a) => a.name));
  return validateAlias(candidate, all, names);
}

/** `Alias::whereUsed`: rule fields and nested aliases naming it (`[reference] description` pairs). */
function whereUsed(ctx: Ctx, name: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const cfg = ctx.dev.box.config;
  const sections: Array<[keyof typeof cfg, string, string[]]> = [
    ['filter', 'OPNsense.Firewall.Filter.rules.rule', ['source_net', 'source_port', 'destination_net', 'destination_port']],
    ['snat', 'OPNsense.Firewall.Filter.snatrules.rule', ['source_net', 'source_port', 'destination_net', 'destination_port', 'target']],
    ['onetoone', 'OPNsense.Firewall.Filter.onetoone.rule', ['source_net', 'destination_net']],
    ['dnat', 'OPNsense.Firewall.DNat.rule', ['source.network', 'source.port', 'destination.network', 'destination.port', 'target']],
  ];
  for (const [key, ref, fields] of sections) {
    const rules = cfg[key] as Array<Record<string, string>>;
    for (const r of rules) {
      for (const f of fields) {
        if ((r[f] ?? '').split(',').includes(name)) {
          out.push([`${ref}.${r.uuid}/${f}`, r.description ?? r.descr ?? '']);
          break;
        }
      }
    }
  }
  for (const a of ctx.dev.box.config.aliases) {
    if (a.type === 'geoip' || a.type === 'urltable') continue;
    if (a.content.split('\n').includes(name)) {
      out.push([`aliases.alias.${a.uuid}`, a.description !== '' ? a.description : a.name]);
    }
  }
  return out;
}

function runtimeCount(ctx: Ctx, name: string): number | null {
  const t = ctx.dev.box.runtime.tables[name];
  return t === undefined ? null : t.length;
}

const searchItem = (ctx: Ctx): unknown => {
  const types = requestGet(ctx, 'type');
  const cats = requestGet(ctx, 'category');
  const typeList = Array.isArray(types) ? types.map(String) : [];
  const catList = Array.isArray(cats) ? cats.map(String) : [];
  let aliases = ctx.dev
    .allAliases()
    .filter((a) => typeList.length === 0 || typeList.includes(a.type))
    .filter((a) => catList.length === 0 || a.categories.split(',').some((c) => catList.includes(c)));
  aliases = [...aliases].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' }));
  const sort = ctx.post.sort;
  let rows = aliases.map((a) => aliasRow(a, ctx.dev.box.interfaces, runtimeCount(ctx, a.name)));
  if (sort && typeof sort === 'object' && !Array.isArray(sort)) {
    const [k] = Object.keys(sort);
    if (k) {
      rows.sort((a, b) =>
        phpString(a[k]).localeCompare(phpString(b[k]), undefined, { numeric: true, sensitivity: 'base' }),
      );
      if ((sort as Record<string, unknown>)[k] === 'desc') rows.reverse();
    }
  }
  const phrase = phpString(requestGet(ctx, 'searchPhrase'));
  const tokens = phrase.split(' ').filter((t) => t !== '');
  if (tokens.length > 0) {
    const fields = ['enabled', 'name', 'type', 'proto', 'interface', 'counters', 'updatefreq', 'content', 'description', 'expire', 'categories'];
    if (tokens.some((t) => UUID_RE.test(t))) fields.push('uuid');
    rows = rows.filter((r) =>
      tokens.every((t) =>
        fields.some((f) => phpString(r[`%${f}`] ?? r[f]).toLowerCase().includes(t.toLowerCase())),
      ),
    );
  }
  // UIModelGrid reads paging with $request->get(): query string or body, default -1 (all)
  const perPage = requestInt(ctx, 'rowCount', -1);
  const current = requestInt(ctx, 'current', 1);
  const page = perPage === -1 ? rows : rows.slice(perPage * (current - 1), perPage * current);
  return { rows: page, rowCount: page.length, total: rows.length, current };
};

const getItem = (ctx: Ctx): unknown => {
  const uuid = ctx.params[0];
  const response: Record<string, unknown> = {};
  const found = uuid !== undefined ? findByUuid(ctx, uuid) ?? ctx.dev.allAliases().find((a) => a.uuid === uuid) : undefined;
  let alias: Record<string, unknown> | undefined;
  if (uuid === undefined) alias = aliasNodes(blankAlias(randomUuid()), ctx.dev.box.interfaces);
  else if (found) alias = aliasNodes(found, ctx.dev.box.interfaces);
  // AliasController::getItemAction appends every alias to the content map, even for an unknown uuid
  const content = (alias?.content as Record<string, Record<string, unknown>> | undefined) ?? {};
  for (const a of ctx.dev.allAliases()) {
    if (content[a.name] === undefined) content[a.name] = { selected: 0, value: a.name };
    (content[a.name] as Record<string, unknown>).description = a.description;
  }
  if (alias) alias.content = content;
  response.alias = alias ?? { content };
  return response;
};

const getAliasUuid = (ctx: Ctx): unknown => {
  const name = ctx.params[0];
  const a = ctx.dev.allAliases().find((x) => x.name === name);
  return a ? { uuid: a.uuid } : [];
};

const addItem = (ctx: Ctx): unknown => {
  if (!ctx.isPost || !hasPost(ctx, 'alias')) return { result: 'failed' };
  const post = ctx.post.alias;
  const node = blankAlias(randomUuid());
  if (post !== null && typeof post === 'object' && !Array.isArray(post)) {
    if (applyAliasPost(node, post as Record<string, unknown>) === 'array') arrayToString(ctx);
  }
  const validations = validate(ctx, node);
  if (Object.keys(validations).length > 0) return { result: 'failed', validations };
  throwReadOnly(ctx);
  ctx.dev.box.config.aliases.push(node);
  ctx.dev.save();
  return { result: 'saved', uuid: node.uuid };
};

const setItem = (ctx: Ctx): unknown => {
  const uuid = ctx.params[0] as string;
  if (!ctx.isPost || !hasPost(ctx, 'alias')) return { result: 'failed' };
  const existing = findByUuid(ctx, uuid);
  if (!existing && !UUID_RE.test(uuid)) return { result: 'failed' };
  const node: OpnAlias = existing ? structuredClone(existing) : blankAlias(uuid);
  const post = ctx.post.alias;
  if (post !== null && typeof post === 'object' && !Array.isArray(post)) {
    if (applyAliasPost(node, post as Record<string, unknown>) === 'array') arrayToString(ctx);
  }
  const validations = validate(ctx, node);
  if (Object.keys(validations).length > 0) return { result: 'failed', validations };
  throwReadOnly(ctx);
  const cfg = ctx.dev.box.config;
  if (existing && existing.name !== node.name) {
    // Alias::refactor: nested alias content and rule fields follow the rename
    for (const a of cfg.aliases) {
      const items = a.content.split('\n');
      const i = items.indexOf(existing.name);
      if (i >= 0 && a.type !== 'geoip') {
        items[i] = node.name;
        a.content = [...new Set(items)].join('\n');
      }
    }
  }
  if (existing) Object.assign(existing, node);
  else cfg.aliases.push(node);
  ctx.dev.save();
  return { result: 'saved' };
};

const delItem = (ctx: Ctx): unknown => {
  const uuids = (ctx.params[0] ?? '').split(',').filter((u) => u !== '');
  for (const uuid of uuids) {
    const node = findByUuid(ctx, uuid);
    if (node) {
      const uses = whereUsed(ctx, node.name);
      if (uses.length > 0) {
        const list = uses.map(([k, v]) => `\n[${k}] ${v}`).join('');
        throw new UserException(`Cannot delete alias ${node.name}. Currently in use by ${list}`, 'Alias in use');
      }
    }
  }
  if (!ctx.isPost) return { result: 'failed' };
  let result = 'failed';
  let changed = false;
  const staged = [...ctx.dev.box.config.aliases];
  for (const uuid of uuids) {
    const i = staged.findIndex((a) => a.uuid === uuid);
    if (i >= 0) {
      staged.splice(i, 1);
      changed = true;
      result = 'deleted';
    } else result = 'not found';
  }
  if (changed) {
    throwReadOnly(ctx);
    ctx.dev.box.config.aliases = staged;
    ctx.dev.save();
  }
  return { result };
};

const toggleItem = (ctx: Ctx): unknown => {
  const result: Record<string, unknown> = { result: 'failed' };
  if (!ctx.isPost) return result;
  const enabled = ctx.params[1];
  const uuids = (ctx.params[0] ?? '').split(',').filter((u) => u !== '');
  if (uuids.length > 1 && enabled === undefined) {
    throw new UserException('Toggle with a list of items in only supported for explicit actions [0,1]', 'Toggle');
  }
  const staged = structuredClone(ctx.dev.box.config.aliases);
  for (const uuid of uuids) {
    const node = staged.find((a) => a.uuid === uuid);
    if (!node) continue;
    result.changed = true;
    if (enabled === '0' || enabled === '1') {
      result.result = enabled === '1' ? 'Enabled' : 'Disabled';
      result.changed = node.enabled !== enabled;
      node.enabled = enabled;
    } else if (enabled !== undefined) {
      result.changed = false;
      break;
    } else if (node.enabled === '1') {
      result.result = 'Disabled';
      node.enabled = '0';
    } else {
      result.result = 'Enabled';
      node.enabled = '1';
    }
  }
  if (result.changed === true) {
    throwReadOnly(ctx);
    ctx.dev.box.config.aliases = staged;
    ctx.dev.save();
  }
  return result;
};

const reconfigure = async (ctx: Ctx): Promise<unknown> => {
  if (!ctx.isPost) return { status: 'failed' };
  await ctx.dev.delay();
  ctx.dev.filterReload(false);
  const messages = ctx.dev.refreshAliases();
  if (messages.length > 0) throw new UserException(messages.join('\n'), 'Alias');
  return { status: 'ok' };
};

const getTableSize = (ctx: Ctx): unknown => {
  const tables = ctx.dev.box.runtime.tables;
  const used = Object.values(tables).reduce((n, t) => n + t.length, 0);
  const details: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(tables)) details[name] = { count: t.length, updated: null };
  return { used, 'table-entries': ctx.dev.tableEntriesLimit, details };
};

const listNetworkAliases = (ctx: Ctx): unknown => {
  const out: Record<string, unknown> = {};
  for (const a of [...ctx.dev.box.config.aliases].sort((x, y) => x.name.localeCompare(y.name))) {
    if (a.type !== 'external' && a.type !== 'port') out[a.name] = { name: a.name, description: a.description };
  }
  return out;
};

// ---- alias_util -------------------------------------------------------------------------------------------

const NOT_ADDRESS = /[^0-9a-f:./_]/;

function configAlias(ctx: Ctx, name: string): OpnAlias | undefined {
  return ctx.dev.allAliases().find((a) => a.name === name);
}

const utilAliases = (ctx: Ctx): unknown =>
  Object.keys(ctx.dev.box.runtime.tables).sort((a, b) =>
    a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' }),
  );

const utilList = (ctx: Ctx): unknown => {
  const table = ctx.dev.box.runtime.tables[ctx.params[0] as string] ?? [];
  return searchRecordset(
    ctx,
    table.map((ip) => ({ ip })),
  );
};

const utilFlush = (ctx: Ctx): unknown => {
  if (!ctx.isPost) return { status: 'failed' };
  const name = ctx.params[0] as string;
  if (ctx.dev.box.runtime.tables[name] !== undefined) ctx.dev.box.runtime.tables[name] = [];
  return { status: 'done' };
};

const utilDelete = (ctx: Ctx): unknown => {
  if (!ctx.isPost || !hasPost(ctx, 'address')) return { status: 'failed' };
  const name = ctx.params[0] as string;
  const address = String(ctx.post.address);
  const cnf = configAlias(ctx, name);
  if (cnf && (cnf.type === 'host' || cnf.type === 'network')) {
    const items = cnf.content !== '' ? cnf.content.split('\n') : [];
    const withMask = address.includes('/') ? address : `${address}/${address.indexOf(':') > 0 ? '128' : '32'}`;
    let found = false;
    for (const item of [withMask, address]) {
      const i = items.indexOf(item);
      if (i >= 0) {
        items.splice(i, 1);
        found = true;
      }
    }
    if (found) {
      cnf.content = items.join('\n');
      ctx.dev.save();
    }
  }
  // delete_table.py: only a line of `pfctl -T show` equal to the argument is deleted
  const table = ctx.dev.box.runtime.tables[name];
  if (table !== undefined) {
    const i = table.indexOf(address.trim());
    if (i >= 0) table.splice(i, 1);
  }
  return { status: 'done' };
};

const utilAdd = (ctx: Ctx): unknown => {
  if (!ctx.isPost || !hasPost(ctx, 'address')) return { status: 'failed' };
  const name = ctx.params[0] as string;
  let address = String(ctx.post.address);
  if (NOT_ADDRESS.test(address)) return { status: 'not_an_address' };
  const cnf = configAlias(ctx, name);
  if (cnf && (cnf.type === 'host' || cnf.type === 'network')) {
    const items = cnf.content !== '' ? cnf.content.split('\n') : [];
    if (!address.includes('/') && cnf.type === 'network') {
      address += `/${address.indexOf(':') > 0 ? '128' : '32'}`;
    }
    // `!array_search(...)`: an address already first in the list (index 0) is appended again
    const at = items.indexOf(address);
    if (at <= 0) {
      items.push(address);
      cnf.content = items.join('\n');
      ctx.dev.save();
    }
  }
  if (!cnf) return { status: 'failed', status_msg: `nonexistent alias ${name}` };
  // pfctl -t <alias> -T add <address>: creates the table when absent; an unparsable address adds nothing
  const norm = pfNormalize(address);
  const tables = ctx.dev.box.runtime.tables;
  const table = tables[name] ?? [];
  tables[name] = table;
  if (norm !== null && !table.includes(norm)) {
    const used = Object.values(tables).reduce((n, t) => n + t.length, 0);
    if (used < ctx.dev.tableEntriesLimit) table.push(norm);
  }
  return { status: 'done' };
};

const utilFindReferences = (ctx: Ctx): unknown => {
  if (!ctx.isPost || !hasPost(ctx, 'ip')) return { status: 'IP parameter not specified!' };
  const ip = String(ctx.post.ip);
  if (NOT_ADDRESS.test(ip)) return { status: 'Not an IP address!' };
  if (isIP(ip) === 0) return { status: 'Invalid IP specified!' };
  const matches: string[] = [];
  for (const [name, entries] of Object.entries(ctx.dev.box.runtime.tables)) {
    if (entries.some((e) => cidrContains(e, ip))) matches.push(name);
  }
  return { status: 'ok', matches };
};

function cidrContains(entry: string, ip: string): boolean {
  if (!entry.includes('/')) return entry === pfNormalize(ip);
  const [net, bits] = entry.split('/');
  try {
    const addr = ipaddr.parse(ip);
    const base = ipaddr.parse(net as string);
    return addr.kind() === base.kind() && addr.match(base, Number(bits));
  } catch {
    return false;
  }
}

export const ALIAS_ROUTES: Route[] = [
  { module: 'firewall', controller: 'Alias', action: 'searchItem', required: 0, handler: searchItem },
  { module: 'firewall', controller: 'Alias', action: 'getItem', required: 0, handler: getItem },
  { module: 'firewall', controller: 'Alias', action: 'getAliasUUID', required: 1, handler: getAliasUuid },
  { module: 'firewall', controller: 'Alias', action: 'addItem', required: 0, handler: addItem },
  { module: 'firewall', controller: 'Alias', action: 'setItem', required: 1, handler: setItem },
  { module: 'firewall', controller: 'Alias', action: 'delItem', required: 1, handler: delItem },
  { module: 'firewall', controller: 'Alias', action: 'toggleItem', required: 1, handler: toggleItem },
  { module: 'firewall', controller: 'Alias', action: 'reconfigure', required: 0, handler: reconfigure },
  { module: 'firewall', controller: 'Alias', action: 'getTableSize', required: 0, handler: getTableSize },
  { module: 'firewall', controller: 'Alias', action: 'listNetworkAliases', required: 0, handler: listNetworkAliases },
  {
    module: 'firewall',
    controller: 'Alias',
    action: 'listCategories',
    required: 0,
    handler: () => ({ rows: [] }),
  },
  { module: 'firewall', controller: 'AliasUtil', action: 'aliases', required: 0, handler: utilAliases },
  { module: 'firewall', controller: 'AliasUtil', action: 'list', required: 1, handler: utilList },
  { module: 'firewall', controller: 'AliasUtil', action: 'flush', required: 1, handler: utilFlush },
  { module: 'firewall', controller: 'AliasUtil', action: 'delete', required: 1, handler: utilDelete },
  { module: 'firewall', controller: 'AliasUtil', action: 'add', required: 1, handler: utilAdd },
  { module: 'firewall', controller: 'AliasUtil', action: 'findReferences', required: 0, handler: utilFindReferences },
];

