/**
 * @module Pending changes: the staged, gated live writes of docs/reference/freesdn-firewall-module.md §4 and
 * §10.3 (docs/firewall.md "Live writes", docs/adr/0165-pending-changes.md).
 *
 * A live write is always a row of `pending_changes`. Gate 1 is the deployment (`PORTCULLIS_READ_ONLY`): while it
 * is read-only a write is only staged and nothing reaches a device, `force` included. Gate 2 is the request:
 * `force=true` applies at once, otherwise the change waits for review (`applyPendingChanges`). Applying claims
 * the rows atomically (`pending` → `applying` in one conditional UPDATE, so two nodes or two clicks cannot
 * apply twice), reads each object's before-image, writes, makes the batch live with ONE device apply, then reads
 * every object back: a difference marks the change `failed_verification` and restores the before-images; a
 * device fault marks it `failed` with the vendor code and restores what the batch already wrote. Rows left in
 * `applying` by a node that died are failed by `reapStuckPendingChanges`. Outcomes go to the audit log and the
 * event bus (`firewall.pending.applied` / `firewall.pending.failed`).
 */
import { randomUUID } from 'node:crypto';
import { and, asc, count, desc, eq, inArray, lt, type SQL } from 'drizzle-orm';
import type { LiveGateway } from '../adapters/live.ts';
import type { LiveObject, LiveRuleBody, LiveWrite, LiveWriteResult, LiveWriter } from '../adapters/live-write.ts';
import { type ClosableAdapter, type VendorDescriptor, unavailableReason } from '../adapters/registry.ts';
import { AdapterError } from '../adapters/types.ts';
import { record, SYSTEM_ACTOR } from '../audit/record.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { paging } from '../core/paging.ts';
import { requireIdOrNotFound } from '../core/validate.ts';
import {
  CapabilityError,
  CapabilityUnavailableError,
  ConflictError,
  DeviceError,
  DomainError,
  LockoutError,
  NotFoundError,
  ReadOnlyError,
  ValidationError,
} from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import { storeEvents } from '../events/bus.ts';
import type { BusEvent } from '../events/types.ts';
import { redact, redactValues } from '../secrets/redact.ts';
import { aadForColumn, ENCRYPTED_COLUMNS } from '../secrets/registry.ts';
import type { Db } from '../store/db.ts';
import { firewallRules, pendingChanges } from '../store/schema/firewall.ts';
import { orgs } from '../store/schema/tenancy.ts';
import { requireVendor } from './adapter.ts';
import { liveGateway } from './live.ts';
import { applyGate, semanticPreview } from './pending-gates.ts';
import {
  hasSemanticPreview,
  inverseOf,
  livePort,
  needsConfirmation,
  placementOf,
  readsBeforeImage,
  type VerificationDifference,
  verificationDifferences,
  WRITE_CAPABILITY,
  writeFromRow,
} from './pending-writes.ts';

type Row = typeof pendingChanges.$inferSelect;

export const PENDING_STATUSES = [
  'pending',
  'applying',
  'applied',
  'failed',
  'failed_verification',
  'discarded',
  'reverted',
] as const;
export type PendingStatus = (typeof PENDING_STATUSES)[number];

/** A claim older than this is a node that died mid-apply (an apply's device calls take seconds, not minutes). */
export const APPLY_STALE_MS = 10 * 60_000;
/** Changes one apply may carry. */
export const BATCH_MAX = 100;

/** What the engine needs beyond the store: the gates' settings, the bus, and the gateway's device. */
export interface PendingDeps {
  /** `PORTCULLIS_READ_ONLY`. */
  readOnly: boolean;
  /** `PORTCULLIS_MAX_PENDING_CHANGES`: open (pending or applying) changes per organisation. */
  maxOpen: number;
  /** This node's name, kept in `claimed_by` for the reaper's report. */
  node: string;
  events: EventBus;
  /** The vendor and (cached) adapter of a gateway. */
  device(gatewayId: string): Promise<{ vendor: VendorDescriptor; adapter: ClosableAdapter }>;
}

export interface GatewayRef {
  id: string;
  siteId: string;
  vendor: string;
}

export interface PendingChangeView {
  id: string;
  siteId: string;
  deviceId: string;
  targetType: string;
  operation: string;
  targetVendorId: string | null;
  status: PendingStatus;
  payload: unknown;
  requiresConfirmation: boolean;
  preview: unknown;
  beforeImage: unknown;
  verification: unknown;
  overrideLockout: boolean;
  overrideReason: string | null;
  revertsId: string | null;
  sourceRuleId: string | null;
  placeBefore: string | null;
  error: { code: string; message: string | null; vendor_code: string | null } | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  claimedAt: Date | null;
  appliedAt: Date | null;
  appliedBy: string | null;
}

const registered = ENCRYPTED_COLUMNS.find((entry) => entry.column === pendingChanges.payloadSecretsEnc);
if (registered === undefined) throw new Error('pending_changes.payload_secrets_enc is missing from the registry');
const SECRETS_COLUMN = registered;

/** Payloads and before-images leave the server redacted, whatever they hold. */
function toView(row: Row): PendingChangeView {
  return {
    id: row.id,
    siteId: row.siteId,
    deviceId: row.deviceId,
    targetType: row.targetType,
    operation: row.operation,
    targetVendorId: row.targetVendorId,
    status: row.status as PendingStatus,
    payload: redact(row.payload),
    requiresConfirmation: row.requiresConfirmation,
    preview: row.preview,
    beforeImage: redact(row.beforeImage),
    verification: redact(row.verification),
    overrideLockout: row.overrideLockout,
    overrideReason: row.overrideReason,
    revertsId: row.revertsId,
    sourceRuleId: row.sourceRuleId,
    placeBefore: row.placeBefore,
    error:
      row.errorCode === null
        ? null
        : { code: row.errorCode, message: row.errorMessage, vendor_code: row.vendorCode },
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    claimedAt: row.claimedAt,
    appliedAt: row.appliedAt,
    appliedBy: row.appliedBy,
  };
}

/** Refuses a kind the vendor cannot write (`write.*` off, or no writer at all) before anything is stored. */
export function requireWriteCapability(vendor: VendorDescriptor, write: Pick<LiveWrite, 'kind'>): void {
  const capability = WRITE_CAPABILITY[write.kind];
  if (vendor.capabilities[capability] && vendor.writes !== undefined) return;
  const why = unavailableReason(vendor, capability) ?? 'its adapter offers no live writes';
  throw new CapabilityUnavailableError(
    capability,
    `${capability} is not available for ${vendor.name} gateways (vendor ${vendor.id}): ${why}.`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Staging

export interface WriteRequest {
  gateway: GatewayRef;
  write: LiveWrite;
  /** Gate 2: apply at once instead of staging. */
  force: boolean;
  /** For a forced delete / reboot / halt (a staged one is confirmed when applied). */
  confirmed: boolean;
  overrideLockout: boolean;
  /** A forced write whose gateway's policy tests fail is applied anyway (with `overrideReason`, audited). */
  overrideTests?: boolean;
  overrideReason: string | null;
  /** A deploy: the normalized rule this write was compiled from. */
  sourceRuleId?: string;
  /** A revert: the applied change this write undoes. */
  revertsId?: string;
}

/**
 * Stages a live write, or (gate 2, `force`) stages and applies it at once. Returns the change and whether it was
 * applied now. Refused before anything is stored: a kind the vendor cannot write, `force` on a read-only
 * deployment, a forced destructive operation without `confirmed`, a lock-out without override, a full queue.
 */
export async function submitWrite(
  ctx: ServiceContext,
  deps: PendingDeps,
  request: WriteRequest,
): Promise<{ change: PendingChangeView; applied: boolean }> {
  const { gateway, write } = request;
  const vendor = requireVendor(gateway.vendor);
  requireWriteCapability(vendor, write);
  if (request.force && deps.readOnly) {
    throw new ReadOnlyError(
      'This deployment is read-only for live writes (PORTCULLIS_READ_ONLY=true): force cannot apply; send the write without force to stage it.',
    );
  }
  if (request.force && needsConfirmation(write.op) && !request.confirmed) {
    throw new ValidationError('confirmed', `confirmed=true is required to ${write.op} at once`);
  }
  if (request.overrideLockout && !request.overrideReason) {
    throw new ValidationError('override_reason', 'override_reason is required with override_lockout=true');
  }
  const overrideTests = testsOverride(request);
  const preview = hasSemanticPreview(write.kind) ? await previewOf(ctx, deps, gateway, write) : null;
  if (preview?.available === true && preview.lockout === 'cut' && !request.overrideLockout) {
    throw new LockoutError(
      'The lock-out check says this change cuts the management path to the gateway; nothing was staged. Repeat with override_lockout=true and an override_reason to stage it anyway.',
    );
  }
  const id = randomUUID();
  // A forced write passes the same apply-time gate as an applied pending change, before anything is stored.
  if (request.force) {
    await applyGate({
      ctx,
      gatewayId: gateway.id,
      changes: [{ id, write }],
      live: await liveOf(deps, gateway.id),
      overrideTests,
    });
  }
  const body = write.body as Record<string, unknown>;
  const redacted = redact(body);
  const hasSecrets = JSON.stringify(redacted) !== JSON.stringify(body);
  const row = await inTransaction(ctx, async (tx) => {
    // One staging at a time per organisation, so the cap cannot be overrun by concurrent requests.
    await tx.db.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, tx.orgId)).for('update');
    const [open] = await tx.db
      .select({ n: count() })
      .from(pendingChanges)
      .where(and(eq(pendingChanges.orgId, tx.orgId), inArray(pendingChanges.status, ['pending', 'applying'])));
    if ((open?.n ?? 0) >= deps.maxOpen) {
      throw new ConflictError(
        `This organisation already has ${deps.maxOpen} open pending changes (PORTCULLIS_MAX_PENDING_CHANGES); apply or discard some first.`,
      );
    }
    const now = tx.now();
    const [inserted] = await tx.db
      .insert(pendingChanges)
      .values({
        id,
        orgId: tx.orgId,
        siteId: gateway.siteId,
        deviceId: gateway.id,
        targetType: write.kind,
        operation: write.op,
        targetVendorId: write.target,
        status: request.force ? 'applying' : 'pending',
        payload: redacted,
        payloadSecretsEnc: hasSecrets
          ? tx.keyring.seal(JSON.stringify(body), aadForColumn(SECRETS_COLUMN, id))
          : null,
        requiresConfirmation: needsConfirmation(write.op),
        preview: preview === null ? null : previewColumn(preview),
        overrideLockout: request.overrideLockout,
        overrideReason: request.overrideLockout ? request.overrideReason : null,
        revertsId: request.revertsId ?? null,
        sourceRuleId: request.sourceRuleId ?? null,
        placeBefore: placementOf(write),
        createdBy: tx.actor.id,
        ...(request.force ? { claimedAt: now, claimedBy: deps.node } : {}),
      })
      .returning();
    const staged = inserted as Row;
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: request.revertsId ? 'pending_change.revert' : 'pending_change.stage',
      targetType: 'pending_change',
      targetId: id,
      siteId: gateway.siteId,
      after: {
        ...toView(staged),
        force: request.force,
        ...(request.overrideLockout ? { lockout_overridden: true, override_reason: request.overrideReason } : {}),
      },
    });
    return staged;
  });
  if (!request.force) return { change: toView(row), applied: false };
  const [change] = await runClaimed(ctx, deps, [row]);
  return { change: change as PendingChangeView, applied: true };
}

type PreviewResult = Awaited<ReturnType<typeof semanticPreview>>;

function previewColumn(preview: PreviewResult): Record<string, unknown> {
  // Its keys are ours; its strings (rule descriptions, alias entries) come from the device and the payload.
  if (!preview.available) return { available: false, reason: preview.reason };
  // `lockout` is the verdict the console shows; the check's detail (path, packet, rules) is `lockout_check`.
  const { lockout: check, ...rest } = redactValues(preview.preview);
  return { available: true, lockout: preview.lockout, lockout_check: check, ...rest };
}

/** `override_tests` with its required reason (audited by the gate), or null. */
function testsOverride(request: { overrideTests?: boolean; overrideReason?: string | null }): { reason: string } | null {
  if (!request.overrideTests) return null;
  if (!request.overrideReason?.trim()) {
    throw new ValidationError('override_reason', 'override_reason is required with override_tests=true');
  }
  return { reason: request.overrideReason };
}

/** The gateway's live reads for the apply gate, or null when the vendor or the device offers none. */
async function liveOf(deps: PendingDeps, gatewayId: string): Promise<(() => LiveGateway) | null> {
  const device = await deps.device(gatewayId).catch(() => null);
  if (device === null || device.vendor.live === undefined) return null;
  const { vendor, adapter } = device;
  return () => liveGateway(vendor, adapter);
}

async function previewOf(
  ctx: ServiceContext,
  deps: PendingDeps,
  gateway: GatewayRef,
  write: LiveWrite,
): Promise<PreviewResult> {
  const device = await deps.device(gateway.id).catch(() => null);
  if (device === null || device.vendor.live === undefined) {
    return { available: false, reason: 'the gateway cannot be read to preview the change' };
  }
  const { vendor, adapter } = device;
  return semanticPreview({ ctx, gatewayId: gateway.id, write, live: () => liveGateway(vendor, adapter) });
}

// ---------------------------------------------------------------------------------------------------------------
// Reading, discarding

const ofOrg = (ctx: ServiceContext, id: string): SQL =>
  and(eq(pendingChanges.orgId, ctx.orgId), eq(pendingChanges.id, id)) as SQL;

export async function getPendingChange(ctx: ServiceContext, id: string): Promise<PendingChangeView> {
  requireIdOrNotFound('pending change', id);
  const [row] = await ctx.db.select().from(pendingChanges).where(ofOrg(ctx, id)).limit(1);
  if (!row) throw new NotFoundError('pending change', id);
  return toView(row);
}

export interface PendingFilters {
  status?: PendingStatus;
  device_id?: string;
  site_id?: string;
  target_type?: string;
  operation?: string;
}

/** Newest first; `scope` is the caller's sites (`all`, or a list). */
export async function listPendingChanges(
  ctx: ServiceContext,
  options: { scope: 'all' | string[]; filters: PendingFilters; limit?: number; offset?: number },
): Promise<PendingChangeView[]> {
  if (options.scope !== 'all' && options.scope.length === 0) return [];
  const { filters } = options;
  const conditions: SQL[] = [eq(pendingChanges.orgId, ctx.orgId)];
  if (options.scope !== 'all') conditions.push(inArray(pendingChanges.siteId, options.scope));
  if (filters.status) conditions.push(eq(pendingChanges.status, filters.status));
  if (filters.device_id) conditions.push(eq(pendingChanges.deviceId, filters.device_id));
  if (filters.site_id) conditions.push(eq(pendingChanges.siteId, filters.site_id));
  if (filters.target_type) conditions.push(eq(pendingChanges.targetType, filters.target_type));
  if (filters.operation) conditions.push(eq(pendingChanges.operation, filters.operation));
  const { limit, offset } = paging(options);
  const rows = await ctx.db
    .select()
    .from(pendingChanges)
    .where(and(...conditions))
    .orderBy(desc(pendingChanges.createdAt), asc(pendingChanges.id))
    .limit(limit)
    .offset(offset);
  return rows.map(toView);
}

export async function discardPendingChange(ctx: ServiceContext, id: string): Promise<PendingChangeView> {
  const before = await getPendingChange(ctx, id);
  return inTransaction(ctx, async (tx) => {
    const [row] = await tx.db
      .update(pendingChanges)
      .set({ status: 'discarded', updatedAt: tx.now() })
      .where(and(ofOrg(tx, before.id), eq(pendingChanges.status, 'pending')))
      .returning();
    if (!row) throw new ConflictError(`pending change ${before.id} is ${before.status}; only a pending one can be discarded`);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'pending_change.discard',
      targetType: 'pending_change',
      targetId: row.id,
      siteId: row.siteId,
      before,
      after: toView(row),
    });
    return toView(row);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Applying

/**
 * Applies pending changes of ONE gateway together: one device apply (one filter reload) for the batch. Refused
 * while the deployment is read-only, without `confirmed` when a change needs it, by the apply gate, or (409)
 * when any of them is no longer pending — then none is applied. Returns the changes with their outcome
 * (`applied`, `failed` with the vendor code, `failed_verification` with the differences).
 */
export async function applyPendingChanges(
  ctx: ServiceContext,
  deps: PendingDeps,
  ids: readonly string[],
  options: { confirmed: boolean; overrideTests?: boolean; overrideReason?: string | null },
): Promise<PendingChangeView[]> {
  const overrideTests = testsOverride(options);
  if (ids.length === 0) throw new ValidationError('ids', 'ids must name at least one pending change');
  if (ids.length > BATCH_MAX) throw new ValidationError('ids', `at most ${BATCH_MAX} changes per apply`);
  const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
  if (unique.length !== ids.length) throw new ValidationError('ids', 'ids must not repeat a change');
  const rows = await ctx.db
    .select()
    .from(pendingChanges)
    .where(and(eq(pendingChanges.orgId, ctx.orgId), inArray(pendingChanges.id, unique)))
    .orderBy(asc(pendingChanges.createdAt), asc(pendingChanges.id));
  const missing = unique.find((id) => !rows.some((row) => row.id === id));
  if (missing !== undefined) throw new NotFoundError('pending change', missing);
  const first = rows[0] as Row;
  if (rows.some((row) => row.deviceId !== first.deviceId)) {
    throw new ValidationError('ids', 'the changes of one apply must all be for one gateway');
  }
  if (deps.readOnly) {
    throw new ReadOnlyError(
      'This deployment is read-only for live writes (PORTCULLIS_READ_ONLY=true): pending changes cannot be applied.',
    );
  }
  const confirming = rows.find((row) => row.requiresConfirmation);
  if (confirming && !options.confirmed) {
    throw new ValidationError(
      'confirmed',
      `confirmed=true is required to apply change ${confirming.id} (${confirming.targetType} ${confirming.operation})`,
    );
  }
  if (rows.length > 1 && rows.some((row) => row.targetType === 'power')) {
    throw new ValidationError('ids', 'a reboot or halt is applied on its own, not in a batch');
  }
  const { vendor } = await deps.device(first.deviceId);
  if (rows.length > 1 && !vendor.capabilities['write.batch_apply']) {
    throw new CapabilityError(
      `${vendor.name} gateways (vendor ${vendor.id}) apply one change at a time: write.batch_apply is off (${unavailableReason(vendor, 'write.batch_apply') ?? ''})`,
      'write.batch_apply',
      'ids',
    );
  }
  const writes = rows.map((row) => ({ id: row.id, write: writeOf(ctx, row) }));
  await applyGate({
    ctx,
    gatewayId: first.deviceId,
    changes: writes,
    live: await liveOf(deps, first.deviceId),
    overrideTests,
  });
  const claimed = await inTransaction(ctx, async (tx) => {
    const now = tx.now();
    const updated = await tx.db
      .update(pendingChanges)
      .set({ status: 'applying', claimedAt: now, claimedBy: deps.node, updatedAt: now })
      .where(
        and(
          eq(pendingChanges.orgId, tx.orgId),
          inArray(pendingChanges.id, unique),
          eq(pendingChanges.status, 'pending'),
        ),
      )
      .returning();
    if (updated.length !== unique.length) {
      // Rolls the partial claim back: all of the batch or none of it.
      const taken = rows.filter((row) => !updated.some((u) => u.id === row.id)).map((row) => row.id);
      throw new ConflictError(`pending change ${taken.join(', ')} is not pending (already applied, applying or discarded)`);
    }
    return updated.sort((a, b) => rows.findIndex((r) => r.id === a.id) - rows.findIndex((r) => r.id === b.id));
  });
  return runClaimed(ctx, deps, claimed);
}

/** The write a row describes, with its sealed secrets opened again. */
function writeOf(ctx: ServiceContext, row: Row): LiveWrite {
  const payload =
    row.payloadSecretsEnc === null
      ? row.payload
      : (JSON.parse(ctx.keyring.open(row.payloadSecretsEnc, aadForColumn(SECRETS_COLUMN, row.id))) as unknown);
  return writeFromRow({ ...row, payload });
}

interface Failure {
  code: string;
  message: string;
  vendorCode: string | null;
}

interface Outcome {
  status: Extract<PendingStatus, 'applied' | 'failed' | 'failed_verification'>;
  beforeImage: BeforeImage | null;
  verification: Record<string, unknown> | null;
  /** The id of the object written (a create's new id). */
  target: string | null;
  failure: Failure | null;
}

/** The object a write needs that the device does not have (an update of a deleted rule). */
class MissingOnDevice extends Error {}

function failureOf(err: unknown): Failure {
  if (err instanceof AdapterError) return { code: 'device_error', message: err.message, vendorCode: err.code };
  if (err instanceof DeviceError) return { code: 'device_error', message: err.message, vendorCode: err.vendorCode };
  if (err instanceof MissingOnDevice) return { code: 'not_found_on_device', message: err.message, vendorCode: null };
  if (err instanceof DomainError) return { code: err.code, message: err.message, vendorCode: null };
  return { code: 'internal', message: 'An unexpected error stopped the apply; the server log has the cause.', vendorCode: null };
}

interface Step {
  row: Row;
  write: LiveWrite;
  before: LiveObject | null;
  /** For a deleted rule: the rule that followed it, to put it back in its place. */
  nextRule: string | null;
  result: LiveWriteResult | null;
}

/** What a row keeps of the device's state before its write. */
interface BeforeImage {
  object: LiveObject | null;
  next_rule?: string | null;
}

const imageOf = (step: Step): BeforeImage =>
  step.write.kind === 'firewall_rule' && step.write.op === 'delete'
    ? { object: step.before, next_rule: step.nextRule }
    : { object: step.before };

/** The written object's id as the device now keys it (a create's new id; an update may change the key). */
const targetOf = (step: Step): string | null =>
  step.result?.target ?? (step.write.op === 'create' ? null : step.write.target);

/**
 * Undoes the written steps, newest first, and applies once. Never throws: what could not be undone is listed
 * (the change's verification says so, and the device needs a look).
 */
async function restore(writer: LiveWriter, steps: readonly Step[]): Promise<{ restored: boolean; errors: string[] }> {
  const errors: string[] = [];
  let pending = false;
  for (const step of [...steps].reverse()) {
    const inverse = inverseOf(step.write, step.before, targetOf(step), step.nextRule);
    if (inverse === null) {
      errors.push(`${step.row.id}: ${step.write.kind} ${step.write.op} cannot be undone`);
      continue;
    }
    try {
      pending = (await writer.write(inverse)).pending.length > 0 || pending;
    } catch (err) {
      errors.push(`${step.row.id}: ${failureOf(err).message}`);
    }
  }
  if (pending) {
    try {
      await writer.apply();
    } catch (err) {
      errors.push(`apply: ${failureOf(err).message}`);
    }
  }
  return { restored: errors.length === 0, errors };
}

/** Writes, applies and verifies claimed rows (in order, one gateway), then records every outcome. */
async function runClaimed(ctx: ServiceContext, deps: PendingDeps, rows: readonly Row[]): Promise<PendingChangeView[]> {
  let outcomes: Map<string, Outcome>;
  try {
    outcomes = await deviceRun(ctx, deps, rows);
  } catch (err) {
    // Not a device fault: still no row may stay `applying`.
    const failure = failureOf(err);
    await finish(ctx, deps, rows, new Map(rows.map((row) => [row.id, failed(failure)])));
    throw err;
  }
  return finish(ctx, deps, rows, outcomes);
}

const failed = (failure: Failure, extra: Partial<Outcome> = {}): Outcome => ({
  status: 'failed',
  beforeImage: null,
  verification: null,
  target: null,
  failure,
  ...extra,
});

async function deviceRun(ctx: ServiceContext, deps: PendingDeps, rows: readonly Row[]): Promise<Map<string, Outcome>> {
  const gatewayId = (rows[0] as Row).deviceId;
  let writer: LiveWriter;
  /** The target of the rule after `target` in the device's order (null: the last, or rules cannot be listed). */
  let ruleAfter: (target: string) => Promise<string | null>;
  try {
    const { vendor, adapter } = await deps.device(gatewayId);
    if (vendor.writes === undefined) {
      throw new CapabilityUnavailableError('write', `${vendor.name} gateways (vendor ${vendor.id}) have no live writes.`);
    }
    // One writer for the batch: it remembers what it staged that the device does not flag.
    writer = vendor.writes.open(adapter);
    ruleAfter = async (target) => {
      if (vendor.live === undefined || !vendor.capabilities['read.rules']) return null;
      const ids = (await liveGateway(vendor, adapter).firewallRules()).items.map((rule) => rule.vendor_rule_id);
      const at = ids.indexOf(target);
      return at < 0 ? null : (ids[at + 1] ?? null);
    };
  } catch (err) {
    const failure = failureOf(err);
    return new Map(rows.map((row) => [row.id, failed(failure)]));
  }

  const steps: Step[] = [];
  try {
    for (const row of rows) {
      const write = writeOf(ctx, row);
      const step: Step = { row, write, before: null, nextRule: null, result: null };
      if (readsBeforeImage(write.op)) {
        step.before = await writer.read(write.kind, write.target as string);
        if (step.before === null) {
          throw new MissingOnDevice(`${write.kind} ${write.target} does not exist on the gateway`);
        }
        if (write.kind === 'firewall_rule' && write.op === 'delete') step.nextRule = await ruleAfter(write.target);
      }
      steps.push(step);
      step.result = await writer.write(write);
    }
    if (steps.some((step) => (step.result?.pending.length ?? 0) > 0)) await writer.apply();
  } catch (err) {
    const failure = failureOf(err);
    if (failure.code === 'internal') throw err;
    const written = steps.filter((step) => step.result !== null);
    const culprit = steps.find((step) => step.result === null)?.row.id ?? null;
    const { restored, errors } = await restore(writer, written);
    const verification = { ok: false, restored, restore_errors: errors };
    return new Map(
      rows.map((row) => {
        const step = steps.find((s) => s.row.id === row.id);
        const own = culprit === null || culprit === row.id || rows.length === 1;
        return [
          row.id,
          failed(
            own
              ? failure
              : {
                  code: 'batch_failed',
                  message: `Not applied: change ${culprit} of the same apply failed (${failure.vendorCode ?? failure.code}).`,
                  vendorCode: null,
                },
            { beforeImage: step ? imageOf(step) : null, verification },
          ),
        ];
      }),
    );
  }

  // Read back every object, then the device's own list of subsystems still waiting for an apply.
  const differences = new Map<string, VerificationDifference[] | null>();
  for (const step of steps) {
    const target = targetOf(step);
    if (step.write.kind === 'power') {
      differences.set(step.row.id, null); // the device is going down: nothing to read
      continue;
    }
    try {
      const readBack = target === null ? null : await writer.read(step.write.kind, target);
      differences.set(step.row.id, verificationDifferences(step.write, readBack));
    } catch (err) {
      const failure = failureOf(err);
      if (failure.code === 'internal') throw err;
      differences.set(step.row.id, [{ field: 'read_back', expected: 'readable', actual: failure.vendorCode ?? failure.code }]);
    }
  }
  const checked = [...differences.values()].some((d) => d !== null);
  let stillPending: string[] = [];
  if (checked) {
    try {
      stillPending = await writer.pendingSubsystems();
    } catch (err) {
      const failure = failureOf(err);
      if (failure.code === 'internal') throw err;
      stillPending = [`unknown (${failure.vendorCode ?? failure.code})`];
    }
  }
  const mismatch = stillPending.length > 0 || [...differences.values()].some((d) => d !== null && d.length > 0);
  const repair = mismatch ? await restore(writer, steps) : null;
  return new Map(
    steps.map((step) => {
      const own = differences.get(step.row.id) ?? null;
      const verification = {
        ok: !mismatch,
        checked: own !== null,
        differences: own ?? [],
        pending_subsystems: stillPending,
        ...(repair ? { restored: repair.restored, restore_errors: repair.errors } : {}),
      };
      const outcome: Outcome = {
        status: mismatch ? 'failed_verification' : 'applied',
        beforeImage: imageOf(step),
        verification,
        target: targetOf(step),
        failure: mismatch
          ? {
              code: 'verification_failed',
              message:
                (own?.length ?? 0) > 0 || stillPending.length > 0
                  ? `The device does not show what was written${stillPending.length > 0 ? ` (still pending: ${stillPending.join(', ')})` : ''}; the before-image was ${repair?.restored ? 'restored' : 'NOT fully restored'}.`
                  : `Restored with the rest of its apply, which failed verification; the before-image was ${repair?.restored ? 'restored' : 'NOT fully restored'}.`,
              vendorCode: null,
            }
          : null,
      };
      return [step.row.id, outcome];
    }),
  );
}

/** Records the outcomes in one transaction (rows, deployed rule ids, reverted originals, audit, events). */
async function finish(
  ctx: ServiceContext,
  deps: PendingDeps,
  rows: readonly Row[],
  outcomes: Map<string, Outcome>,
): Promise<PendingChangeView[]> {
  const { views, events } = await inTransaction(ctx, async (tx) => {
    const now = tx.now();
    const views: PendingChangeView[] = [];
    const events: BusEvent[] = [];
    for (const row of rows) {
      const outcome = outcomes.get(row.id) as Outcome;
      const applied = outcome.status === 'applied';
      const [updated] = await tx.db
        .update(pendingChanges)
        .set({
          status: outcome.status,
          beforeImage: outcome.beforeImage,
          verification: outcome.verification,
          targetVendorId: outcome.target ?? row.targetVendorId,
          errorCode: outcome.failure?.code ?? null,
          errorMessage: outcome.failure?.message ?? null,
          vendorCode: outcome.failure?.vendorCode ?? null,
          appliedAt: applied ? now : null,
          appliedBy: applied ? tx.actor.id : null,
          updatedAt: now,
        })
        .where(and(eq(pendingChanges.id, row.id), eq(pendingChanges.status, 'applying')))
        .returning();
      if (!updated) {
        // Reaped meanwhile: the reaper recorded its outcome; answer with the row as it is.
        const [current] = await tx.db.select().from(pendingChanges).where(eq(pendingChanges.id, row.id));
        if (current) views.push(toView(current));
        continue;
      }
      if (applied && row.sourceRuleId !== null && outcome.target !== null) {
        await tx.db
          .update(firewallRules)
          .set({ vendorRuleId: outcome.target, updatedAt: now })
          .where(and(eq(firewallRules.id, row.sourceRuleId), eq(firewallRules.orgId, tx.orgId)));
      }
      if (applied && row.revertsId !== null) {
        await tx.db
          .update(pendingChanges)
          .set({ status: 'reverted', updatedAt: now })
          .where(and(eq(pendingChanges.id, row.revertsId), eq(pendingChanges.status, 'applied')));
      }
      const view = toView(updated);
      views.push(view);
      await record(tx.db, {
        orgId: tx.orgId,
        actor: tx.actor,
        action: 'pending_change.apply',
        targetType: 'pending_change',
        targetId: row.id,
        siteId: row.siteId,
        after: view,
        outcome: applied ? 'success' : 'failure',
      });
      events.push(outcomeEvent(updated));
    }
    return { views, events: await storeEvents(tx.db, events) };
  });
  deps.events.emit(events);
  return views;
}

function outcomeEvent(row: Row): BusEvent {
  return {
    type: row.status === 'applied' ? 'firewall.pending.applied' : 'firewall.pending.failed',
    orgId: row.orgId,
    siteId: row.siteId,
    gatewayId: row.deviceId,
    payload: {
      pending_change_id: row.id,
      target_type: row.targetType,
      operation: row.operation,
      target_vendor_id: row.targetVendorId,
      status: row.status,
      error_code: row.errorCode,
      vendor_code: row.vendorCode,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Revert, deploy, reaper

/**
 * Stages the inverse of an applied change (its before-image written back; a created object deleted; a deleted
 * one created again). 409 when the change is not applied, cannot be undone (a restart, a reboot) or already has
 * an open revert.
 */
export async function revertPendingChange(
  ctx: ServiceContext,
  deps: PendingDeps,
  id: string,
  gateway: GatewayRef,
): Promise<PendingChangeView> {
  requireIdOrNotFound('pending change', id);
  const [row] = await ctx.db.select().from(pendingChanges).where(ofOrg(ctx, id)).limit(1);
  if (!row) throw new NotFoundError('pending change', id);
  if (row.status !== 'applied') {
    throw new ConflictError(`pending change ${row.id} is ${row.status}; only an applied change can be reverted`);
  }
  const image = row.beforeImage as BeforeImage | null;
  const inverse = inverseOf(writeOf(ctx, row), image?.object ?? null, row.targetVendorId, image?.next_rule ?? null);
  if (inverse === null) {
    throw new ConflictError(`pending change ${row.id} (${row.targetType} ${row.operation}) cannot be undone`);
  }
  const [open] = await ctx.db
    .select({ id: pendingChanges.id })
    .from(pendingChanges)
    .where(
      and(
        eq(pendingChanges.revertsId, row.id),
        inArray(pendingChanges.status, ['pending', 'applying']),
      ),
    )
    .limit(1);
  if (open) throw new ConflictError(`pending change ${row.id} already has an open revert, ${open.id}`);
  const { change } = await submitWrite(ctx, deps, {
    gateway,
    write: inverse,
    force: false,
    confirmed: false,
    overrideLockout: false,
    overrideReason: null,
    revertsId: row.id,
  });
  return change;
}

type NormalizedRule = Omit<typeof firewallRules.$inferSelect, 'orgId' | 'deletedAt'>;

/** A normalized rule (`/api/v1/firewall/rules`) compiled to the neutral live rule; 400 naming what cannot go. */
export function compileRule(rule: NormalizedRule): LiveRuleBody {
  if (rule.action === 'log') {
    throw new ValidationError('action', 'a rule with action log cannot be deployed: live rules allow, deny or reject');
  }
  if (rule.sourceZone === null) {
    throw new ValidationError('source_zone', 'source_zone (the interface) is required to deploy a rule');
  }
  const protocols = ['any', 'tcp', 'udp', 'tcp/udp', 'icmp'] as const;
  const protocol = protocols.find((p) => p === rule.protocol);
  if (protocol === undefined) {
    throw new ValidationError('protocol', `protocol ${rule.protocol} cannot be deployed (only ${protocols.join(', ')})`);
  }
  const port = (value: string): string | null => (value === 'any' ? null : livePort(value));
  const v6 = [rule.sourceAddress, rule.destAddress].some((a) => a.includes(':'));
  return {
    action: rule.action as LiveRuleBody['action'],
    interface: rule.sourceZone,
    ip_version: v6 ? 'inet6' : 'inet',
    protocol,
    source_address: rule.sourceAddress,
    source_port: port(rule.sourcePort),
    dest_address: rule.destAddress,
    dest_port: port(rule.destPort),
    description: rule.description,
    is_enabled: rule.isEnabled,
    log_enabled: rule.logEnabled,
  };
}

/** The write that deploys a normalized rule: an update of its device rule once it has one, else a create. */
export function deployWrite(rule: NormalizedRule): LiveWrite {
  const body = compileRule(rule);
  return rule.vendorRuleId === null
    ? { kind: 'firewall_rule', op: 'create', target: null, body }
    : { kind: 'firewall_rule', op: 'update', target: rule.vendorRuleId, body };
}

/**
 * Fails every change whose claim is older than `staleAfterMs` (its node died mid-apply): status `failed`, code
 * `apply_interrupted`, an event each. Nothing is sent to a device: what the dead node wrote is unknown, so the
 * change is not retried — the message says to compare the device with the change. For the job runner.
 */
export async function reapStuckPendingChanges(
  deps: { db: Db; events: EventBus | null },
  now: Date = new Date(),
  staleAfterMs: number = APPLY_STALE_MS,
): Promise<string[]> {
  const cutoff = new Date(now.getTime() - staleAfterMs);
  const { ids, events } = await deps.db.transaction(async (tx) => {
    const reaped = await tx
      .update(pendingChanges)
      .set({
        status: 'failed',
        errorCode: 'apply_interrupted',
        errorMessage:
          'The apply was interrupted (the node applying it stopped); compare the gateway with this change before applying it again.',
        updatedAt: now,
      })
      .where(and(eq(pendingChanges.status, 'applying'), lt(pendingChanges.claimedAt, cutoff)))
      .returning();
    for (const row of reaped) {
      await record(tx, {
        orgId: row.orgId,
        actor: SYSTEM_ACTOR,
        action: 'pending_change.reap',
        targetType: 'pending_change',
        targetId: row.id,
        siteId: row.siteId,
        after: { status: row.status, claimed_at: row.claimedAt, claimed_by: row.claimedBy },
        outcome: 'failure',
      });
    }
    return { ids: reaped.map((row) => row.id), events: await storeEvents(tx, reaped.map(outcomeEvent)) };
  });
  deps.events?.emit(events);
  return ids;
}
