/**
 * @module A drift check of one gateway (docs/reference/freesdn-firewall-module.md §16, docs/drift.md, ADR 0250):
 *
 * 1. Each drift source that applies to the gateway (the firewall's always; the canonical state's by its role in the
 *    site's role map, ADR 0275) and whose `read.*` flags the vendor has reads the device; the others are skipped
 *    with the flag's reason (stored on the gateway's drift state and returned).
 * 2. For the firewall's sources the first complete read becomes the baseline (no events). Later, pending changes
 *    Portcullis applied since the last check move the baseline first: the object a change wrote is taken as the
 *    device shows it (a delete removes it), so Portcullis's own writes are never drift. The canonical sources
 *    compare with the canonical state from the first check on.
 * 3. Every source compares its expectation and the device per resource; silencing suppressions drop findings, forbidding
 *    ones add `suppression_violated` for each matching resource (ADR 0252).
 * 4. Findings meet the open events in one transaction: ONE open event per (gateway, resource, drift type) — a
 *    recheck updates it (occurrences, last seen, actual) instead of adding a duplicate; a finding equal to a drift
 *    someone ignored stays quiet; an open event no longer found is closed (`cleared`, or `reapplied` when its
 *    staged reapply is what fixed it). Opened and closed events go to the bus (`drift.detected`, `drift.resolved`).
 */
import { and, asc, eq, gt, inArray, isNull, lt, ne, or, type SQL } from 'drizzle-orm';
import { type ClosableAdapter, unavailableReason, type VendorDescriptor } from '../../adapters/registry.ts';
import { type ServiceContext, inTransaction } from '../../core/context.ts';
import { DeviceError } from '../../errors.ts';
import type { EventBus } from '../../events/bus.ts';
import { storeEvents } from '../../events/bus.ts';
import type { BusEvent } from '../../events/types.ts';
import { requireVendor } from '../../firewall/adapter.ts';
import { getGateway } from '../../firewall/gateways.ts';
import { fromDevice, liveGateway } from '../../firewall/live.ts';
import type { Db } from '../../store/db.ts';
import { driftBaselines, driftEvents, driftGatewayState, driftSuppressions } from '../../store/schema/drift.ts';
import { pendingChanges } from '../../store/schema/firewall.ts';
import { orchestrationTopologies, orchestrationTopologyMembers } from '../../store/schema/orchestration.ts';
import type { LiveGateway } from '../../adapters/live.ts';
import type { Role } from '../topology-roles.ts';
import { type AuthorityMap, DEFAULT_AUTHORITY_MAP } from '../topology.ts';
import {
  type DriftFinding,
  type DriftResource,
  type DriftSource,
  globMatcher,
  hashOf,
  type Membership,
} from './model.ts';
import { DRIFT_SOURCES } from './sources.ts';

/** What a check needs beyond the store: the bus and the gateway's (cached) adapter. */
export interface DriftCheckDeps {
  events: EventBus;
  device(gatewayId: string): Promise<{ vendor: VendorDescriptor; adapter: ClosableAdapter }>;
}

export interface SkippedSource {
  resource_type: string;
  capability: string;
  reason: string;
}

export interface GatewayCheckResult {
  gateway_id: string;
  site_id: string;
  outcome: 'ok' | 'failed' | 'skipped';
  /** This check took the baseline (the first complete read): nothing is compared yet. */
  baseline_taken: boolean;
  skipped: SkippedSource[];
  /** Events opened by this check. */
  opened: string[];
  /** Open events this check saw again (updated, not duplicated). */
  updated: number;
  /** Events closed because the device shows the baseline again. */
  cleared: number;
  suppressed: number;
  /** Findings equal to a drift someone ignored. */
  ignored: number;
  error: { code: string; vendor_code: string | null; message: string } | null;
}

type EventRow = typeof driftEvents.$inferSelect;
type SuppressionRow = typeof driftSuppressions.$inferSelect;

interface SourceRead {
  source: DriftSource<unknown>;
  context: unknown;
  actual: DriftResource[];
}

const eventKey = (e: { resourceType: string; resourceKey?: string; key?: string; driftType: string }) =>
  `${e.resourceType}\u0000${e.resourceKey ?? e.key ?? ''}\u0000${e.driftType}`;

/** Pending-change outcomes after which a staged reapply will not fix the drift. */
const REAPPLY_GAVE_UP = ['failed', 'failed_verification', 'discarded', 'reverted'];

export function driftEvent(row: EventRow, type: 'drift.detected' | 'drift.resolved'): BusEvent {
  return {
    type,
    orgId: row.orgId,
    siteId: row.siteId,
    gatewayId: row.deviceId,
    payload: {
      drift_event_id: row.id,
      resource_type: row.resourceType,
      resource_key: row.resourceKey,
      resource_name: row.resourceName,
      drift_type: row.driftType,
      severity: row.severity,
      status: row.status,
      resolution: row.resolution,
    },
  };
}

/** The baseline of a gateway per resource type, in baseline order (a rule's position). */
export async function loadBaseline(db: Db, gatewayId: string, resourceType: string): Promise<DriftResource[]> {
  const rows = await db
    .select()
    .from(driftBaselines)
    .where(and(eq(driftBaselines.deviceId, gatewayId), eq(driftBaselines.resourceType, resourceType)));
  const position = (body: unknown) => {
    const p = (body as { position?: unknown }).position;
    return typeof p === 'number' ? p : Number.MAX_SAFE_INTEGER;
  };
  return rows
    .map((r) => ({ key: r.resourceKey, name: r.name, body: r.body as Record<string, unknown> }))
    .sort((a, b) => position(a.body) - position(b.body) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export async function putBaseline(
  db: Db,
  row: { orgId: string; siteId: string; deviceId: string; resourceType: string; resource: DriftResource; source: string; now: Date },
): Promise<void> {
  const values = {
    orgId: row.orgId,
    siteId: row.siteId,
    deviceId: row.deviceId,
    resourceType: row.resourceType,
    resourceKey: row.resource.key,
    name: row.resource.name,
    body: row.resource.body,
    source: row.source,
    updatedAt: row.now,
  };
  await db
    .insert(driftBaselines)
    .values(values)
    .onConflictDoUpdate({
      target: [driftBaselines.deviceId, driftBaselines.resourceType, driftBaselines.resourceKey],
      set: { name: values.name, body: values.body, source: values.source, updatedAt: values.updatedAt },
    });
}

export async function dropBaseline(db: Db, gatewayId: string, resourceType: string, key: string): Promise<void> {
  await db
    .delete(driftBaselines)
    .where(
      and(
        eq(driftBaselines.deviceId, gatewayId),
        eq(driftBaselines.resourceType, resourceType),
        eq(driftBaselines.resourceKey, key),
      ),
    );
}

/** Baseline rows are written in chunks (a brain with thousands of rules). */
const INSERT_CHUNK = 500;

async function snapshot(tx: ServiceContext, siteId: string, gatewayId: string, reads: readonly SourceRead[]): Promise<void> {
  const now = tx.now();
  for (const { source, context, actual } of reads) {
    await tx.db
      .delete(driftBaselines)
      .where(and(eq(driftBaselines.deviceId, gatewayId), eq(driftBaselines.resourceType, source.resourceType)));
    for (let i = 0; i < actual.length; i += INSERT_CHUNK) {
      const chunk = actual.slice(i, i + INSERT_CHUNK).map((resource) => {
        const base = source.baselineOf(resource, context);
        return {
          orgId: tx.orgId,
          siteId,
          deviceId: gatewayId,
          resourceType: source.resourceType,
          resourceKey: base.key,
          name: base.name,
          body: base.body,
          source: 'snapshot',
          updatedAt: now,
        };
      });
      if (chunk.length > 0) await tx.db.insert(driftBaselines).values(chunk).onConflictDoNothing();
    }
  }
}

/** Moves the baseline by the pending changes applied in (`since`, `until`) on the sources just read. */
async function foldAppliedChanges(
  tx: ServiceContext,
  siteId: string,
  gatewayId: string,
  reads: readonly SourceRead[],
  since: Date | null,
  until: Date,
): Promise<number> {
  if (reads.length === 0) return 0;
  const byKind = new Map(reads.map((read) => [read.source.writeKind as string, read]));
  const conditions: SQL[] = [
    eq(pendingChanges.deviceId, gatewayId),
    inArray(pendingChanges.status, ['applied', 'reverted']),
    inArray(pendingChanges.targetType, [...byKind.keys()]),
    lt(pendingChanges.appliedAt, until),
  ];
  if (since !== null) conditions.push(gt(pendingChanges.appliedAt, since));
  const changes = await tx.db
    .select()
    .from(pendingChanges)
    .where(and(...conditions))
    .orderBy(asc(pendingChanges.appliedAt), asc(pendingChanges.id));
  for (const change of changes) {
    const read = byKind.get(change.targetType) as SourceRead;
    const target = change.targetVendorId;
    if (target === null) continue;
    const actual = change.operation === 'delete' ? undefined : read.actual.find((r) => r.key === target);
    if (actual === undefined) await dropBaseline(tx.db, gatewayId, read.source.resourceType, target);
    else {
      await putBaseline(tx.db, {
        orgId: tx.orgId,
        siteId,
        deviceId: gatewayId,
        resourceType: read.source.resourceType,
        resource: read.source.baselineOf(actual, read.context),
        source: 'pending_change',
        now: tx.now(),
      });
    }
  }
  return changes.length;
}

function compareAll(read: SourceRead, baseline: readonly DriftResource[]): DriftFinding[] {
  const expected = new Map(baseline.map((r) => [r.key, r]));
  const actual = new Map(read.actual.map((r) => [r.key, r]));
  const findings: DriftFinding[] = [];
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    findings.push(...read.source.compare(expected.get(key) ?? null, actual.get(key) ?? null, read.context));
  }
  return findings;
}

function applySuppressions(
  findings: DriftFinding[],
  reads: readonly SourceRead[],
  suppressions: readonly SuppressionRow[],
): { findings: DriftFinding[]; suppressed: number } {
  const matchers = suppressions.map((s) => ({ row: s, match: globMatcher(s.pattern) }));
  const hits = (m: (typeof matchers)[number], type: string, key: string, name: string) =>
    m.row.resourceType === type && (m.match(key) || m.match(name));
  const silences = matchers.filter((m) => m.row.mode === 'silence');
  const kept = findings.filter(
    (f) => !silences.some((m) => hits(m, f.resourceType, f.key, f.name) && (m.row.driftType === null || m.row.driftType === f.driftType)),
  );
  const suppressed = findings.length - kept.length;
  for (const m of matchers.filter((x) => x.row.mode === 'forbid')) {
    const read = reads.find((r) => r.source.resourceType === m.row.resourceType);
    for (const resource of read?.actual ?? []) {
      if (!hits(m, m.row.resourceType, resource.key, resource.name)) continue;
      if (kept.some((f) => f.driftType === 'suppression_violated' && f.resourceType === m.row.resourceType && f.key === resource.key)) continue;
      kept.push({
        resourceType: m.row.resourceType,
        key: resource.key,
        name: resource.name,
        driftType: 'suppression_violated',
        severity: 'warning',
        message: `${m.row.resourceType} "${resource.name}" is on the gateway although suppression ${m.row.id} forbids it (${m.row.reason})`,
        expected: null,
        actual: resource.body,
        details: { suppression_id: m.row.id, pattern: m.row.pattern },
      });
    }
  }
  return { findings: kept, suppressed };
}

async function writeState(
  db: Db,
  row: { orgId: string; siteId: string; gatewayId: string; now: Date } & Partial<typeof driftGatewayState.$inferInsert>,
): Promise<void> {
  const { orgId, siteId, gatewayId, now, ...rest } = row;
  const set = { lastCheckAt: now, ...rest };
  await db
    .insert(driftGatewayState)
    .values({ deviceId: gatewayId, orgId, siteId, ...set })
    .onConflictDoUpdate({ target: driftGatewayState.deviceId, set });
}

/** The gateway's role in its site's role map, with the map's authorities; null when it is in none. */
export async function membershipOf(db: Db, gatewayId: string): Promise<Membership | null> {
  const [row] = await db
    .select({ role: orchestrationTopologyMembers.role, authorityMap: orchestrationTopologies.authorityMap })
    .from(orchestrationTopologyMembers)
    .innerJoin(orchestrationTopologies, eq(orchestrationTopologies.id, orchestrationTopologyMembers.topologyId))
    .where(eq(orchestrationTopologyMembers.gatewayId, gatewayId))
    .limit(1);
  if (!row) return null;
  return { role: row.role as Role, authorityMap: { ...DEFAULT_AUTHORITY_MAP, ...(row.authorityMap as Partial<AuthorityMap>) } };
}

/** Whether `source` takes part in a check of a gateway with this membership. */
export const sourceApplies = (source: DriftSource<unknown>, membership: Membership | null): boolean =>
  source.expectation === undefined || (membership !== null && source.expectation.applies(membership));

/**
 * The live view with each argument-less read made once per check: the brain's VLAN interfaces are what its
 * VLAN, DHCP scope and reservation sources all key on.
 */
export function readOnce(live: LiveGateway): LiveGateway {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(live, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (args.length > 0) return (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!cache.has(prop)) cache.set(prop, (value as () => unknown).call(target));
        return cache.get(prop);
      };
    },
  });
}

/** The expectation of one source read: the canonical state, or the stored baseline. */
export async function expectationOf(db: Db, gatewayId: string, source: DriftSource<unknown>, context: unknown): Promise<DriftResource[]> {
  return source.expectation ? source.expectation.expected(context) : loadBaseline(db, gatewayId, source.resourceType);
}

/** Checks one gateway now (see the module). Device faults are recorded on the gateway's drift state and returned. */
export async function checkGateway(ctx: ServiceContext, deps: DriftCheckDeps, gatewayId: string): Promise<GatewayCheckResult> {
  const gateway = await getGateway(ctx, gatewayId);
  const vendor = requireVendor(gateway.vendor);
  const result: GatewayCheckResult = {
    gateway_id: gateway.id,
    site_id: gateway.siteId,
    outcome: 'ok',
    baseline_taken: false,
    skipped: [],
    opened: [],
    updated: 0,
    cleared: 0,
    suppressed: 0,
    ignored: 0,
    error: null,
  };
  const membership = await membershipOf(ctx.db, gateway.id);
  const runnable: Array<DriftSource<unknown>> = [];
  for (const source of DRIFT_SOURCES) {
    if (!sourceApplies(source, membership)) continue;
    const missing = source.readCapabilities.find((flag) => !vendor.capabilities[flag]);
    if (vendor.live !== undefined && missing === undefined) runnable.push(source);
    else {
      const capability: string = missing ?? source.readCapabilities[0] ?? 'live';
      result.skipped.push({
        resource_type: source.resourceType,
        capability,
        reason: (missing && unavailableReason(vendor, missing)) ?? 'the vendor offers no live reads',
      });
    }
  }
  const state = { orgId: ctx.orgId, siteId: gateway.siteId, gatewayId: gateway.id };
  if (runnable.length === 0) {
    await writeState(ctx.db, { ...state, now: ctx.now(), lastOutcome: 'skipped', skipped: result.skipped, lastErrorCode: null, lastErrorMessage: null });
    return { ...result, outcome: 'skipped' };
  }

  const readStartedAt = ctx.now();
  const reads: SourceRead[] = [];
  try {
    const { adapter } = await fromDevice(() => deps.device(gateway.id));
    const live = readOnce(liveGateway(vendor, adapter));
    for (const source of runnable) {
      const context = await source.context(ctx, gateway.id, gateway.siteId);
      reads.push({ source, context, actual: await fromDevice(() => source.read(live, context)) });
    }
  } catch (err) {
    if (!(err instanceof DeviceError)) throw err;
    result.error = { code: err.code, vendor_code: err.vendorCode, message: err.message };
    await writeState(ctx.db, { ...state, now: ctx.now(), lastOutcome: 'failed', lastErrorCode: err.vendorCode, lastErrorMessage: err.message, skipped: result.skipped });
    return { ...result, outcome: 'failed' };
  }

  const events = await inTransaction(ctx, async (tx) => {
    // One check of a gateway at a time: the state row is the lock.
    await tx.db
      .insert(driftGatewayState)
      .values({ deviceId: gateway.id, orgId: tx.orgId, siteId: gateway.siteId })
      .onConflictDoNothing();
    const [current] = await tx.db
      .select()
      .from(driftGatewayState)
      .where(eq(driftGatewayState.deviceId, gateway.id))
      .for('update');
    const stored: BusEvent[] = [];
    const done = { lastOutcome: 'ok', lastErrorCode: null, lastErrorMessage: null, skipped: result.skipped };
    const baselineReads = reads.filter((r) => r.source.expectation === undefined);
    let compared = reads;
    let baselineAt = current?.baselineAt ?? null;
    if (baselineAt === null) {
      // The firewall's first read is its baseline; the canonical sources are compared all the same.
      await snapshot(tx, gateway.siteId, gateway.id, baselineReads);
      result.baseline_taken = true;
      baselineAt = readStartedAt;
      compared = reads.filter((r) => r.source.expectation !== undefined);
    } else {
      await foldAppliedChanges(tx, gateway.siteId, gateway.id, baselineReads, current?.foldedUntil ?? null, readStartedAt);
    }
    if (compared.length === 0) {
      await writeState(tx.db, { ...state, now: tx.now(), ...done, baselineAt, foldedUntil: readStartedAt });
      return stored;
    }

    let findings: DriftFinding[] = [];
    for (const read of compared) findings.push(...compareAll(read, await expectationOf(tx.db, gateway.id, read.source, read.context)));
    const suppressions = await tx.db
      .select()
      .from(driftSuppressions)
      .where(
        and(
          eq(driftSuppressions.orgId, tx.orgId),
          eq(driftSuppressions.siteId, gateway.siteId),
          eq(driftSuppressions.isActive, true),
          or(isNull(driftSuppressions.deviceId), eq(driftSuppressions.deviceId, gateway.id)),
        ),
      );
    const filtered = applySuppressions(findings, compared, suppressions);
    findings = filtered.findings;
    result.suppressed = filtered.suppressed;

    const types = compared.map((r) => r.source.resourceType);
    const open = await tx.db
      .select()
      .from(driftEvents)
      .where(and(eq(driftEvents.deviceId, gateway.id), ne(driftEvents.status, 'resolved'), inArray(driftEvents.resourceType, types)));
    const openByKey = new Map(open.map((e) => [eventKey(e), e]));
    const reapplies = open.map((e) => e.pendingChangeId).filter((id): id is string => id !== null);
    const reapplyStatus = new Map(
      reapplies.length === 0
        ? []
        : (await tx.db.select({ id: pendingChanges.id, status: pendingChanges.status }).from(pendingChanges).where(inArray(pendingChanges.id, reapplies))).map(
            (r) => [r.id, r.status],
          ),
    );
    const now = tx.now();
    const seen = new Set<string>();
    for (const finding of findings) {
      const key = eventKey({ resourceType: finding.resourceType, key: finding.key, driftType: finding.driftType });
      if (seen.has(key)) continue;
      seen.add(key);
      const actualHash = hashOf(finding.actual);
      const existing = openByKey.get(key);
      const fields = {
        resourceName: finding.name,
        severity: finding.severity,
        message: finding.message,
        expected: finding.expected,
        actual: finding.actual,
        actualHash,
        details: finding.details,
        lastSeenAt: now,
      };
      if (existing) {
        const gaveUp =
          existing.status === 'remediating' &&
          REAPPLY_GAVE_UP.includes(reapplyStatus.get(existing.pendingChangeId ?? '') ?? 'failed');
        await tx.db
          .update(driftEvents)
          .set({ ...fields, occurrences: existing.occurrences + 1, ...(gaveUp ? { status: 'open' } : {}) })
          .where(eq(driftEvents.id, existing.id));
        result.updated++;
        continue;
      }
      const [ignored] = await tx.db
        .select({ id: driftEvents.id })
        .from(driftEvents)
        .where(
          and(
            eq(driftEvents.deviceId, gateway.id),
            eq(driftEvents.resourceType, finding.resourceType),
            eq(driftEvents.resourceKey, finding.key),
            eq(driftEvents.driftType, finding.driftType),
            eq(driftEvents.resolution, 'ignored'),
            eq(driftEvents.actualHash, actualHash),
          ),
        )
        .limit(1);
      if (ignored) {
        result.ignored++;
        continue;
      }
      const [inserted] = await tx.db
        .insert(driftEvents)
        .values({
          orgId: tx.orgId,
          siteId: gateway.siteId,
          deviceId: gateway.id,
          resourceType: finding.resourceType,
          resourceKey: finding.key,
          driftType: finding.driftType,
          firstSeenAt: now,
          suppressionId: typeof finding.details.suppression_id === 'string' ? finding.details.suppression_id : null,
          ...fields,
        })
        .returning();
      const row = inserted as EventRow;
      result.opened.push(row.id);
      stored.push(driftEvent(row, 'drift.detected'));
    }
    for (const event of open) {
      if (seen.has(eventKey(event))) continue;
      const [closed] = await tx.db
        .update(driftEvents)
        .set({ status: 'resolved', resolution: event.status === 'remediating' ? 'reapplied' : 'cleared', resolvedAt: now })
        .where(eq(driftEvents.id, event.id))
        .returning();
      result.cleared++;
      stored.push(driftEvent(closed as EventRow, 'drift.resolved'));
    }
    await writeState(tx.db, { ...state, now, ...done, baselineAt, foldedUntil: readStartedAt });
    return storeEvents(tx.db, stored);
  });
  deps.events.emit(events);
  return result;
}
