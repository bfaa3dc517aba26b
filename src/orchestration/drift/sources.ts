/**
 * @module The drift sources of the firewall (docs/drift.md, ADRs 0250, 0251): firewall rules (by their device id)
 * and aliases (by name), compared with the baseline through the gateway's live reads, on every vendor whose
 * descriptor has `read.rules` / `read.aliases`.
 *
 * Knoc aliases (the aliases just-in-time access writes) are compared differently: entries tagged
 * `portcullis:<grant id>` are the reconciler's and come and go with grants — never drift. What is drift on them is
 * an out-of-band edit: an untagged entry nobody accepted (`resource_modified`, critical: it grants access outside
 * Portcullis), a manual entry of the baseline gone, or an entry of one of the knoc's grants whose tag was removed
 * (`tag_removed`, critical: the reconciler now takes it for a manual entry and will never remove it).
 *
 * Severities (ADR 0251): a rule missing, an allow rule added, a rule changed in what it matches or does →
 * critical; another rule added, a rule's unmodelled options changed → warning; only its description or logging
 * changed → info. An alias missing → critical; changed → warning; added → info.
 */
import { and, eq, gt, inArray, isNull, or } from 'drizzle-orm';
import type { LiveAlias, LiveRule } from '../../adapters/live.ts';
import type { LiveAliasBody, LiveRuleBody, LiveWrite } from '../../adapters/live-write.ts';
import { tagFor, taggedGrantId } from '../../access/alias-entries.ts';
import { ConflictError } from '../../errors.ts';
import { canonicalAddress } from '../../net/client-ip.ts';
import { grants, knocs } from '../../store/schema/access.ts';
import { CANONICAL_SOURCES } from './canonical-sources.ts';
import type { DriftEventRef, DriftFinding, DriftResource, DriftSeverity, DriftSource } from './model.ts';
import { canonicalJson, sameValue } from './model.ts';

// ---------------------------------------------------------------------------------------------------------------
// Firewall rules

/** Fields that change what a rule matches or does. */
const RULE_MATCH_FIELDS = [
  'action',
  'interfaces',
  'direction',
  'ip_version',
  'protocol',
  'source_address',
  'source_port',
  'dest_address',
  'dest_port',
  'is_enabled',
  'floating',
  'quick',
  'icmp_types',
  'schedule',
] as const;
/** Fields compared beside them; `position` is kept for placing a re-created rule, not compared. */
const RULE_OTHER_FIELDS = ['unmodelled_options', 'description', 'log_enabled'] as const;

function ruleProjection(rule: LiveRule): Record<string, unknown> {
  const body: Record<string, unknown> = { position: rule.position };
  for (const field of [...RULE_MATCH_FIELDS, ...RULE_OTHER_FIELDS]) body[field] = rule[field];
  return body;
}

const ruleName = (rule: { description?: unknown }, key: string): string =>
  typeof rule.description === 'string' && rule.description.length > 0 ? rule.description : key;

function changedFields(expected: Record<string, unknown>, actual: Record<string, unknown>, fields: readonly string[]) {
  return fields.filter((field) => !sameValue(expected[field], actual[field]));
}

const RULE_PROTOCOLS = ['any', 'tcp', 'udp', 'tcp/udp', 'icmp'] as const;
const RULE_IP_VERSIONS = ['inet', 'inet6', 'inet46'] as const;

/** The neutral rule body that re-creates a baseline rule, or a 409 naming what a neutral write cannot carry. */
function ruleBodyOf(key: string, body: Record<string, unknown>): LiveRuleBody {
  const refuse = (why: string): never => {
    throw new ConflictError(`rule ${key} cannot be restored through a live write (${why}); restore it on the device`);
  };
  const interfaces = body.interfaces as string[];
  if (body.floating === true || interfaces.length !== 1) refuse('it is a floating rule or spans several interfaces');
  if ((body.unmodelled_options as string[]).length > 0) {
    refuse(`it carries options the neutral rule does not: ${(body.unmodelled_options as string[]).join(', ')}`);
  }
  const action = body.action as LiveRuleBody['action'] | null;
  if (action === null) refuse('its action is unknown');
  const protocol = RULE_PROTOCOLS.find((p) => p === body.protocol) ?? refuse(`protocol ${String(body.protocol)}`);
  const ipVersion = RULE_IP_VERSIONS.find((v) => v === (body.ip_version ?? 'inet')) ?? refuse(`ip version ${String(body.ip_version)}`);
  return {
    action: action as LiveRuleBody['action'],
    interface: interfaces[0] as string,
    ip_version: ipVersion,
    protocol,
    source_address: body.source_address as string,
    source_port: (body.source_port as string | null) ?? null,
    dest_address: body.dest_address as string,
    dest_port: (body.dest_port as string | null) ?? null,
    description: body.description as string,
    is_enabled: body.is_enabled as boolean,
    log_enabled: body.log_enabled as boolean,
  };
}

export const firewallRuleSource: DriftSource<null> = {
  resourceType: 'firewall_rule',
  readCapabilities: ['read.rules'],
  writeKind: 'firewall_rule',
  context: () => Promise.resolve(null),
  async read(live) {
    const out: DriftResource[] = [];
    for (const rule of (await live.firewallRules()).items) {
      // A rule the device gives no id (generated, dynamic) cannot be followed from one read to the next.
      if (rule.vendor_rule_id === null) continue;
      out.push({ key: rule.vendor_rule_id, name: ruleName(rule, rule.vendor_rule_id), body: ruleProjection(rule) });
    }
    return out;
  },
  baselineOf: (actual) => actual,
  compare(expected, actual) {
    const base = { resourceType: 'firewall_rule', key: (expected ?? actual)?.key ?? '', name: (expected ?? actual)?.name ?? '' };
    if (expected !== null && actual === null) {
      return [{ ...base, driftType: 'resource_missing', severity: 'critical', message: `Rule "${expected.name}" is missing on the gateway`, expected: expected.body, actual: null, details: {} }];
    }
    if (expected === null && actual !== null) {
      const severity: DriftSeverity = actual.body.action === 'allow' ? 'critical' : 'warning';
      return [{ ...base, driftType: 'resource_added', severity, message: `Rule "${actual.name}" was added on the gateway outside Portcullis`, expected: null, actual: actual.body, details: {} }];
    }
    if (expected === null || actual === null) return [];
    const match = changedFields(expected.body, actual.body, RULE_MATCH_FIELDS);
    const other = changedFields(expected.body, actual.body, RULE_OTHER_FIELDS);
    if (match.length === 0 && other.length === 0) return [];
    const severity: DriftSeverity = match.length > 0 ? 'critical' : other.includes('unmodelled_options') ? 'warning' : 'info';
    const fields = [...match, ...other];
    return [{ ...base, name: actual.name, driftType: 'resource_modified', severity, message: `Rule "${expected.name}" was changed on the gateway: ${fields.join(', ')}`, expected: expected.body, actual: actual.body, details: { fields } }];
  },
  remedy(event, baseline, actual) {
    const key = event.resourceKey;
    if (event.driftType === 'resource_added' || event.driftType === 'suppression_violated') {
      return { kind: 'firewall_rule', op: 'delete', target: key, body: {} };
    }
    const expected = event.expected ?? baseline.find((r) => r.key === key)?.body;
    if (expected === undefined) throw new ConflictError(`rule ${key} has no baseline to restore`);
    const body = ruleBodyOf(key, expected);
    if (event.driftType === 'resource_modified') return { kind: 'firewall_rule', op: 'update', target: key, body };
    // Missing: back in front of the first baseline rule after it that the device still has.
    const present = new Set(actual.map((r) => r.key));
    const at = baseline.findIndex((r) => r.key === key);
    const before = at < 0 ? null : (baseline.slice(at + 1).find((r) => present.has(r.key))?.key ?? null);
    return { kind: 'firewall_rule', op: 'create', target: null, body, before };
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Aliases

interface AliasEntryView {
  address: string;
  detail: string;
}

/** Per knoc alias of the gateway: each address of its recent grants, with the grant. */
export interface KnocAliasContext {
  aliases: Map<string, Map<string, string>>;
}

/** Grants that ended longer ago than this no longer explain an untagged entry (their reconcile is long done). */
const RECENT_GRANT_MS = 24 * 3600_000;

const entryKey = (entry: AliasEntryView) => `${entry.address}\u0000${entry.detail}`;
const sortEntries = (entries: readonly AliasEntryView[]) =>
  [...entries].sort((a, b) => (entryKey(a) < entryKey(b) ? -1 : entryKey(a) > entryKey(b) ? 1 : 0));

function aliasProjection(alias: LiveAlias): Record<string, unknown> {
  return {
    name: alias.name,
    type: alias.type,
    description: alias.description,
    entries: sortEntries(alias.entries.map((e) => ({ address: e.address, detail: e.detail }))),
  };
}

const entriesOf = (body: Record<string, unknown> | null | undefined): AliasEntryView[] =>
  (body?.entries as AliasEntryView[] | undefined) ?? [];
const untagged = (entries: readonly AliasEntryView[]) => entries.filter((e) => taggedGrantId(e.detail) === null);

/** The single host an entry holds (a bare address, or a /32 or /128 prefix), canonical; null otherwise. */
function hostOf(address: string): string | null {
  const bare = address.replace(/\/(32|128)$/, '');
  return canonicalAddress(bare);
}

function minus(a: readonly AliasEntryView[], b: readonly AliasEntryView[]): AliasEntryView[] {
  const keys = new Set(b.map(entryKey));
  return a.filter((e) => !keys.has(entryKey(e)));
}

const ALIAS_TYPES = ['host', 'network', 'port'] as const;

const textOf = (value: unknown): string => (typeof value === 'string' ? value : '');

function aliasTypeOf(name: string, type: unknown): LiveAliasBody['type'] {
  const found = ALIAS_TYPES.find((t) => t === type);
  if (found === undefined) {
    throw new ConflictError(`alias ${name} has type ${String(type)}, which a live write cannot restore; restore it on the device`);
  }
  return found;
}

function compareKnocAlias(
  expected: DriftResource | null,
  actual: DriftResource | null,
  grantsByIp: Map<string, string>,
): DriftFinding[] {
  const name = (actual ?? expected)?.name ?? '';
  const base = { resourceType: 'alias', key: name, name };
  const manual = entriesOf(expected?.body);
  if (actual === null) {
    // A list without entries does not exist on some vendors (RouterOS): an empty knoc alias is churn.
    if (manual.length === 0) return [];
    return [{ ...base, driftType: 'resource_missing', severity: 'critical', message: `Knoc alias ${name} is missing on the gateway, with its manual entries`, expected: expected?.body ?? null, actual: null, details: {} }];
  }
  const live = untagged(entriesOf(actual.body));
  const added = minus(live, manual);
  const removed = minus(manual, live);
  const retag = added.filter((e) => {
    const host = hostOf(e.address);
    return host !== null && grantsByIp.has(host);
  });
  const handAdded = minus(added, retag);
  const findings: DriftFinding[] = [];
  if (retag.length > 0) {
    findings.push({ ...base, driftType: 'tag_removed', severity: 'critical', message: `Knoc alias ${name}: the Portcullis tag was removed from ${retag.map((e) => e.address).join(', ')}; the access would never be taken away`, expected: expected?.body ?? null, actual: actual.body, details: { untagged: retag } });
  }
  const described =
    expected !== null && (expected.body.type !== actual.body.type || expected.body.description !== actual.body.description);
  if (handAdded.length > 0 || removed.length > 0 || described) {
    const parts = [
      ...(handAdded.length > 0 ? [`added by hand: ${handAdded.map((e) => e.address).join(', ')}`] : []),
      ...(removed.length > 0 ? [`manual entries removed: ${removed.map((e) => e.address).join(', ')}`] : []),
      ...(described ? ['type or description changed'] : []),
    ];
    findings.push({ ...base, driftType: 'resource_modified', severity: handAdded.length > 0 ? 'critical' : 'warning', message: `Knoc alias ${name} was edited outside Portcullis: ${parts.join('; ')}`, expected: expected?.body ?? null, actual: actual.body, details: { added: handAdded, removed } });
  }
  return findings;
}

export const aliasSource: DriftSource<KnocAliasContext> = {
  resourceType: 'alias',
  readCapabilities: ['read.aliases'],
  writeKind: 'alias',
  async context(ctx, gatewayId) {
    const rows = await ctx.db
      .select({ id: knocs.id, alias: knocs.aliasName })
      .from(knocs)
      .where(and(eq(knocs.orgId, ctx.orgId), eq(knocs.gatewayId, gatewayId), isNull(knocs.deletedAt)));
    const aliases = new Map<string, Map<string, string>>();
    for (const row of rows) aliases.set(row.alias, aliases.get(row.alias) ?? new Map<string, string>());
    if (rows.length === 0) return { aliases };
    const since = new Date(ctx.now().getTime() - RECENT_GRANT_MS);
    const recent = await ctx.db
      .select({ id: grants.id, ip: grants.ip, knocId: grants.knocId })
      .from(grants)
      .where(and(inArray(grants.knocId, rows.map((r) => r.id)), or(isNull(grants.endedAt), gt(grants.endedAt, since))));
    const aliasOf = new Map(rows.map((r) => [r.id, r.alias]));
    for (const grant of recent) {
      const ip = canonicalAddress(grant.ip);
      const byIp = aliases.get(aliasOf.get(grant.knocId) as string);
      if (ip !== null && byIp !== undefined) byIp.set(ip, grant.id);
    }
    return { aliases };
  },
  async read(live) {
    return (await live.aliases()).items.map((alias) => ({ key: alias.name, name: alias.name, body: aliasProjection(alias) }));
  },
  baselineOf(actual, context) {
    if (!context.aliases.has(actual.key)) return actual;
    return { ...actual, body: { ...actual.body, entries: untagged(entriesOf(actual.body)) } };
  },
  compare(expected, actual, context) {
    const name = (actual ?? expected)?.key ?? '';
    const knoc = context.aliases.get(name);
    if (knoc !== undefined) return compareKnocAlias(expected, actual, knoc);
    const base = { resourceType: 'alias', key: name, name };
    if (expected !== null && actual === null) {
      return [{ ...base, driftType: 'resource_missing', severity: 'critical', message: `Alias ${name} is missing on the gateway`, expected: expected.body, actual: null, details: {} }];
    }
    if (expected === null && actual !== null) {
      return [{ ...base, driftType: 'resource_added', severity: 'info', message: `Alias ${name} was added on the gateway outside Portcullis`, expected: null, actual: actual.body, details: {} }];
    }
    if (expected === null || actual === null || canonicalJson(expected.body) === canonicalJson(actual.body)) return [];
    const added = minus(entriesOf(actual.body), entriesOf(expected.body));
    const removed = minus(entriesOf(expected.body), entriesOf(actual.body));
    const fields = changedFields(expected.body, actual.body, ['type', 'description']);
    return [{ ...base, driftType: 'resource_modified', severity: 'warning', message: `Alias ${name} was changed on the gateway`, expected: expected.body, actual: actual.body, details: { added, removed, fields } }];
  },
  remedy(event, baseline, actual, context) {
    const name = event.resourceKey;
    if (event.driftType === 'resource_added' || event.driftType === 'suppression_violated') {
      return { kind: 'alias', op: 'delete', target: name, body: {} };
    }
    const expected = event.expected ?? baseline.find((r) => r.key === name)?.body ?? null;
    const knoc = context.aliases.get(name);
    const live = actual.find((r) => r.key === name)?.body ?? null;
    if (knoc !== undefined) {
      // The reconciler's entries stay; tags go back on entries of the knoc's grants; manual entries as accepted.
      const restored: AliasEntryView[] = [];
      for (const entry of entriesOf(live)) {
        if (taggedGrantId(entry.detail) !== null) restored.push(entry);
        else {
          const grantId = knoc.get(hostOf(entry.address) ?? '');
          if (grantId !== undefined) restored.push({ address: entry.address, detail: tagFor(grantId) });
        }
      }
      const manual = entriesOf(expected);
      const body: LiveAliasBody = {
        name,
        type: aliasTypeOf(name, (expected ?? live)?.type),
        description: textOf((expected ?? live)?.description),
        entries: [...manual, ...restored],
      };
      return live === null ? { kind: 'alias', op: 'create', target: null, body } : { kind: 'alias', op: 'update', target: name, body };
    }
    if (expected === null) throw new ConflictError(`alias ${name} has no baseline to restore`);
    const body: LiveAliasBody = {
      name,
      type: aliasTypeOf(name, expected.type),
      description: textOf(expected.description),
      entries: entriesOf(expected),
    };
    const write: LiveWrite =
      event.driftType === 'resource_missing'
        ? { kind: 'alias', op: 'create', target: null, body }
        : { kind: 'alias', op: 'update', target: name, body };
    return write;
  },
};

/**
 * Every source a drift check runs, in order: the firewall's (rules, then aliases: what rules refer to) against the
 * baseline, then the canonical VLANs, DHCP and DNS against the site's brain and limbs.
 */
export const DRIFT_SOURCES: ReadonlyArray<DriftSource<unknown>> = [
  firewallRuleSource,
  aliasSource,
  ...CANONICAL_SOURCES,
] as ReadonlyArray<DriftSource<unknown>>;

export function findSource(resourceType: string): DriftSource<unknown> | undefined {
  return DRIFT_SOURCES.find((s) => s.resourceType === resourceType);
}

export type { DriftEventRef };
