/**
 * @module VLAN templates (`/api/v1/firewall/templates`, docs/reference/freesdn-firewall-module.md §14.2): org-level
 * blueprints — IoT, guest, management … — holding a VLAN id, a VLAN name and optional subnets. Applying one to a
 * site creates a canonical VLAN from it (the body may override any of the four values), with every check of a
 * VLAN create; the VLAN remembers its template. Template names are unique in the org (400 naming `name`).
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, ne } from 'drizzle-orm';
import { record } from '../../audit/record.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import { inTransaction, type ServiceContext } from '../../core/context.ts';
import { paging } from '../../core/paging.ts';
import { requireIdOrNotFound, requireName } from '../../core/validate.ts';
import { requireDescription } from '../../firewall/fields.ts';
import { orchestrationVlanTemplates } from '../../store/schema/orchestration.ts';
import { optionalSubnet, requireLiveSite, requireVlanId } from './fields.ts';
import { createVlan, type Preset, type VlanInput, type VlanView } from './vlans.ts';

type TemplateRow = typeof orchestrationVlanTemplates.$inferSelect;
type TemplateView = Omit<TemplateRow, 'orgId'>;

function view(row: TemplateRow): TemplateView {
  const { orgId: _org, ...rest } = row;
  return rest;
}

export interface TemplateInput {
  name?: unknown;
  description?: unknown;
  vlan_id?: unknown;
  vlan_name?: unknown;
  ipv4_subnet?: unknown;
  ipv6_subnet?: unknown;
}

function parse(input: TemplateInput): Partial<TemplateRow> {
  const out: Partial<TemplateRow> = {};
  if (input.name !== undefined) out.name = requireName('name', input.name);
  if (input.description !== undefined) out.description = requireDescription('description', input.description);
  if (input.vlan_id !== undefined) out.vlanId = requireVlanId('vlan_id', input.vlan_id);
  if (input.vlan_name !== undefined) out.vlanName = requireName('vlan_name', input.vlan_name);
  if (input.ipv4_subnet !== undefined) out.ipv4Subnet = optionalSubnet('ipv4_subnet', input.ipv4_subnet, 4);
  if (input.ipv6_subnet !== undefined) out.ipv6Subnet = optionalSubnet('ipv6_subnet', input.ipv6_subnet, 6);
  return out;
}

async function checkName(ctx: ServiceContext, row: TemplateRow): Promise<void> {
  const t = orchestrationVlanTemplates;
  const [clash] = await ctx.db
    .select({ id: t.id })
    .from(t)
    .where(and(eq(t.orgId, ctx.orgId), eq(t.name, row.name), ne(t.id, row.id)));
  if (clash) throw new ValidationError('name', `name "${row.name}" is already a template`);
}

async function write(ctx: ServiceContext, action: 'create' | 'update' | 'delete', before: TemplateRow | null, after: TemplateRow | null) {
  await record(ctx.db, {
    orgId: ctx.orgId,
    actor: ctx.actor,
    action: `vlan_template.${action}`,
    targetType: 'vlan_template',
    targetId: (after ?? before)?.id ?? null,
    ...(before ? { before: view(before) } : {}),
    ...(after ? { after: view(after) } : {}),
  });
}

export async function createTemplate(ctx: ServiceContext, input: TemplateInput, preset?: Preset): Promise<TemplateView> {
  for (const field of ['name', 'vlan_id', 'vlan_name'] as const) {
    if (input[field] === undefined) throw new ValidationError(field, `${field} is required`);
  }
  const fields = parse(input);
  return inTransaction(ctx, async (tx) => {
    const row: TemplateRow = {
      id: randomUUID(),
      orgId: tx.orgId,
      name: fields.name as string,
      description: fields.description ?? '',
      vlanId: fields.vlanId as number,
      vlanName: fields.vlanName as string,
      ipv4Subnet: fields.ipv4Subnet ?? null,
      ipv6Subnet: fields.ipv6Subnet ?? null,
      createdAt: tx.now(),
      updatedAt: tx.now(),
      ...preset,
    };
    await checkName(tx, row);
    await tx.db.insert(orchestrationVlanTemplates).values(row);
    await write(tx, 'create', null, row);
    return view(row);
  });
}

async function findTemplate(ctx: ServiceContext, id: string): Promise<TemplateRow> {
  requireIdOrNotFound('VLAN template', id);
  const [row] = await ctx.db
    .select()
    .from(orchestrationVlanTemplates)
    .where(and(eq(orchestrationVlanTemplates.id, id.toLowerCase()), eq(orchestrationVlanTemplates.orgId, ctx.orgId)));
  if (!row) throw new NotFoundError('VLAN template', id);
  return row;
}

export async function listTemplates(
  ctx: ServiceContext,
  options: { limit?: number; offset?: number } = {},
): Promise<TemplateView[]> {
  const { limit, offset } = paging(options);
  const t = orchestrationVlanTemplates;
  const rows = await ctx.db.select().from(t).where(eq(t.orgId, ctx.orgId)).orderBy(asc(t.name)).limit(limit).offset(offset);
  return rows.map(view);
}

export async function updateTemplate(ctx: ServiceContext, id: string, input: TemplateInput): Promise<TemplateView> {
  const changes = parse(input);
  return inTransaction(ctx, async (tx) => {
    const before = await findTemplate(tx, id);
    const after: TemplateRow = { ...before, ...changes, updatedAt: tx.now() };
    await checkName(tx, after);
    await tx.db.update(orchestrationVlanTemplates).set(after).where(eq(orchestrationVlanTemplates.id, before.id));
    await write(tx, 'update', before, after);
    return view(after);
  });
}

/** Deletes the template; VLANs made from it stay (their `template_id` keeps the old id). */
export async function deleteTemplate(ctx: ServiceContext, id: string): Promise<void> {
  await inTransaction(ctx, async (tx) => {
    const before = await findTemplate(tx, id);
    await tx.db.delete(orchestrationVlanTemplates).where(eq(orchestrationVlanTemplates.id, before.id));
    await write(tx, 'delete', before, null);
  });
}

/** Creates a canonical VLAN at `siteId` from the template, `overrides` replacing its values. */
export async function applyTemplate(
  ctx: ServiceContext,
  id: string,
  siteId: string,
  overrides: VlanInput = {},
): Promise<VlanView> {
  const template = await findTemplate(ctx, id);
  // The site is in the path: a missing one is a 404, not a field error.
  await requireLiveSite(ctx, siteId);
  return createVlan(
    ctx,
    {
      site_id: siteId,
      vlan_id: overrides.vlan_id ?? template.vlanId,
      name: overrides.name ?? template.vlanName,
      description: overrides.description ?? template.description,
      ipv4_subnet: overrides.ipv4_subnet !== undefined ? overrides.ipv4_subnet : template.ipv4Subnet,
      ipv6_subnet: overrides.ipv6_subnet !== undefined ? overrides.ipv6_subnet : template.ipv6Subnet,
    },
    template.id,
  );
}
