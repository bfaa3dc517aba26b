/**
 * @module The shared machinery of the normalized firewall tables (rules, NAT rules, VPN tunnels): each kind is
 * a descriptor — its table, its allow-listed fields with their checks, the fields a create needs — and these
 * functions do create / get / list / patch / soft-delete for all of them, org-scoped, tied to a gateway (and so
 * to its site), each change audited in its transaction (docs/firewall.md, ADR 0120).
 *
 * PATCH applies only the kind's allow-listed fields; anything else in the body (`device_id`, `hit_count`,
 * `id`, …) is ignored without an error, as the spec says.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNull, max, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { record } from '../audit/record.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { paging } from '../core/paging.ts';
import { isUuid, requireIdOrNotFound } from '../core/validate.ts';
import { gateways } from '../store/schema/access.ts';

/** Where a list may look: every site, or these. */
export type SiteScope = 'all' | readonly string[];

export interface Device {
  id: string;
  siteId: string;
  name: string;
}

interface FieldDef {
  /** The column's property name in the Drizzle table. */
  key: string;
  /** Checks the API value and returns what is stored; `field` is the API name. */
  parse(value: unknown, field: string): unknown;
}

interface ObjectTable {
  id: PgColumn;
  orgId: PgColumn;
  siteId: PgColumn;
  deviceId: PgColumn;
  deletedAt: PgColumn;
}

export interface ObjectKind<Row> {
  /** For messages and 404s, e.g. `firewall rule`. */
  resource: string;
  /** Audit target type and action prefix, e.g. `firewall_rule`. */
  auditTarget: string;
  table: PgTable & ObjectTable;
  /** API field name → column and check. Only these are ever written by create / PATCH. */
  fields: Readonly<Record<string, FieldDef>>;
  /** API fields a create must have. */
  required: readonly string[];
  /** Checks across fields on the row as it would be stored (e.g. ports need a ported protocol). */
  check?(row: Row): void;
  /** Fills what a create may leave out and that depends on the device (e.g. the next `rule_order`). */
  defaults?(ctx: ServiceContext, device: Device): Promise<Partial<Row>>;
  /** List filters beyond `device_id` and `site_id`: API query name → column compared for equality. */
  filters: Readonly<Record<string, PgColumn>>;
  /** List order. */
  orderBy: readonly SQL[] | readonly PgColumn[];
}

export interface ObjectBase {
  id: string;
  orgId: string;
  siteId: string;
  deviceId: string;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** The live (not deleted) gateway a body's `device_id` names; 400 naming `field` when there is none. */
export async function requireDevice(ctx: ServiceContext, value: unknown, field = 'device_id'): Promise<Device> {
  if (!isUuid(value)) throw new ValidationError(field, `${field} must be a gateway id (UUID)`);
  const [row] = await ctx.db
    .select({ id: gateways.id, siteId: gateways.siteId, name: gateways.name })
    .from(gateways)
    .where(and(eq(gateways.orgId, ctx.orgId), eq(gateways.id, value.toLowerCase()), isNull(gateways.deletedAt)))
    .limit(1);
  if (!row) throw new ValidationError(field, `${field}: no gateway ${value}`);
  return row;
}

/** A view without the bookkeeping columns the API never shows. */
function view<Row extends ObjectBase>(row: Row): Omit<Row, 'orgId' | 'deletedAt'> {
  const { orgId: _org, deletedAt: _deleted, ...rest } = row;
  return rest;
}

function parseFields<Row>(kind: ObjectKind<Row>, input: Record<string, unknown>): Partial<Row> {
  const out: Record<string, unknown> = {};
  for (const [field, def] of Object.entries(kind.fields)) {
    if (input[field] !== undefined) out[def.key] = def.parse(input[field], field);
  }
  return out as Partial<Row>;
}

function live<Row>(kind: ObjectKind<Row>, ctx: ServiceContext, id: string): SQL {
  const t = kind.table;
  return and(eq(t.orgId, ctx.orgId), eq(t.id, id), isNull(t.deletedAt)) as SQL;
}

export async function createObject<Row extends ObjectBase>(
  ctx: ServiceContext,
  kind: ObjectKind<Row>,
  device: Device,
  input: Record<string, unknown>,
): Promise<Omit<Row, 'orgId' | 'deletedAt'>> {
  for (const field of kind.required) {
    if (input[field] === undefined || input[field] === null) {
      throw new ValidationError(field, `${field} is required`);
    }
  }
  const fields = parseFields(kind, input);
  const id = randomUUID();
  return inTransaction(ctx, async (tx) => {
    const defaults = kind.defaults ? await kind.defaults(tx, device) : {};
    const values = { ...defaults, ...fields, id, orgId: tx.orgId, siteId: device.siteId, deviceId: device.id };
    kind.check?.(values as unknown as Row);
    const [row] = (await tx.db.insert(kind.table).values(values as never).returning()) as unknown as Row[];
    const created = view(row as Row);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: `${kind.auditTarget}.create`,
      targetType: kind.auditTarget,
      targetId: id,
      siteId: device.siteId,
      after: created,
    });
    return created;
  });
}

export async function getObject<Row extends ObjectBase>(
  ctx: ServiceContext,
  kind: ObjectKind<Row>,
  id: string,
): Promise<Omit<Row, 'orgId' | 'deletedAt'>> {
  requireIdOrNotFound(kind.resource, id);
  const [row] = (await ctx.db.select().from(kind.table).where(live(kind, ctx, id)).limit(1)) as unknown as Row[];
  if (!row) throw new NotFoundError(kind.resource, id);
  return view(row);
}

export async function listObjects<Row extends ObjectBase>(
  ctx: ServiceContext,
  kind: ObjectKind<Row>,
  options: { scope: SiteScope; filters?: Record<string, unknown>; limit?: number; offset?: number },
): Promise<Array<Omit<Row, 'orgId' | 'deletedAt'>>> {
  if (options.scope !== 'all' && options.scope.length === 0) return [];
  const t = kind.table;
  const conditions: (SQL | undefined)[] = [eq(t.orgId, ctx.orgId), isNull(t.deletedAt)];
  if (options.scope !== 'all') conditions.push(inArray(t.siteId, [...options.scope]));
  const columns: Record<string, PgColumn> = { device_id: t.deviceId, site_id: t.siteId, ...kind.filters };
  for (const [name, value] of Object.entries(options.filters ?? {})) {
    const column = columns[name];
    if (column === undefined) throw new ValidationError(name, `${name} is not a filter of ${kind.resource}s`);
    if (value !== undefined) conditions.push(eq(column, value));
  }
  const { limit, offset } = paging(options);
  const rows = (await ctx.db
    .select()
    .from(kind.table)
    .where(and(...conditions))
    .orderBy(...(kind.orderBy as SQL[]), asc(t.id))
    .limit(limit)
    .offset(offset)) as unknown as Row[];
  return rows.map(view);
}

/** Applies the allow-listed fields of `input`; others are ignored. */
export async function updateObject<Row extends ObjectBase>(
  ctx: ServiceContext,
  kind: ObjectKind<Row>,
  id: string,
  input: Record<string, unknown>,
): Promise<Omit<Row, 'orgId' | 'deletedAt'>> {
  const before = await getObject(ctx, kind, id);
  const fields = parseFields(kind, input);
  kind.check?.({ ...before, ...fields } as unknown as Row);
  return inTransaction(ctx, async (tx) => {
    const [row] = (await tx.db
      .update(kind.table)
      .set({ ...fields, updatedAt: tx.now() })
      .where(live(kind, tx, id))
      .returning()) as unknown as Row[];
    if (!row) throw new NotFoundError(kind.resource, id);
    const after = view(row);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: `${kind.auditTarget}.update`,
      targetType: kind.auditTarget,
      targetId: id,
      siteId: after.siteId,
      before,
      after,
    });
    return after;
  });
}

export async function deleteObject<Row extends ObjectBase>(
  ctx: ServiceContext,
  kind: ObjectKind<Row>,
  id: string,
): Promise<void> {
  const before = await getObject(ctx, kind, id);
  await inTransaction(ctx, async (tx) => {
    await tx.db
      .update(kind.table)
      .set({ deletedAt: tx.now(), updatedAt: tx.now() })
      .where(live(kind, tx, id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: `${kind.auditTarget}.delete`,
      targetType: kind.auditTarget,
      targetId: id,
      siteId: before.siteId,
      before,
    });
  });
}

/** The next order number on a device (max + 1 over its live rows), for creates that leave it out. */
export async function nextOrder(
  ctx: ServiceContext,
  table: PgTable & ObjectTable & { ruleOrder: PgColumn },
  deviceId: string,
): Promise<number> {
  const [row] = await ctx.db
    .select({ top: max(table.ruleOrder) })
    .from(table)
    .where(and(eq(table.deviceId, deviceId), isNull(table.deletedAt)));
  return (Number(row?.top ?? 0) || 0) + 1;
}
