/**
 * @module Create and update for the org's named, described objects (groups, sites): the same input rules, the same
 * "already exists" conflict and one audit row each. Each kind supplies its own statements (sites are soft-deleted
 * and audit under their own id as site; groups are not).
 */
import { record } from '../audit/record.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { optionalString, requireIdOrNotFound, requireName, requireString, uniquely } from '../core/validate.ts';

export interface NamedView {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface NamedChanges {
  name?: string;
  description?: string;
}

/** One kind of named object: its audit/error noun and its own insert, update and read. */
export interface NamedKind {
  type: 'group' | 'site';
  /** Whether audit rows carry the object's id as `site_id` (a site is its own site). */
  auditsAsSite: boolean;
  insert(tx: ServiceContext, values: { name: string; description: string }): Promise<NamedView[]>;
  /** Updates the live object of `tx.orgId` (stamping `updated_at`); returns it, or nothing when there is none. */
  update(tx: ServiceContext, id: string, changes: NamedChanges): Promise<NamedView[]>;
  get(tx: ServiceContext, id: string): Promise<NamedView>;
}

const DESCRIPTION_MAX = 1000;

const taken = (kind: NamedKind, name: string) => `a ${kind.type} named ${JSON.stringify(name)} already exists`;

export async function createNamed(
  ctx: ServiceContext,
  kind: NamedKind,
  input: { name: string; description?: string },
): Promise<NamedView> {
  const name = requireName('name', input.name);
  const description = optionalString('description', input.description, DESCRIPTION_MAX) ?? '';
  return inTransaction(ctx, async (tx) => {
    const [created] = await uniquely('name', taken(kind, name), () => kind.insert(tx, { name, description }));
    const view = created as NamedView;
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: `${kind.type}.create`,
      targetType: kind.type,
      targetId: view.id,
      ...(kind.auditsAsSite ? { siteId: view.id } : {}),
      after: view,
    });
    return view;
  });
}

export async function updateNamed(
  ctx: ServiceContext,
  kind: NamedKind,
  rawId: string,
  input: NamedChanges,
): Promise<NamedView> {
  const id = requireIdOrNotFound(kind.type, rawId);
  const changes: NamedChanges = {};
  if (input.name !== undefined) changes.name = requireName('name', input.name);
  if (input.description !== undefined)
    changes.description = requireString('description', input.description, { min: 0, max: DESCRIPTION_MAX });
  return inTransaction(ctx, async (tx) => {
    const before = await kind.get(tx, id);
    const [after] = await uniquely('name', taken(kind, changes.name ?? ''), () => kind.update(tx, id, changes));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: `${kind.type}.update`,
      targetType: kind.type,
      targetId: id,
      ...(kind.auditsAsSite ? { siteId: id } : {}),
      before,
      after,
    });
    return after as NamedView;
  });
}
