/**
 * @module The distribution saga (docs/orchestration.md "Distribution", ADRs 0265-0269): one canonical VLAN pushed
 * to a site's brain and limbs in tiers.
 *
 * - Tier 0: the brain and every limb are reachable (a status read) and can read and write the kinds they need;
 *   their VLAN state is read to plan. Nothing is written; a failure here fails the distribution with nothing to undo.
 * - Tier 1, the brain: the VLAN interface, then its DHCP scope, the scope's reservations and the DNS overrides whose
 *   address lies in the VLAN's subnets.
 * - Tiers 2…: one per limb, its bridge VLAN.
 *
 * Each write step reads the device's object right before it runs: identical already → `noop`, nothing to undo;
 * absent → `create`, compensated by deleting what it created; different → `update` of a merge (src/orchestration/
 * distribution/plan.ts), compensated by writing the before-image back. The compensation is stored on the step
 * BEFORE the write goes out. Every write — steps and compensations — goes through the pending-change engine
 * (`submitWrite` with `force`: gate 1, the apply gate with its policy tests, one device apply, read-back
 * verification); a step is done only when its change is `applied`. On any failure once a step is done — the step's
 * own or an unexpected error (ADR 0269) — the compensations of the done steps run newest first, each verified by
 * reading the object back from the device; one that fails is recorded and the rest still run.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { LiveGateway } from '../../adapters/live.ts';
import type { LiveObject, LiveWrite } from '../../adapters/live-write.ts';
import type { ClosableAdapter, VendorDescriptor } from '../../adapters/registry.ts';
import { record } from '../../audit/record.ts';
import { inTransaction, type ServiceContext } from '../../core/context.ts';
import { isUuid } from '../../core/validate.ts';
import { ConflictError, DomainError, NotFoundError, ReadOnlyError, ValidationError } from '../../errors.ts';
import { storeEvents } from '../../events/bus.ts';
import { fromDevice, liveGateway } from '../../firewall/live.ts';
import { type PendingDeps, requireWriteCapability, submitWrite } from '../../firewall/pending.ts';
import { inverseOf, verificationDifferences } from '../../firewall/pending-writes.ts';
import { readSettings } from '../../firewall/settings.ts';
import { AdapterError } from '../../adapters/types.ts';
import { cidrContains, parseCidr, parseIp } from '../../net/ip.ts';
import { distributionSteps, distributions } from '../../store/schema/distribution.ts';
import { orchestrationDnsRecords } from '../../store/schema/orchestration.ts';
import { getVlanDetail, type VlanDetail } from '../canonical/vlans.ts';
import { requireLiveSite } from '../canonical/fields.ts';
import { getTopology, type Member, type TopologyView } from '../topology.ts';
import { type DistributionEventType, distributionEvent } from './events.ts';
import { releaseLock, renewLock, takeLock } from './lock.ts';
import type { DistributedKind, DistributionView, LimbPlacement, Placement, StepAction, StepKind, TriggerInput } from './model.ts';
import {
  type CanonicalVlan,
  derivedBrainParent,
  derivedLimbPlacement,
  differingKeys,
  mergedBody,
  reservationPoolConflict,
  vlanInterfaceBody,
} from './plan.ts';
import { type DistributionRow, findDistribution, getDistribution, type StepRow } from './store.ts';

/** A device of the site as the saga uses it: its live reads and a reader of single objects (before-images). */
interface Device {
  member: Member;
  vendor: VendorDescriptor;
  live: LiveGateway;
  read(kind: DistributedKind, target: string): Promise<LiveObject | null>;
}

/** What a step failed with, as stored (`{code, message, field?, vendor_code?}`). */
interface StepError {
  code: string;
  message: string;
  field?: string;
  vendor_code?: string | null;
}

/**
 * The stored error of a failed step or compensation. An unexpected error (neither the device's nor a domain refusal:
 * a database fault, a bug) is `internal`, its text kept out of the row (it may hold anything) and the error itself
 * kept on the run: the saga still unwinds, then rethrows it for the server log (ADR 0269).
 */
function errorOf(run: Run, err: unknown): StepError {
  if (err instanceof AdapterError) return { code: 'device_error', message: err.message, vendor_code: err.code };
  if (err instanceof DomainError) {
    const vendorCode = (err as { vendorCode?: string }).vendorCode;
    return { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}), ...(vendorCode ? { vendor_code: vendorCode } : {}) };
  }
  run.unexpected.push(err);
  return { code: 'internal', message: 'An unexpected error stopped it; the server log has the cause.' };
}

/** Rethrows the first unexpected error the run met, once its outcome is recorded (the route logs it, answers 500). */
function rethrowUnexpected(run: Run): void {
  if (run.unexpected.length > 0) throw run.unexpected[0];
}

/** The running saga: its context, row and the devices it talks to. */
interface Run {
  ctx: ServiceContext;
  deps: PendingDeps;
  row: DistributionRow;
  ttlSeconds: number;
  holdsLock: boolean;
  devices: Map<string, Device>;
  confirmed: boolean;
  /** Unexpected errors met by steps and compensations, recorded as `internal` and rethrown at the end. */
  unexpected: unknown[];
}

// ---------------------------------------------------------------------------------------------------------------
// Input

interface Target {
  siteId: string;
  vlan: VlanDetail;
  topology: TopologyView & { brain: Member };
}

async function resolveTarget(ctx: ServiceContext, siteId: unknown, vlanId: unknown): Promise<Target> {
  if (!isUuid(siteId)) throw new ValidationError('site_id', 'site_id must be a site id (UUID)');
  if (!isUuid(vlanId)) throw new ValidationError('vlan_id', 'vlan_id must be a canonical VLAN id (UUID)');
  const site = await requireLiveSite(ctx, siteId, { field: 'site_id' });
  const vlan = await getVlanDetail(ctx, vlanId).catch((err: unknown) => {
    if (err instanceof NotFoundError) throw new ValidationError('vlan_id', 'vlan_id: no such canonical VLAN');
    throw err;
  });
  if (vlan.siteId !== site) throw new ValidationError('vlan_id', 'vlan_id must be a canonical VLAN of site_id');
  const topology = await getTopology(ctx, site).catch((err: unknown) => {
    if (err instanceof NotFoundError) throw new ValidationError('site_id', 'site_id: the site has no role map (topology); set its brain and limbs first');
    throw err;
  });
  if (topology.brain === null) throw new ValidationError('site_id', 'site_id: the role map of the site has no brain');
  return { siteId: site, vlan, topology: topology as Target['topology'] };
}

const PORT = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,63}$/;

function requirePorts(field: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((p) => typeof p !== 'string' || !PORT.test(p))) {
    throw new ValidationError(field, `${field} must be a list of port names`);
  }
  return [...new Set(value as string[])].sort();
}

/** The trigger's placement override, checked: 400 naming `placement.…`. */
function parsePlacement(value: unknown, topology: TopologyView): TriggerInput['placement'] {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError('placement', 'placement must be an object');
  const input = value as Record<string, unknown>;
  const out: NonNullable<TriggerInput['placement']> = {};
  if (input.brain_parent !== undefined) {
    if (typeof input.brain_parent !== 'string' || !PORT.test(input.brain_parent)) {
      throw new ValidationError('placement.brain_parent', 'placement.brain_parent must be a port name (e.g. vtnet1)');
    }
    out.brain_parent = input.brain_parent;
  }
  if (input.limbs !== undefined) {
    if (typeof input.limbs !== 'object' || input.limbs === null || Array.isArray(input.limbs)) {
      throw new ValidationError('placement.limbs', 'placement.limbs must map limb gateway ids to {bridge, tagged, untagged}');
    }
    out.limbs = {};
    for (const [gatewayId, raw] of Object.entries(input.limbs)) {
      const field = `placement.limbs.${gatewayId}`;
      if (!topology.limbs.some((limb) => limb.gatewayId === gatewayId.toLowerCase())) {
        throw new ValidationError(field, `${field}: not a limb of the site's role map`);
      }
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError(field, `${field} must be an object`);
      const limb = raw as Record<string, unknown>;
      const parsed: Partial<LimbPlacement> = {};
      if (limb.bridge !== undefined) {
        if (typeof limb.bridge !== 'string' || !PORT.test(limb.bridge)) throw new ValidationError(`${field}.bridge`, `${field}.bridge must be a bridge name`);
        parsed.bridge = limb.bridge;
      }
      if (limb.tagged !== undefined) parsed.tagged = requirePorts(`${field}.tagged`, limb.tagged);
      if (limb.untagged !== undefined) parsed.untagged = requirePorts(`${field}.untagged`, limb.untagged);
      const clash = parsed.tagged?.find((port) => parsed.untagged?.includes(port));
      if (clash !== undefined) throw new ValidationError(`${field}.untagged`, `${field}.untagged: port ${clash} is also tagged`);
      out.limbs[gatewayId.toLowerCase()] = parsed;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Entry points

/**
 * Triggers a distribution of canonical VLAN `input.vlanId` to the site's brain and limbs (the signature is stable:
 * the brownfield import calls it). With `force` the saga runs to its end (the site lock taken atomically, 409
 * naming the running distribution when another holds it); without it the distribution is only planned: tier 0 is
 * read and every step's action is shown, nothing is written (run it with `retryDistribution`).
 */
export async function triggerDistribution(
  ctx: ServiceContext,
  deps: PendingDeps,
  // `placement` is checked here (a route passes the body's as is), so it may be anything.
  input: Omit<TriggerInput, 'placement'> & { placement?: unknown },
): Promise<DistributionView> {
  const target = await resolveTarget(ctx, input.siteId, input.vlanId);
  const override = parsePlacement(input.placement, target.topology);
  const force = input.force ?? false;
  if (force && deps.readOnly) {
    throw new ReadOnlyError(
      'This deployment is read-only for live writes (PORTCULLIS_READ_ONLY=true): a distribution can only be planned; trigger it without force.',
    );
  }
  const ttlSeconds = (await readSettings(ctx.db, ctx.orgId)).distribution_lock_ttl_seconds;
  const id = randomUUID();
  const row = await inTransaction(ctx, async (tx) => {
    const now = tx.now();
    const [inserted] = await tx.db
      .insert(distributions)
      .values({
        id,
        orgId: tx.orgId,
        siteId: target.siteId,
        canonicalVlanId: target.vlan.id,
        vlanTag: target.vlan.vlanId,
        vlanName: target.vlan.name,
        status: force ? 'running' : 'planned',
        placement: { brain_parent: override?.brain_parent ?? null, limbs: override?.limbs ?? {} },
        triggeredBy: tx.actor.id,
        startedAt: force ? now : null,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (force) await takeLock(tx, target.siteId, id, ttlSeconds);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'distribution.trigger',
      targetType: 'distribution',
      targetId: id,
      siteId: target.siteId,
      after: { canonical_vlan_id: target.vlan.id, vlan_tag: target.vlan.vlanId, force, placement: override },
    });
    return inserted as DistributionRow;
  });
  const run: Run = { ctx, deps, row, ttlSeconds, holdsLock: force, devices: new Map(), unexpected: [], confirmed: input.confirmed ?? false };
  await execute(run, target, force);
  return getDistribution(ctx, id);
}

/**
 * Runs a `planned` distribution, or re-runs a `failed` or `rolled_back` one as a new attempt: planned again from
 * the devices as they are now (what the last attempt left in place is a no-op), its earlier steps kept as history.
 */
export async function retryDistribution(
  ctx: ServiceContext,
  deps: PendingDeps,
  id: string,
  options: { confirmed?: boolean } = {},
): Promise<DistributionView> {
  const before = await findDistribution(ctx, id);
  if (!['planned', 'failed', 'rolled_back'].includes(before.status)) {
    throw new ConflictError(`distribution ${before.id} is ${before.status}; only a planned, failed or rolled back one can be run again`);
  }
  if (before.canonicalVlanId === null) throw new ConflictError(`distribution ${before.id}: its canonical VLAN was deleted`);
  if (deps.readOnly) {
    throw new ReadOnlyError('This deployment is read-only for live writes (PORTCULLIS_READ_ONLY=true): a distribution cannot run.');
  }
  const target = await resolveTarget(ctx, before.siteId, before.canonicalVlanId);
  const ttlSeconds = (await readSettings(ctx.db, ctx.orgId)).distribution_lock_ttl_seconds;
  const row = await inTransaction(ctx, async (tx) => {
    const now = tx.now();
    const [updated] = await tx.db
      .update(distributions)
      .set({
        status: 'running',
        attempt: before.status === 'planned' ? before.attempt : before.attempt + 1,
        error: null,
        startedAt: now,
        finishedAt: null,
        updatedAt: now,
      })
      .where(and(eq(distributions.id, before.id), eq(distributions.status, before.status)))
      .returning();
    if (!updated) throw new ConflictError(`distribution ${before.id} changed meanwhile; reload it`);
    await takeLock(tx, before.siteId, before.id, ttlSeconds);
    if (before.status === 'planned') {
      // The plan's rows are replaced by the run's own (planned against the devices as they are now).
      await tx.db.delete(distributionSteps).where(and(eq(distributionSteps.distributionId, before.id), eq(distributionSteps.attempt, before.attempt)));
    }
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'distribution.retry',
      targetType: 'distribution',
      targetId: before.id,
      siteId: before.siteId,
      before: { status: before.status, attempt: before.attempt },
      after: { status: updated.status, attempt: updated.attempt },
    });
    return updated;
  });
  const run: Run = { ctx, deps, row, ttlSeconds, holdsLock: true, devices: new Map(), unexpected: [], confirmed: options.confirmed ?? false };
  await execute(run, target, true);
  return getDistribution(ctx, before.id);
}

/**
 * Runs the compensations of every done step of the current attempt, newest first, each verified by reading the
 * object back: for a `completed` distribution, or a `failed` / `rollback_failed` one with steps left to undo.
 * `confirmed=true` is required: a rollback deletes what the distribution created.
 */
export async function rollbackDistribution(
  ctx: ServiceContext,
  deps: PendingDeps,
  id: string,
  options: { confirmed?: boolean } = {},
): Promise<DistributionView> {
  const before = await findDistribution(ctx, id);
  if (!['completed', 'failed', 'rollback_failed'].includes(before.status)) {
    throw new ConflictError(`distribution ${before.id} is ${before.status}; only a completed, failed or partly rolled back one can be rolled back`);
  }
  const open = await undoable(ctx, before);
  if (open.length === 0) throw new ConflictError(`distribution ${before.id} has nothing left to roll back (no step of attempt ${before.attempt} is in effect)`);
  if (!options.confirmed) throw new ValidationError('confirmed', 'confirmed=true is required to roll back: it deletes what the distribution created');
  if (deps.readOnly) {
    throw new ReadOnlyError('This deployment is read-only for live writes (PORTCULLIS_READ_ONLY=true): a rollback cannot run.');
  }
  const ttlSeconds = (await readSettings(ctx.db, ctx.orgId)).distribution_lock_ttl_seconds;
  const row = await inTransaction(ctx, async (tx) => {
    const [updated] = await tx.db
      .update(distributions)
      .set({ status: 'rolling_back', updatedAt: tx.now() })
      .where(and(eq(distributions.id, before.id), eq(distributions.status, before.status)))
      .returning();
    if (!updated) throw new ConflictError(`distribution ${before.id} changed meanwhile; reload it`);
    await takeLock(tx, before.siteId, before.id, ttlSeconds);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'distribution.rollback',
      targetType: 'distribution',
      targetId: before.id,
      siteId: before.siteId,
      before: { status: before.status },
      after: { status: 'rolling_back', steps: open.map((s) => s.id) },
    });
    return updated;
  });
  const run: Run = { ctx, deps, row, ttlSeconds, holdsLock: true, devices: new Map(), unexpected: [], confirmed: true };
  try {
    const ok = await compensate(run, open);
    await finish(run, ok ? 'rolled_back' : 'rollback_failed', ok ? null : { code: 'compensation_failed', message: 'Some compensations failed or did not verify; see the steps.' });
  } catch (err) {
    await finish(run, 'rollback_failed', { code: 'internal', message: 'An unexpected error stopped the rollback; the server log has the cause.' });
    throw err;
  } finally {
    await releaseLock(ctx, before.siteId, before.id);
  }
  rethrowUnexpected(run);
  return getDistribution(ctx, before.id);
}

/** The current attempt's steps still in effect (done, or a compensation that failed), newest first. */
async function undoable(ctx: ServiceContext, row: DistributionRow): Promise<StepRow[]> {
  const steps = await ctx.db
    .select()
    .from(distributionSteps)
    .where(
      and(
        eq(distributionSteps.distributionId, row.id),
        eq(distributionSteps.attempt, row.attempt),
        inArray(distributionSteps.status, ['done', 'compensation_failed']),
      ),
    )
    .orderBy(asc(distributionSteps.seq));
  return steps.filter((step) => step.compensation !== null).reverse();
}

// ---------------------------------------------------------------------------------------------------------------
// The saga

type Located = LiveObject & { target: string };
/** A live read row (a typed body plus `target`) as the generic object the steps compare. */
const located = (row: object | null | undefined): Located | null => (row ?? null) as Located | null;

interface Spec {
  tier: number;
  member: Member;
  kind: DistributedKind;
  resourceKey: string;
  /** The body wanted, given what earlier steps produced (the interface id a scope names). */
  desired(): LiveObject;
  /** The device's object of this step, with its write target, or null. */
  locate(): Promise<Located | null>;
}

/**
 * Tier 0, the plan and (with `write`) the writes. Any failure once a step is done — a step's own, or an unexpected
 * error between steps — runs the compensations of the done steps, newest first; an unexpected error is rethrown
 * after that is recorded (ADR 0269). Never leaves the lock behind.
 */
async function execute(run: Run, target: Target, write: boolean): Promise<void> {
  const done: StepRow[] = [];
  let notRun: StepRow[] = [];
  let unwinding = false;
  /** Skips what has not run, compensates what is done and records the outcome. */
  const unwind = async (error: { code: string; message: string; step_id?: string }): Promise<void> => {
    unwinding = true;
    await skipRest(run, notRun);
    const compensated = await compensate(run, done.filter((s) => s.compensation !== null).reverse());
    const undone = done.length === 0 ? '' : compensated ? ' Every completed step was compensated.' : ' Some compensations failed; see the steps.';
    await finish(run, compensated ? 'failed' : 'rollback_failed', { ...error, message: `${error.message}${undone}` });
  };
  try {
    const scope = target.vlan.dhcpScopes.find((s) => s.ipVersion === 4);
    const conflict = scope === undefined ? null : reservationPoolConflict(target.topology.brain.vendor, scope);
    if (conflict !== null) {
      await finish(run, write ? 'failed' : 'planned', { code: 'reservation_in_pool', ...conflict });
      return;
    }
    const reachable = await tierZero(run, target.topology);
    if (!reachable) {
      await finish(run, write ? 'failed' : 'planned', { code: 'unreachable', message: 'Tier 0 failed: a device of the site cannot be reached or lacks a capability; nothing was written.' });
      return;
    }
    const placement = await resolvePlacement(run, target.topology);
    if ('problem' in placement) {
      await finish(run, write ? 'failed' : 'planned', { code: 'placement_unknown', message: placement.problem });
      return;
    }
    const specs = await planSteps(run, target, placement);
    const rows = await insertPlan(run, specs);
    if (!write) {
      await finish(run, 'planned', null);
      return;
    }
    for (const [i, spec] of specs.entries()) {
      const step = rows[i] as StepRow;
      notRun = rows.slice(i + 1);
      const outcome = await runStep(run, spec, step);
      if (outcome.ok) {
        done.push(outcome.row);
        continue;
      }
      await unwind({ code: outcome.error.code, message: `Step ${spec.kind} ${spec.resourceKey} on ${spec.member.name} failed: ${outcome.error.message}`, step_id: step.id });
      return;
    }
    await finish(run, 'completed', null);
  } catch (err) {
    run.unexpected.push(err);
    const internal = { code: 'internal', message: 'An unexpected error stopped the distribution; the server log has the cause.' };
    // Not a step's own failure (a database error between steps, say): what is done is still undone. If the unwind
    // itself broke, what is left on the devices is unknown: rollback_failed, a rollback can be run again.
    await (unwinding ? finish(run, 'rollback_failed', internal) : unwind(internal)).catch(() => undefined);
  } finally {
    if (run.holdsLock) await releaseLock(run.ctx, run.row.siteId, run.row.id);
    // In `finally`, so the early returns above reach it too.
    rethrowUnexpected(run);
  }
}

const READS_OF: Readonly<Record<DistributedKind, string>> = {
  vlan_interface: 'read.vlan_interfaces',
  dhcp_scope: 'read.dhcp_scopes',
  dhcp_static_mapping: 'read.dhcp_static_mappings',
  dns_override: 'read.dns_overrides',
  bridge_vlan: 'read.bridge_vlans',
};

/** The kinds a device must read and write for this VLAN. */
function kindsFor(member: Member, vlan: VlanDetail, dnsCount: number): DistributedKind[] {
  if (member.role === 'limb') return ['bridge_vlan'];
  const scope = vlan.dhcpScopes.find((s) => s.ipVersion === 4);
  const kinds: DistributedKind[] = ['vlan_interface'];
  if (scope) kinds.push('dhcp_scope');
  if ((scope?.reservations.length ?? 0) > 0) kinds.push('dhcp_static_mapping');
  if (dnsCount > 0) kinds.push('dns_override');
  return kinds;
}

/** Tier 0: each device reachable and able to read and write what it will be asked; all checked, then judged. */
async function tierZero(run: Run, topology: Target['topology']): Promise<boolean> {
  const members = [topology.brain, ...topology.limbs];
  const rows = await insertRows(
    run,
    members.map((member, seq) => ({ seq, tier: 0, deviceId: member.gatewayId, kind: 'reachability', resourceKey: member.vendor, action: 'check' as const, desired: null })),
  );
  const vlan = await getVlanDetail(run.ctx, run.row.canonicalVlanId as string);
  const dns = await dnsRecordsOf(run.ctx, vlan);
  let ok = true;
  for (const [i, member] of members.entries()) {
    const step = rows[i] as StepRow;
    await updateStep(run, step.id, { status: 'running', startedAt: run.ctx.now() });
    try {
      const { vendor, adapter } = await fromDevice(() => run.deps.device(member.gatewayId));
      for (const kind of kindsFor(member, vlan, dns.length)) {
        requireWriteCapability(vendor, { kind });
        if (!vendor.capabilities[READS_OF[kind] as keyof VendorDescriptor['capabilities']]) {
          throw new ConflictError(`${vendor.name} gateway "${member.name}" cannot read ${kind} (${READS_OF[kind]} is off)`);
        }
      }
      const device = openDevice(member, vendor, adapter);
      const status = await device.live.status();
      run.devices.set(member.gatewayId, device);
      await updateStep(run, step.id, {
        status: 'done',
        finishedAt: run.ctx.now(),
        verification: { ok: true, reachable: true, version: (status as { version?: unknown }).version ?? null },
      });
    } catch (err) {
      ok = false;
      await updateStep(run, step.id, { status: 'failed', finishedAt: run.ctx.now(), error: errorOf(run, err) });
    }
  }
  return ok;
}

function openDevice(member: Member, vendor: VendorDescriptor, adapter: ClosableAdapter): Device {
  const writes = vendor.writes;
  return {
    member,
    vendor,
    live: liveGateway(vendor, adapter),
    read: (kind, target) => fromDevice(() => (writes as NonNullable<typeof writes>).open(adapter).read(kind, target)),
  };
}

const deviceOf = (run: Run, gatewayId: string): Device => {
  const device = run.devices.get(gatewayId);
  if (device === undefined) throw new Error(`device ${gatewayId} was not opened in tier 0`);
  return device;
};

/** The stored placement, filled in from the devices where the trigger left it out (ADR 0266). */
async function resolvePlacement(run: Run, topology: Target['topology']): Promise<Placement | { problem: string }> {
  const given = run.row.placement as { brain_parent: string | null; limbs: Record<string, Partial<LimbPlacement>> };
  let brainParent = given.brain_parent;
  if (brainParent === null) {
    const brain = deviceOf(run, topology.brain.gatewayId);
    const vlans = (await brain.live.vlanInterfaces?.())?.items ?? [];
    const interfaces = (await brain.live.interfaces()).items;
    brainParent = derivedBrainParent(vlans, interfaces);
    if (brainParent === null) {
      return { problem: `placement.brain_parent: the parent port on brain "${topology.brain.name}" cannot be worked out (its VLANs use several, and it has no lan interface); give it in the trigger` };
    }
  }
  const limbs: Record<string, LimbPlacement> = {};
  for (const limb of topology.limbs) {
    const partial = given.limbs[limb.gatewayId] ?? {};
    let derived: LimbPlacement | null = null;
    if (partial.bridge === undefined || partial.tagged === undefined) {
      const rows = (await deviceOf(run, limb.gatewayId).live.bridgeVlans?.())?.items ?? [];
      derived = derivedLimbPlacement(rows.filter((row) => row.vlan_id !== run.row.vlanTag));
    }
    const bridge = partial.bridge ?? derived?.bridge;
    const tagged = partial.tagged ?? derived?.tagged;
    if (bridge === undefined || tagged === undefined) {
      return {
        problem: `placement.limbs.${limb.gatewayId}: the bridge and trunk ports of limb "${limb.name}" cannot be worked out (it carries no VLAN on one bridge yet); give {bridge, tagged} in the trigger`,
      };
    }
    limbs[limb.gatewayId] = { bridge, tagged, untagged: partial.untagged ?? [] };
  }
  const placement: Placement = { brain_parent: brainParent, limbs };
  run.row = await saveRow(run, { placement });
  return placement;
}

async function dnsRecordsOf(ctx: ServiceContext, vlan: VlanDetail) {
  const subnets = [vlan.ipv4Subnet, vlan.ipv6Subnet].flatMap((s) => (s === null ? [] : [parseCidr(s)]));
  const rows = await ctx.db
    .select()
    .from(orchestrationDnsRecords)
    .where(eq(orchestrationDnsRecords.siteId, vlan.siteId))
    .orderBy(asc(orchestrationDnsRecords.host), asc(orchestrationDnsRecords.domain), asc(orchestrationDnsRecords.ipAddress));
  return rows.filter((row) => {
    const ip = parseIp(row.ipAddress);
    return ip !== null && subnets.some((subnet) => subnet !== null && cidrContains(subnet, ip));
  });
}

/** The steps of tiers 1…, each finding its object on the device when it runs. */
async function planSteps(run: Run, target: Target, placement: Placement): Promise<Spec[]> {
  const { vlan, topology } = target;
  const canonical: CanonicalVlan = vlan;
  const brain = deviceOf(run, topology.brain.gatewayId);
  const specs: Spec[] = [];
  const vlanBody = vlanInterfaceBody(canonical, placement.brain_parent);
  const findVlan = async () =>
    ((await brain.live.vlanInterfaces?.())?.items ?? []).find((v) => v.parent === placement.brain_parent && v.tag === vlan.vlanId) ?? null;
  const locateVlan = async () => located(await findVlan());
  /** The interface id the scope and mappings name: known once the VLAN interface exists. */
  let interfaceId: string | null = null;
  const iface = async () => {
    interfaceId ??= (await findVlan())?.interface_id ?? null;
    return interfaceId;
  };
  specs.push({
    tier: 1,
    member: topology.brain,
    kind: 'vlan_interface',
    resourceKey: `${placement.brain_parent}.${vlan.vlanId}`,
    desired: () => vlanBody,
    locate: locateVlan,
  });
  const scope = vlan.dhcpScopes.find((s) => s.ipVersion === 4);
  if (scope) {
    specs.push({
      tier: 1,
      member: topology.brain,
      kind: 'dhcp_scope',
      resourceKey: `${vlanBody.name as string} ${scope.rangeStart}-${scope.rangeEnd}`,
      desired: () => ({ interface: interfaceId, range_from: scope.rangeStart, range_to: scope.rangeEnd, gateway: null, dns_servers: [], is_enabled: true }),
      locate: async () => {
        const id = await iface();
        return id === null ? null : located(((await brain.live.dhcpScopes?.())?.items ?? []).find((s) => s.interface === id));
      },
    });
    for (const reservation of scope.reservations) {
      specs.push({
        tier: 1,
        member: topology.brain,
        kind: 'dhcp_static_mapping',
        resourceKey: `${reservation.mac} ${reservation.ipAddress}`,
        desired: () => ({
          interface: interfaceId,
          mac: reservation.mac,
          ip: reservation.ipAddress,
          hostname: reservation.hostname ?? '',
          description: reservation.description,
        }),
        locate: async () => {
          const id = await iface();
          const rows = ((await brain.live.dhcpStaticMappings?.())?.items ?? []);
          return id === null ? null : located(rows.find((m) => m.interface === id && m.mac.toLowerCase() === reservation.mac));
        },
      });
    }
  }
  const records = await dnsRecordsOf(run.ctx, vlan);
  const byName = new Map<string, typeof records>();
  for (const rec of records) byName.set(`${rec.host}.${rec.domain}`, [...(byName.get(`${rec.host}.${rec.domain}`) ?? []), rec]);
  for (const [fqdn, group] of byName) {
    const first = group[0] as (typeof records)[number];
    specs.push({
      tier: 1,
      member: topology.brain,
      kind: 'dns_override',
      resourceKey: fqdn,
      desired: () => ({ host: first.host, domain: first.domain, ip: group.map((r) => r.ipAddress), description: first.description }),
      locate: async () =>
        located(((await brain.live.dnsOverrides?.())?.items ?? []).find((o) => o.host === first.host && o.domain === first.domain)),
    });
  }
  topology.limbs.forEach((limb, i) => {
    const device = deviceOf(run, limb.gatewayId);
    const { bridge, tagged, untagged } = placement.limbs[limb.gatewayId] as LimbPlacement;
    specs.push({
      tier: 2 + i,
      member: limb,
      kind: 'bridge_vlan',
      resourceKey: `${bridge}/${vlan.vlanId}`,
      // No label: OpenWrt's bridge-vlan sections have no description netifd reads (ADR 0257).
      desired: () => ({ bridge, vlan_id: vlan.vlanId, tagged, untagged, description: '' }),
      locate: async () => {
        const row = ((await device.live.bridgeVlans?.())?.items ?? []).find((b) => b.bridge === bridge && b.vlan_id === vlan.vlanId);
        return row === undefined || row.write_target === null ? null : { ...row, target: row.write_target };
      },
    });
  });
  return specs;
}

/** The plan's rows with the action each step would take on the devices as they are now. */
async function insertPlan(run: Run, specs: readonly Spec[]): Promise<StepRow[]> {
  const vlan = run.row;
  const canonical = await getVlanDetail(run.ctx, vlan.canonicalVlanId as string);
  const planned: Array<Parameters<typeof insertRows>[1][number]> = [];
  for (const [i, spec] of specs.entries()) {
    const found = await spec.locate().catch(() => null);
    const body = mergedBody(spec.kind, spec.desired(), found, canonical);
    const action: StepAction = found === null ? 'create' : differingKeys(spec.kind, body, found).length === 0 ? 'noop' : 'update';
    planned.push({ seq: 1000 + i, tier: spec.tier, deviceId: spec.member.gatewayId, kind: spec.kind, resourceKey: spec.resourceKey, action, desired: body });
  }
  return insertRows(run, planned);
}

type StepOutcome = { ok: true; row: StepRow } | { ok: false; error: StepError };

/** One write step: locate, decide, record the compensation, write through the engine, read back. */
async function runStep(run: Run, spec: Spec, step: StepRow): Promise<StepOutcome> {
  const started = run.ctx.now();
  const fail = async (error: StepError, extra: Partial<StepRow> = {}): Promise<StepOutcome> => {
    await updateStep(run, step.id, { status: 'failed', finishedAt: run.ctx.now(), error, ...extra });
    return { ok: false, error };
  };
  if (run.holdsLock && !(await renewLock(run.ctx, run.row.siteId, run.row.id, run.ttlSeconds))) {
    return fail({ code: 'lock_lost', message: 'The site lock expired and was taken by another distribution.' });
  }
  await updateStep(run, step.id, { status: 'running', startedAt: started });
  const device = deviceOf(run, spec.member.gatewayId);
  const canonical = await getVlanDetail(run.ctx, run.row.canonicalVlanId as string);
  let write: LiveWrite;
  let before: LiveObject | null = null;
  try {
    const found = await spec.locate();
    const body = mergedBody(spec.kind, spec.desired(), found, canonical);
    if (found !== null && differingKeys(spec.kind, body, found).length === 0) {
      const row = await updateStep(run, step.id, {
        action: 'noop',
        status: 'done',
        desired: body,
        before: found,
        target: found.target,
        compensation: null,
        verification: { ok: true, differences: [] },
        finishedAt: run.ctx.now(),
      });
      return { ok: true, row };
    }
    if (found === null) {
      write = { kind: spec.kind, op: 'create', target: null, body } as unknown as LiveWrite;
    } else {
      before = await device.read(spec.kind, found.target);
      if (before === null) return await fail({ code: 'not_found_on_device', message: `${spec.kind} ${found.target} went away while the step ran` });
      write = { kind: spec.kind, op: 'update', target: found.target, body } as unknown as LiveWrite;
    }
    // The compensation is stored before the write leaves: a create is undone by deleting what it makes (its target
    // filled in once known), an update by writing the before-image back.
    const compensation =
      write.op === 'create' ? { kind: spec.kind, op: 'delete', target: null, body: {} } : inverseOf(write, before, found?.target ?? null);
    await updateStep(run, step.id, { action: write.op, desired: body, before, target: found?.target ?? null, compensation });
  } catch (err) {
    return fail(errorOf(run, err));
  }
  try {
    const { change } = await submitWrite(run.ctx, run.deps, {
      gateway: { id: spec.member.gatewayId, siteId: run.row.siteId, vendor: spec.member.vendor },
      write,
      force: true,
      confirmed: run.confirmed,
      overrideLockout: false,
      overrideReason: null,
    });
    const target = change.targetVendorId;
    if (change.status !== 'applied') {
      return await fail(
        { code: change.error?.code ?? 'failed', message: change.error?.message ?? `pending change ${change.id} is ${change.status}`, vendor_code: change.error?.vendor_code ?? null },
        { pendingChangeId: change.id, verification: change.verification ?? null, compensation: null },
      );
    }
    const row = await updateStep(run, step.id, {
      status: 'done',
      target,
      pendingChangeId: change.id,
      verification: change.verification,
      finishedAt: run.ctx.now(),
      ...(write.op === 'create' ? { compensation: { kind: spec.kind, op: 'delete', target, body: {} } } : {}),
    });
    return { ok: true, row };
  } catch (err) {
    return fail(errorOf(run, err), { compensation: null });
  }
}

async function skipRest(run: Run, rows: readonly StepRow[]): Promise<void> {
  if (rows.length === 0) return;
  await run.ctx.db
    .update(distributionSteps)
    .set({ status: 'skipped' })
    .where(inArray(distributionSteps.id, rows.map((r) => r.id)));
}

/**
 * Runs `steps`' compensations in the order given (newest first), each through the engine and then verified by
 * reading the object back: gone after a delete, equal to the before-image after a restore. Every one is tried;
 * true when all verified.
 */
async function compensate(run: Run, steps: readonly StepRow[]): Promise<boolean> {
  let ok = true;
  for (const step of steps) {
    const write = step.compensation as LiveWrite;
    await updateStep(run, step.id, { status: 'compensating' });
    let changeId: string | null = null;
    try {
      if (run.holdsLock) await renewLock(run.ctx, run.row.siteId, run.row.id, run.ttlSeconds);
      const device = run.devices.get(step.deviceId) ?? (await reopen(run, step.deviceId));
      const { change } = await submitWrite(run.ctx, run.deps, {
        gateway: { id: step.deviceId, siteId: step.siteId, vendor: device.vendor.id },
        write,
        force: true,
        // The saga undoes its own writes: the trigger (or the rollback's confirmed=true) decided it.
        confirmed: true,
        overrideLockout: false,
        overrideReason: null,
      });
      changeId = change.id;
      const readTarget = write.op === 'delete' ? write.target : (change.targetVendorId ?? write.target);
      const readBack = readTarget === null ? null : await device.read(step.kind as DistributedKind, readTarget);
      const differences = verificationDifferences(write, readBack) ?? [];
      const verified = change.status === 'applied' && differences.length === 0;
      ok &&= verified;
      await updateStep(run, step.id, {
        status: verified ? 'compensated' : 'compensation_failed',
        compensationChangeId: change.id,
        verification: { ok: verified, compensation_status: change.status, read_back: readBack === null ? 'absent' : 'present', differences },
        ...(verified ? {} : { error: { code: change.error?.code ?? 'verification_failed', message: change.error?.message ?? 'The read-back does not show the compensation.' } }),
      });
    } catch (err) {
      ok = false;
      await updateStep(run, step.id, { status: 'compensation_failed', compensationChangeId: changeId, error: errorOf(run, err) });
    }
  }
  return ok;
}

/** A device for a rollback run later (tier 0 opened none). */
async function reopen(run: Run, gatewayId: string): Promise<Device> {
  const { vendor, adapter } = await fromDevice(() => run.deps.device(gatewayId));
  const topology = await getTopology(run.ctx, run.row.siteId).catch(() => null);
  const member = [topology?.brain, ...(topology?.limbs ?? [])].find((m) => m?.gatewayId === gatewayId) ?? {
    gatewayId,
    name: gatewayId,
    vendor: vendor.id,
    role: 'limb' as const,
  };
  const device = openDevice(member, vendor, adapter);
  run.devices.set(gatewayId, device);
  return device;
}

// ---------------------------------------------------------------------------------------------------------------
// Rows

async function insertRows(
  run: Run,
  rows: ReadonlyArray<{ seq: number; tier: number; deviceId: string; kind: StepKind; resourceKey: string; action: StepAction; desired: LiveObject | null }>,
): Promise<StepRow[]> {
  if (rows.length === 0) return [];
  return run.ctx.db
    .insert(distributionSteps)
    .values(rows.map((r) => ({ ...r, orgId: run.row.orgId, siteId: run.row.siteId, distributionId: run.row.id, attempt: run.row.attempt, status: 'pending' })))
    .returning();
}

async function updateStep(run: Run, id: string, set: Partial<StepRow>): Promise<StepRow> {
  const [row] = await run.ctx.db.update(distributionSteps).set(set).where(eq(distributionSteps.id, id)).returning();
  return row as StepRow;
}

async function saveRow(run: Run, set: Partial<DistributionRow>): Promise<DistributionRow> {
  const [row] = await run.ctx.db
    .update(distributions)
    .set({ ...set, updatedAt: run.ctx.now() })
    .where(eq(distributions.id, run.row.id))
    .returning();
  return row as DistributionRow;
}

const EVENT_OF: Partial<Record<string, DistributionEventType>> = {
  completed: 'distribution.completed',
  failed: 'distribution.failed',
  rollback_failed: 'distribution.failed',
  rolled_back: 'distribution.rolled_back',
};

/** The distribution's outcome: its row, the audit entry and the bus event, together. */
async function finish(run: Run, status: DistributionRow['status'], error: DistributionView['error']): Promise<void> {
  const { events } = await inTransaction(run.ctx, async (tx) => {
    const now = tx.now();
    const [row] = await tx.db
      .update(distributions)
      .set({ status, error, finishedAt: status === 'planned' ? null : now, updatedAt: now })
      .where(eq(distributions.id, run.row.id))
      .returning();
    const updated = row as DistributionRow;
    run.row = updated;
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: `distribution.${status}`,
      targetType: 'distribution',
      targetId: updated.id,
      siteId: updated.siteId,
      after: { status, error, attempt: updated.attempt },
      outcome: status === 'completed' || status === 'rolled_back' || status === 'planned' ? 'success' : 'failure',
    });
    const type = EVENT_OF[status];
    return { events: await storeEvents(tx.db, type === undefined ? [] : [distributionEvent(updated, type)]) };
  });
  run.deps.events.emit(events);
}
