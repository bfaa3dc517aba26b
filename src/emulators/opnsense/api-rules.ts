/**
 * @module `api/firewall/{filter,source_nat,one_to_one,d_nat}/*` (docs/reference/opnsense-api.md §4, §5):
 * config-only CRUD (`FilterBaseController`, `ApiMutableModelControllerBase`), `apply` loading the ruleset, and
 * the savepoint / rollback protocol per firmware profile — working on 24.7, broken on 26.1.x (the savepoint's
 * revision never names a backup, opnsense/core#10721), gone on 26.7.
 */
import {
  type Ctx,
  type Device,
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
import { applyRulePost, blankRule, prioGroup, ruleNodes, ruleRow, validateRule } from './rule-model.ts';
import { type OpnRule, randomUuid, type RuleSection } from './state.ts';
import type { VersionProfile } from './types.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** configd's answer to a `type:script` action, end-of-stream marker stripped. */
const CONFIGD_OK = 'OK\n\n';
const ROLLBACK_MS = 60_000;

interface Ctl {
  controller: string;
  section: RuleSection;
  /** Model (Filter) holds a rollback(); the DNat model has none. */
  hasRollback: boolean;
  /** The enable flag `toggle_rule` flips. */
  toggle: 'enabled' | 'disabled';
  versions?: readonly VersionProfile[];
  /** Search through `searchRecordsetBase` (POST-only paging) or `searchBase` (UIModelGrid). */
  recordset: boolean;
}

const CONTROLLERS: Ctl[] = [
  { controller: 'Filter', section: 'filter', hasRollback: true, toggle: 'enabled', recordset: true },
  { controller: 'SourceNat', section: 'snat', hasRollback: true, toggle: 'enabled', recordset: true },
  { controller: 'OneToOne', section: 'onetoone', hasRollback: true, toggle: 'enabled', recordset: false },
  {
    controller: 'DNat',
    section: 'dnat',
    hasRollback: false,
    toggle: 'disabled',
    versions: ['26.1.11', '26.7', '27.1.a_161'],
    recordset: false,
  },
];

function model(ctx: Ctx) {
  return { interfaces: ctx.dev.box.interfaces, aliases: ctx.dev.allAliases() };
}

function rules(ctx: Ctx, c: Ctl): OpnRule[] {
  return ctx.dev.box.config[c.section];
}

function arrayToString(ctx: Ctx): never {
  throw new PhpError(ctx.dev.developmentMode ? 'Array to string conversion' : '');
}

function search(c: Ctl) {
  return (ctx: Ctx): unknown => {
    const sorted = [...rules(ctx, c)].sort((a, b) => Number(a.sequence || 0) - Number(b.sequence || 0));
    const rows = sorted.map((r) => ruleRow(c.section, r, model(ctx)));
    if (c.recordset) return searchRecordset(ctx, rows, 'sort_order');
    const phrase = phpString(requestGet(ctx, 'searchPhrase'));
    const tokens = phrase.split(' ').filter((t) => t !== '');
    const hits = rows.filter((r) =>
      tokens.every((t) =>
        Object.entries(r).some(
          ([k, v]) => (k !== 'uuid' || UUID_RE.test(t)) && phpString(v).toLowerCase().includes(t.toLowerCase()),
        ),
      ),
    );
    const perPage = requestInt(ctx, 'rowCount', -1);
    const current = requestInt(ctx, 'current', 1);
    const page = perPage === -1 ? hits : hits.slice(perPage * (current - 1), perPage * current);
    return { rows: page, rowCount: page.length, total: hits.length, current };
  };
}

function getRule(c: Ctl) {
  return (ctx: Ctx): unknown => {
    const uuid = ctx.params[0];
    if (uuid === undefined) return { rule: ruleNodes(c.section, blankRule(c.section, randomUuid()), model(ctx)) };
    const r = rules(ctx, c).find((x) => x.uuid === uuid);
    return r ? { rule: ruleNodes(c.section, r, model(ctx)) } : [];
  };
}

function stamp(ctx: Ctx, c: Ctl, node: OpnRule): void {
  if (c.section !== 'dnat') return;
  // DNatController::setBaseHook: updated (and first created) metadata
  const n = node as Record<string, string>;
  n['updated.time'] = (ctx.dev.now() / 1000).toFixed(2);
  n['updated.username'] = ctx.key.user;
  n['updated.description'] = '/api/index.php made changes';
  if (n['created.time'] === '') {
    n['created.time'] = n['updated.time'];
    n['created.username'] = n['updated.username'];
    n['created.description'] = n['updated.description'];
  }
}

function postedRule(ctx: Ctx): Record<string, unknown> | null {
  const p = ctx.post.rule;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return null;
  const copy = { ...(p as Record<string, unknown>) };
  delete copy.created;
  return copy;
}

function addRule(c: Ctl) {
  return (ctx: Ctx): unknown => {
    if (!ctx.isPost || !hasPost(ctx, 'rule')) return { result: 'failed' };
    const node = blankRule(c.section, randomUuid());
    const post = postedRule(ctx);
    if (post && applyRulePost(c.section, node, post) === 'array') arrayToString(ctx);
    const validations = validateRule(c.section, node, model(ctx));
    if (Object.keys(validations).length > 0) return { result: 'failed', validations };
    stamp(ctx, c, node);
    throwReadOnly(ctx);
    rules(ctx, c).push(node);
    ctx.dev.save();
    return { result: 'saved', uuid: node.uuid };
  };
}

function setRule(c: Ctl) {
  return (ctx: Ctx): unknown => {
    const uuid = ctx.params[0] as string;
    if (!ctx.isPost || !hasPost(ctx, 'rule')) return { result: 'failed' };
    const list = rules(ctx, c);
    const existing = list.find((r) => r.uuid === uuid);
    if (!existing && !UUID_RE.test(uuid)) return { result: 'failed' };
    const node = existing ? structuredClone(existing) : blankRule(c.section, uuid);
    const post = postedRule(ctx);
    if (post && applyRulePost(c.section, node, post) === 'array') arrayToString(ctx);
    const validations = validateRule(c.section, node, model(ctx));
    if (Object.keys(validations).length > 0) return { result: 'failed', validations };
    stamp(ctx, c, node);
    throwReadOnly(ctx);
    if (existing) Object.assign(existing, node);
    else list.push(node);
    ctx.dev.save();
    return { result: 'saved' };
  };
}

function delRule(c: Ctl) {
  return (ctx: Ctx): unknown => {
    if (!ctx.isPost) return { result: 'failed' };
    const uuids = (ctx.params[0] ?? '').split(',').filter((u) => u !== '');
    const staged = [...rules(ctx, c)];
    let result = 'failed';
    let changed = false;
    for (const uuid of uuids) {
      const i = staged.findIndex((r) => r.uuid === uuid);
      if (i >= 0) {
        staged.splice(i, 1);
        changed = true;
        result = 'deleted';
      } else result = 'not found';
    }
    if (changed) {
      throwReadOnly(ctx);
      ctx.dev.box.config[c.section] = staged;
      ctx.dev.save();
    }
    return { result };
  };
}

function toggleRule(c: Ctl) {
  return (ctx: Ctx): unknown => {
    const flag = ctx.params[1];
    if (c.toggle === 'disabled') {
      // DNatController::toggleRuleAction: flips `disabled`, always saves
      const result: Record<string, unknown> = { result: 'failed' };
      if (!ctx.isPost) return result;
      const node = rules(ctx, c).find((r) => r.uuid === ctx.params[0]);
      if (node) {
        const next = flag === '0' || flag === '1' ? flag : node.disabled === '1' ? '0' : '1';
        throwReadOnly(ctx);
        node.disabled = next;
        result.result = next === '0' ? 'Enabled' : 'Disabled';
        ctx.dev.save();
      }
      return result;
    }
    const result: Record<string, unknown> = { result: 'failed' };
    if (!ctx.isPost) return result;
    const uuids = (ctx.params[0] ?? '').split(',').filter((u) => u !== '');
    if (uuids.length > 1 && flag === undefined) {
      throw new UserException('Toggle with a list of items in only supported for explicit actions [0,1]', 'Toggle');
    }
    const staged = structuredClone(rules(ctx, c));
    for (const uuid of uuids) {
      const node = staged.find((r) => r.uuid === uuid);
      if (!node) continue;
      result.changed = true;
      if (flag === '0' || flag === '1') {
        result.result = flag === '1' ? 'Enabled' : 'Disabled';
        result.changed = node.enabled !== flag;
        node.enabled = flag;
      } else if (flag !== undefined) {
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
      ctx.dev.box.config[c.section] = staged;
      ctx.dev.save();
    }
    return result;
  };
}

function toggleRuleLog(c: Ctl) {
  return (ctx: Ctx): unknown => {
    if (!ctx.isPost) return { status: 'error', message: 'Invalid request method' };
    const node = rules(ctx, c).find((r) => r.uuid === ctx.params[0]);
    if (!node) throw new UserException('Rule not found');
    throwReadOnly(ctx);
    node.log = ctx.params[1] ?? '';
    ctx.dev.save();
    return { status: 'ok' };
  };
}

/** `moveRuleBeforeBase` (and FilterController's priority-group variant): renumbers `sequence`. */
function moveRuleBefore(c: Ctl) {
  return (ctx: Ctx): unknown => {
    if (!ctx.isPost) return { status: 'error', message: 'Invalid request method' };
    const [selectedUuid, targetUuid] = ctx.params as [string, string];
    const list = rules(ctx, c);
    const target = list.find((r) => r.uuid === targetUuid);
    const selected = list.find((r) => r.uuid === selectedUuid);
    if (!target || !selected) {
      throw new UserException(
        'Either source or destination is not a rule managed with this component',
        c.section === 'filter' ? 'Filter' : null,
      );
    }
    let group = list;
    if (c.section === 'filter') {
      const names: Record<string, string> = { '2': 'Floating', '3': 'Group', '4': 'Interface' };
      const ps = prioGroup('filter', selected);
      const pt = prioGroup('filter', target);
      if (ps !== pt) {
        throw new UserException(
          `Cannot move '${names[ps[0] as string] ?? 'Unknown'} Rule' before '${names[pt[0] as string] ?? 'Unknown'} Rule'.`,
          'Filter',
        );
      }
      if (selectedUuid === targetUuid) throw new UserException('Cannot move to the same spot.', 'Filter');
      group = list.filter((r) => prioGroup('filter', r) === pt);
    }
    const ordered = [...group].sort((a, b) => Number(a.sequence || 0) - Number(b.sequence || 0));
    const step = 50;
    let newKey: number | null = null;
    let prev: OpnRule | null = null;
    for (const r of ordered) {
      if (r.uuid === targetUuid) {
        const prevSeq = prev ? Number(prev.sequence || 0) : 1;
        const distance = Number(r.sequence || 0) - prevSeq;
        if (distance > 2) {
          newKey = Math.floor(distance / 2) + prevSeq;
          break;
        }
        newKey = prev === null ? 1 : prevSeq + step;
        r.sequence = String(newKey + step);
      } else if (newKey !== null && prev && Number(r.sequence || 0) < Number(prev.sequence || 0)) {
        r.sequence = String(Number(prev.sequence || 0) + step);
      }
      prev = r;
    }
    if (newKey !== null) {
      throwReadOnly(ctx);
      selected.sequence = String(newKey);
      ctx.dev.save();
    }
    return { status: 'ok' };
  };
}

/** A backup by revision (`Config::getBackupFilename`: digits and dots only). */
function backupOf(dev: Device, revision: string) {
  const clean = revision.replace(/[^0-9.]/g, '');
  return dev.box.history.find((h) => h.revision === clean);
}

/** `Filter::rollback`: the whole `OPNsense/Firewall/Filter` section (rules, source NAT, 1:1) from the backup. */
function rollbackFilter(dev: Device, revision: string): boolean {
  const b = backupOf(dev, revision);
  if (!b) return false;
  dev.box.config.filter = structuredClone(b.config.filter);
  dev.box.config.snat = structuredClone(b.config.snat);
  dev.box.config.onetoone = structuredClone(b.config.onetoone);
  dev.save();
  return true;
}

/** The background `rollback_timer.php`: after 60 s without cancel, roll back and `filter reload`. */
export function tickRollback(dev: Device): void {
  const t = dev.box.rollback;
  if (!t || dev.now() < t.due) return;
  dev.box.rollback = null;
  // unknown revision: the script only logs "unable to revert to unexisting revision"
  if (rollbackFilter(dev, t.revision)) dev.filterReload(true);
}

function applyAction(c: Ctl) {
  return async (ctx: Ctx): Promise<unknown> => {
    const v = ctx.dev.version;
    if (!ctx.isPost) return { status: 'error' };
    if (v === '26.1.11') throwReadOnly(ctx);
    // 26.7 removed the savepoint protocol: apply takes no revision
    const revision = v === '26.7' || v === '27.1.a_161' ? undefined : ctx.params[0];
    if (revision !== undefined && revision !== '' && revision !== '0') {
      // `flock -n … rollback_timer.php`: a second timer while one runs is dropped
      const clean = revision.replace(/[^0-9.]/g, '');
      if (ctx.dev.box.rollback === null && clean !== '') {
        ctx.dev.box.rollback = { revision: clean, due: ctx.dev.now() + ROLLBACK_MS };
      }
    }
    await ctx.dev.delay();
    // 24.7 runs `filter reload` (aliases too); 26.1 and later `filter reload skip_alias`
    ctx.dev.filterReload(v === '24.7');
    void c;
    return { status: CONFIGD_OK };
  };
}

function savepoint(ctx: Ctx): unknown {
  if (!ctx.isPost) return { status: 'error' };
  if (ctx.dev.version === '26.1.11') throwReadOnly(ctx);
  ctx.dev.save();
  return { status: 'ok', retention: String(ctx.dev.backupCount), revision: ctx.dev.box.config.revision };
}

function cancelRollback(ctx: Ctx): unknown {
  if (!ctx.isPost) return { status: 'error' };
  if (ctx.dev.version === '26.1.11') throwReadOnly(ctx);
  const clean = (ctx.params[0] ?? '').replace(/[^0-9.]/g, '');
  const t = ctx.dev.box.rollback;
  if (clean !== '' && t && t.revision === clean) {
    ctx.dev.box.rollback = null;
    return { status: '\n\n' };
  }
  // rollback_cancel.php exits 1 without a lock file: configd's script_output answers "Execute error"
  return { status: 'Execute error\n\n' };
}

function revert(c: Ctl) {
  return (ctx: Ctx): unknown => {
    if (!ctx.isPost) return { status: 'error' };
    if (ctx.dev.version === '26.1.11') throwReadOnly(ctx);
    if (!backupOf(ctx.dev, ctx.params[0] ?? '')) return { status: 'unknown (or removed) savepoint' };
    if (!c.hasRollback) throw new PhpError(ctx.dev.developmentMode ? 'Call to undefined method OPNsense\\Firewall\\DNat::rollback()' : '');
    rollbackFilter(ctx.dev, ctx.params[0] ?? '');
    ctx.dev.filterReload(true);
    return { status: 'ok' };
  };
}

const ROLLBACK_VERSIONS: readonly VersionProfile[] = ['24.7', '26.1.11'];

export const RULE_ROUTES: Route[] = CONTROLLERS.flatMap((c) => {
  const r = (action: string, required: number, handler: Route['handler'], versions = c.versions): Route => ({
    module: 'firewall',
    controller: c.controller,
    action,
    required,
    handler,
    ...(versions ? { versions } : {}),
  });
  const rollbackVersions = c.versions ? ROLLBACK_VERSIONS.filter((v) => c.versions?.includes(v)) : ROLLBACK_VERSIONS;
  return [
    r('searchRule', 0, search(c)),
    r('getRule', 0, getRule(c)),
    r('addRule', 0, addRule(c)),
    r('setRule', 1, setRule(c)),
    r('delRule', 1, delRule(c)),
    r('toggleRule', 1, toggleRule(c)),
    r('toggleRuleLog', 2, toggleRuleLog(c)),
    r('moveRuleBefore', 2, moveRuleBefore(c)),
    r('apply', 0, applyAction(c)),
    r('savepoint', 0, savepoint, rollbackVersions),
    r('cancelRollback', 1, cancelRollback, rollbackVersions),
    r('revert', 1, revert(c), rollbackVersions),
  ];
});
