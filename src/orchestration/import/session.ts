/**
 * @module The brownfield import wizard (`/api/v1/firewall/import/...`, docs/reference/freesdn-firewall-module.md
 * §17, docs/orchestration.md "Brownfield import", ADR 0270): a session stored in the database walks six steps,
 * every one of them reached through `POST /import/{id}/step` with the step's number:
 *
 * 1. discover — on start: every gateway of the site, read live (VLAN interfaces, DHCP scopes and static mappings,
 *    DNS overrides, bridge VLANs; unreachable devices are listed with their error);
 * 2. assign roles — payload `{roles: {<gateway_id>: "brain" | "limb"}}`, checked by the role-map code (exactly one
 *    brain, capabilities, gateways of the site); then 3 runs at once;
 * 3. scan — discovered resources against the canonical state, one status per resource;
 * 4. reconcile — payload `{decisions: {<resource key>: "adopt" | "skip" | "merge" | "ignore"}}`, checked and tried
 *    on the canonical state in a transaction that is rolled back (a refusal is a 400 naming the decision);
 * 5. distribute — no payload (`force` runs the device writes): the decisions are applied to the canonical state
 *    and the role map is saved in one transaction, then every VLAN a device lacks goes through the distribution
 *    engine (each device write staged and gated); then 6 runs at once;
 * 6. verify — the devices are read again and compared with the canonical state.
 *
 * Nothing changes the canonical state or the role map before step 5, so a session cancelled earlier leaves no
 * trace but itself. A step is claimed by moving the session to `running` where it waits for that step, so two
 * callers cannot run one step twice; a POST for another step is a 409 naming the step the session waits for.
 */
import { and, desc, eq, inArray, isNull, lt } from 'drizzle-orm';
import { record } from '../../audit/record.ts';
import { type ServiceContext, inTransaction } from '../../core/context.ts';
import { paging } from '../../core/paging.ts';
import { requireIdOrNotFound } from '../../core/validate.ts';
import { ConflictError, DomainError, NotFoundError, ValidationError } from '../../errors.ts';
import type { PendingDeps } from '../../firewall/pending.ts';
import type { SiteScope } from '../../firewall/objects.ts';
import { readSettings } from '../../firewall/settings.ts';
import { gateways } from '../../store/schema/access.ts';
import { orchestrationImportSessions } from '../../store/schema/orchestration.ts';
import { requireLiveSite } from '../canonical/fields.ts';
import { getTopology, putTopology, validateTopology } from '../topology.ts';
import { ROLES, type Role } from '../topology-roles.ts';
import { type AdoptionOutcome, adopt, buildScan, type Decision, dryRunAdoption, parseDecisions, type ScanResource } from './adopt.ts';
import { type AlignmentReport, alignmentReport, loadCanonical } from './compare.ts';
import { type DeviceInventory, readInventory } from './inventory.ts';

export const STEP_NAMES = ['discover', 'assign_roles', 'scan', 'reconcile', 'distribute', 'verify'] as const;
export type StepName = (typeof STEP_NAMES)[number];
export const SESSION_STATUSES = ['in_progress', 'running', 'completed', 'cancelled', 'failed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
export const STEP_STATUSES = ['pending', 'waiting', 'done', 'failed'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export interface StepRecord {
  step: number;
  name: StepName;
  status: StepStatus;
  payload: unknown;
  result: unknown;
  error: { code: string; field: string | null; message: string } | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface ImportSessionView {
  id: string;
  siteId: string;
  status: SessionStatus;
  currentStep: number;
  /** What the session waits for, in words (null once it ended). */
  next: string | null;
  steps: StepRecord[];
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a distribution of one canonical VLAN reports back (the distribution engine's view, reduced). */
export interface DistributionOutcome {
  id: string;
  status: string;
  error: { code: string; message: string } | null;
}

/** What the wizard needs besides the store: the gateways' adapters and the distribution engine. */
export interface ImportDeps {
  device: PendingDeps['device'];
  /** Distributes one canonical VLAN (row id) of the site; `force` runs the device writes, else it only plans. */
  distribute(ctx: ServiceContext, input: { siteId: string; vlanId: string; force: boolean }): Promise<DistributionOutcome>;
}

type Row = typeof orchestrationImportSessions.$inferSelect;
type Steps = Record<string, StepRecord>;

const WAITING_FOR: Record<number, string> = {
  2: 'step 2 (assign roles): {"step": 2, "payload": {"roles": {"<gateway_id>": "brain" | "limb"}}}',
  4: 'step 4 (reconcile): {"step": 4, "payload": {"decisions": {"<resource key>": "adopt" | "skip" | "merge" | "ignore"}}}',
  5: 'step 5 (distribute): {"step": 5, "force": true} writes to the devices; without force the distributions are only planned',
};

function freshSteps(): Steps {
  return Object.fromEntries(
    STEP_NAMES.map((name, i) => [
      String(i + 1),
      { step: i + 1, name, status: 'pending', payload: null, result: null, error: null, started_at: null, finished_at: null },
    ]),
  );
}

function view(row: Row): ImportSessionView {
  const steps = row.steps as Steps;
  return {
    id: row.id,
    siteId: row.siteId,
    status: row.status as SessionStatus,
    currentStep: row.currentStep,
    next: row.status === 'in_progress' ? (WAITING_FOR[row.currentStep] ?? null) : null,
    steps: STEP_NAMES.map((_, i) => steps[String(i + 1)] as StepRecord),
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

async function findRow(ctx: ServiceContext, id: string): Promise<Row> {
  requireIdOrNotFound('import session', id);
  const [row] = await ctx.db
    .select()
    .from(orchestrationImportSessions)
    .where(and(eq(orchestrationImportSessions.id, id.toLowerCase()), eq(orchestrationImportSessions.orgId, ctx.orgId)));
  if (!row) throw new NotFoundError('import session', id);
  return row;
}

export async function getImportSession(ctx: ServiceContext, id: string): Promise<ImportSessionView> {
  return view(await findRow(ctx, id));
}

export async function listImportSessions(
  ctx: ServiceContext,
  options: { scope: SiteScope; siteId?: string; limit?: number; offset?: number },
): Promise<ImportSessionView[]> {
  const { limit, offset } = paging(options);
  if (options.scope !== 'all' && options.scope.length === 0) return [];
  const t = orchestrationImportSessions;
  const rows = await ctx.db
    .select()
    .from(t)
    .where(
      and(
        eq(t.orgId, ctx.orgId),
        options.scope === 'all' ? undefined : inArray(t.siteId, [...options.scope]),
        options.siteId ? eq(t.siteId, options.siteId) : undefined,
      ),
    )
    .orderBy(desc(t.createdAt))
    .limit(limit)
    .offset(offset);
  return rows.map(view);
}

async function audit(ctx: ServiceContext, action: string, row: Row, details: Record<string, unknown>): Promise<void> {
  await record(ctx.db, {
    orgId: ctx.orgId,
    actor: ctx.actor,
    action,
    targetType: 'import_session',
    targetId: row.id,
    siteId: row.siteId,
    after: { status: row.status, current_step: row.currentStep, ...details },
  });
}

const stamp = (ctx: ServiceContext) => ctx.now().toISOString();

/** Step 1: every live gateway of the site, read. */
async function discover(ctx: ServiceContext, deps: ImportDeps, siteId: string): Promise<{ devices: DeviceInventory[] }> {
  const found = await ctx.db
    .select({ id: gateways.id, name: gateways.name, vendor: gateways.vendor })
    .from(gateways)
    .where(and(eq(gateways.orgId, ctx.orgId), eq(gateways.siteId, siteId), isNull(gateways.deletedAt)))
    .orderBy(gateways.name);
  return { devices: await Promise.all(found.map((g) => readInventory(deps, g))) };
}

/** Starts a session for the site and runs step 1 (discover); the session then waits for step 2. */
export async function startImport(ctx: ServiceContext, deps: ImportDeps, siteId: string): Promise<ImportSessionView> {
  const site = await requireLiveSite(ctx, siteId, { field: 'site_id' });
  const steps = freshSteps();
  const started = stamp(ctx);
  const discovered = await discover(ctx, deps, site);
  Object.assign(steps['1'] as StepRecord, { status: 'done', result: discovered, started_at: started, finished_at: stamp(ctx) });
  (steps['2'] as StepRecord).status = 'waiting';
  return inTransaction(ctx, async (tx) => {
    const [row] = await tx.db
      .insert(orchestrationImportSessions)
      .values({
        orgId: tx.orgId,
        siteId: site,
        status: 'in_progress',
        currentStep: 2,
        steps,
        createdBy: tx.actor.id,
        createdAt: tx.now(),
        updatedAt: tx.now(),
      })
      .returning();
    if (!row) throw new Error('import session insert returned no row');
    await audit(tx, 'import_session.start', row, { devices: discovered.devices.length });
    return view(row);
  });
}

/**
 * Moves the session to `running` if it waits for `step`; otherwise a 409 that says what it waits for (or that
 * it ended). Returns the row as it was.
 */
async function claim(ctx: ServiceContext, id: string, step: number): Promise<Row> {
  const row = await findRow(ctx, id);
  const refuse = (why: string) => new ConflictError(`import session ${row.id} ${why}`);
  if (row.status === 'completed' || row.status === 'cancelled' || row.status === 'failed') throw refuse(`is ${row.status}: no step can run`);
  if (row.status === 'running') throw refuse(`is running step ${row.currentStep} (${STEP_NAMES[row.currentStep - 1]}) now`);
  if (row.currentStep !== step) {
    throw refuse(`waits for ${WAITING_FOR[row.currentStep] ?? `step ${row.currentStep}`}, not step ${step}`);
  }
  const t = orchestrationImportSessions;
  const [claimed] = await ctx.db
    .update(t)
    .set({ status: 'running', updatedAt: ctx.now() })
    .where(and(eq(t.id, row.id), eq(t.status, 'in_progress'), eq(t.currentStep, step)))
    .returning();
  if (!claimed) throw refuse('was advanced by another request meanwhile');
  return row;
}

/** Stores the steps and status after a step ran; a session cancelled meanwhile keeps `cancelled`. */
async function settle(ctx: ServiceContext, row: Row, steps: Steps, update: { status: SessionStatus; currentStep: number }, action: string): Promise<ImportSessionView> {
  const t = orchestrationImportSessions;
  const [saved] = await ctx.db
    .update(t)
    .set({ steps, ...update, updatedAt: ctx.now() })
    .where(and(eq(t.id, row.id), eq(t.status, 'running')))
    .returning();
  if (!saved) return view(await findRow(ctx, row.id));
  await audit(ctx, action, saved, { step: row.currentStep });
  return view(saved);
}

/** Puts a claimed session back where it was (the step refused its input: nothing ran). */
async function release(ctx: ServiceContext, row: Row): Promise<void> {
  const t = orchestrationImportSessions;
  await ctx.db.update(t).set({ status: 'in_progress', updatedAt: ctx.now() }).where(and(eq(t.id, row.id), eq(t.status, 'running')));
}

interface RolesResult {
  assignments: Array<{ gateway_id: string; role: Role }>;
}

/** Step 2's payload, checked with the role-map code; problems come back naming `payload.roles.<gateway_id>`. */
async function checkRoles(ctx: ServiceContext, row: Row, payload: unknown): Promise<RolesResult> {
  const field = 'payload.roles';
  const roles = payload && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>).roles : undefined;
  if (roles === undefined || roles === null || typeof roles !== 'object' || Array.isArray(roles)) {
    throw new ValidationError(field, `${field} must be an object of gateway id → ${ROLES.join(' | ')}`);
  }
  const devices = ((row.steps as Steps)['1']?.result as { devices: DeviceInventory[] }).devices;
  const entries = Object.entries(roles as Record<string, unknown>);
  for (const [gatewayId, role] of entries) {
    const at = `${field}.${gatewayId}`;
    const device = devices.find((d) => d.gateway_id === gatewayId.toLowerCase());
    if (!device) throw new ValidationError(at, `${at}: gateway ${gatewayId} was not discovered at this site (step 1)`);
    if ((ROLES as readonly unknown[]).includes(role) && !device.reachable) {
      throw new ValidationError(at, `${at}: ${device.name} could not be read at discovery (${device.error?.message ?? 'unreachable'}); fix it and start a new session`);
    }
  }
  const assignments = entries.map(([gateway_id, role]) => ({ gateway_id: gateway_id.toLowerCase(), role }));
  const { problems } = await validateTopology(ctx, row.siteId, { assignments });
  const [first] = problems;
  if (first) {
    const index = /^assignments\.(\d+)/.exec(first.field)?.[1];
    const gatewayId = index === undefined ? undefined : entries[Number(index)]?.[0];
    const at = gatewayId === undefined ? field : `${field}.${gatewayId}`;
    throw new ValidationError(at, first.message.replace(/assignments\.\d+(\.role|\.gateway_id)?/g, at));
  }
  return { assignments: assignments as RolesResult['assignments'] };
}

function inventoriesFor(row: Row, assignments: RolesResult['assignments']): { brain: DeviceInventory; limbs: DeviceInventory[] } {
  const devices = ((row.steps as Steps)['1']?.result as { devices: DeviceInventory[] }).devices;
  const of = (id: string) => devices.find((d) => d.gateway_id === id) as DeviceInventory;
  const brain = of((assignments.find((a) => a.role === 'brain') as { gateway_id: string }).gateway_id);
  return { brain, limbs: assignments.filter((a) => a.role === 'limb').map((a) => of(a.gateway_id)) };
}

export interface StepInput {
  step: number;
  payload?: unknown;
  force?: boolean;
}

/**
 * Runs the step the session waits for: 2 (then 3), 4, or 5 (then 6). A payload refused is a 400 naming its field
 * and leaves the session waiting for the same step; a failure of step 5 is recorded on the step and the session
 * waits for step 5 again (retry) — the canonical changes of a failed step 5 are rolled back.
 */
export async function advanceImport(ctx: ServiceContext, deps: ImportDeps, id: string, input: StepInput): Promise<ImportSessionView> {
  if (!Number.isInteger(input.step) || input.step < 1 || input.step > 6) throw new ValidationError('step', 'step must be an integer from 1 to 6');
  const row = await claim(ctx, id, input.step);
  const steps = structuredClone(row.steps as Steps);
  const at = (n: number) => steps[String(n)] as StepRecord;
  try {
    if (input.step === 2) {
      const started = stamp(ctx);
      const roles = await checkRoles(ctx, row, input.payload);
      Object.assign(at(2), { status: 'done', payload: input.payload, result: roles, started_at: started, finished_at: stamp(ctx), error: null });
      const scanStarted = stamp(ctx);
      const { brain, limbs } = inventoriesFor(row, roles.assignments);
      const resources = buildScan(await loadCanonical(ctx, row.siteId), brain, limbs);
      Object.assign(at(3), { status: 'done', result: { resources, counts: countBy(resources) }, started_at: scanStarted, finished_at: stamp(ctx) });
      at(4).status = 'waiting';
      return await settle(ctx, row, steps, { status: 'in_progress', currentStep: 4 }, 'import_session.step');
    }
    if (input.step === 4) {
      const started = stamp(ctx);
      const resources = (at(3).result as { resources: ScanResource[] }).resources;
      const payload = input.payload && typeof input.payload === 'object' && !Array.isArray(input.payload) ? (input.payload as Record<string, unknown>) : {};
      const decisions = parseDecisions(payload.decisions, resources, 'payload.decisions');
      const plan = await dryRunAdoption(ctx, row.siteId, resources, decisions, 'payload.decisions');
      Object.assign(at(4), {
        status: 'done',
        payload: { decisions: Object.fromEntries(decisions) },
        result: { decided: Object.fromEntries(resources.map((r) => [r.key, decisions.get(r.key) ?? 'skip'])), plan },
        started_at: started,
        finished_at: stamp(ctx),
        error: null,
      });
      at(5).status = 'waiting';
      return await settle(ctx, row, steps, { status: 'in_progress', currentStep: 5 }, 'import_session.step');
    }
    if (input.step === 5) return await distributeAndVerify(ctx, deps, row, steps, input.force === true);
    throw new ConflictError(`step ${input.step} runs by itself; the session waits for ${WAITING_FOR[row.currentStep] ?? row.currentStep}`);
  } catch (err) {
    await release(ctx, row);
    throw err;
  }
}

function countBy(resources: ScanResource[]): Record<string, number> {
  const counts: Record<string, number> = { aligned: 0, missing: 0, modified: 0, extra: 0, error: 0 };
  for (const r of resources) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** Steps 5 and 6. */
async function distributeAndVerify(ctx: ServiceContext, deps: ImportDeps, row: Row, steps: Steps, force: boolean): Promise<ImportSessionView> {
  const at = (n: number) => steps[String(n)] as StepRecord;
  const started = stamp(ctx);
  const resources = (at(3).result as { resources: ScanResource[] }).resources;
  const decided = new Map(Object.entries((at(4).payload as { decisions: Record<string, Decision> }).decisions));
  const { assignments } = at(2).result as RolesResult;
  let outcome: AdoptionOutcome;
  try {
    outcome = await inTransaction(ctx, async (tx) => {
      const adopted = await adopt(tx, row.siteId, resources, decided, 'decisions');
      let authorityMap: Record<string, string> | undefined;
      try {
        authorityMap = (await getTopology(tx, row.siteId)).authorityMap;
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
      await putTopology(tx, row.siteId, { assignments, ...(authorityMap ? { authority_map: authorityMap } : {}) });
      return adopted;
    });
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    // The canonical state or the site changed since step 4: nothing was written; the step can be retried.
    Object.assign(at(5), { status: 'waiting', error: { code: err.code, field: err.field ?? null, message: err.message }, started_at: started, finished_at: stamp(ctx) });
    return settle(ctx, row, steps, { status: 'in_progress', currentStep: 5 }, 'import_session.step_failed');
  }
  const distributions: Array<{ vlan_id: number; canonical_vlan_id: string; distribution: DistributionOutcome | null; error: { code: string; message: string } | null }> = [];
  for (const target of outcome.distribute) {
    try {
      const distribution = await deps.distribute(ctx, { siteId: row.siteId, vlanId: target.canonical_vlan_id, force });
      distributions.push({ ...target, distribution, error: null });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      distributions.push({ ...target, distribution: null, error: { code: err.code, message: err.message } });
    }
  }
  Object.assign(at(5), {
    status: 'done',
    payload: { force },
    result: { changes: outcome.changes, notes: outcome.notes, role_map: assignments, distributions },
    started_at: started,
    finished_at: stamp(ctx),
    error: null,
  });
  const verifyStarted = stamp(ctx);
  const report = await verify(ctx, deps, row, assignments);
  const judged = report.items.map((item) => ({ ...item, decision: decided.get(item.key) ?? 'skip' }));
  const adoptedKeys = new Set([...decided].filter(([, d]) => d === 'adopt' || d === 'merge').map(([k]) => k));
  const unaligned = judged.filter((i) => (adoptedKeys.has(i.key) || i.kind === 'device') && i.status !== 'aligned');
  Object.assign(at(6), {
    status: 'done',
    result: {
      aligned: unaligned.length === 0,
      unaligned: unaligned.map((i) => ({ key: i.key, device_id: i.device_id, status: i.status, message: i.message })),
      ...report,
      items: judged,
    },
    started_at: verifyStarted,
    finished_at: stamp(ctx),
  });
  return settle(ctx, row, steps, { status: 'completed', currentStep: 6 }, 'import_session.complete');
}

/** Step 6: the assigned devices (as step 1 knew them) read again and compared with the canonical state. */
async function verify(ctx: ServiceContext, deps: ImportDeps, row: Row, assignments: RolesResult['assignments']): Promise<AlignmentReport> {
  const { brain, limbs } = inventoriesFor(row, assignments);
  const again = (d: DeviceInventory) => readInventory(deps, { id: d.gateway_id, name: d.name, vendor: d.vendor });
  const [brainNow, ...limbsNow] = await Promise.all([again(brain), ...limbs.map(again)]);
  return alignmentReport(row.siteId, await loadCanonical(ctx, row.siteId), brainNow, limbsNow);
}

/** Cancels a session that has not ended (a running step's result is then dropped); 409 once it ended. */
export async function cancelImport(ctx: ServiceContext, id: string): Promise<ImportSessionView> {
  const row = await findRow(ctx, id);
  const t = orchestrationImportSessions;
  const [saved] = await ctx.db
    .update(t)
    .set({ status: 'cancelled', updatedAt: ctx.now() })
    .where(and(eq(t.id, row.id), inArray(t.status, ['in_progress', 'running'])))
    .returning();
  if (!saved) throw new ConflictError(`import session ${row.id} is ${(await findRow(ctx, id)).status}: it cannot be cancelled`);
  await audit(ctx, 'import_session.cancel', saved, {});
  return view(saved);
}

/** Deletes the org's sessions untouched for `import_retention_days` (§19); returns how many. */
export async function purgeImportSessions(ctx: ServiceContext): Promise<number> {
  const { import_retention_days: days } = await readSettings(ctx.db, ctx.orgId);
  const cutoff = new Date(ctx.now().getTime() - days * 86_400_000);
  const t = orchestrationImportSessions;
  const rows = await ctx.db
    .delete(t)
    .where(and(eq(t.orgId, ctx.orgId), lt(t.updatedAt, cutoff)))
    .returning({ id: t.id });
  return rows.length;
}
