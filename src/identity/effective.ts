/**
 * @module Effective permissions: what a user may do, and where. The union over every binding of the user,
 * direct or through a group: a permission is granted on all sites if any binding carrying it is unlimited,
 * otherwise on the union of the bindings' site lists. A disabled or deleted user has no permissions.
 *
 * Checks: `can(p)` — org-level actions (users, roles, anything not tied to a site) need `p` on all sites;
 * `can(p, siteId)` — `p` on that site; `sitesFor(p)` — `'all'` or the site ids, to filter lists. See ADR 0006.
 */
import { and, eq, exists, inArray, isNull, or } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { groupMembers, roleBindings, roles, users } from '../store/schema/identity.ts';
import { isPermission, type Permission } from './permissions.ts';

type SiteScope = 'all' | ReadonlySet<string>;

export class EffectivePermissions {
  readonly #grants: ReadonlyMap<Permission, SiteScope>;

  constructor(grants: ReadonlyMap<Permission, SiteScope>) {
    this.#grants = grants;
  }

  static none(): EffectivePermissions {
    return new EffectivePermissions(new Map());
  }

  /** Whether `permission` is held on `siteId`, or — without a site — on every site. */
  can(permission: Permission, siteId?: string): boolean {
    const scope = this.#grants.get(permission);
    if (!scope) return false;
    if (scope === 'all') return true;
    return siteId !== undefined && scope.has(siteId.toLowerCase());
  }

  /** Whether `permission` is held anywhere (e.g. to show a menu, or before filtering a list). */
  hasAny(permission: Permission): boolean {
    return this.#grants.has(permission);
  }

  /** `'all'`, the sites where `permission` is held, or an empty list. */
  sitesFor(permission: Permission): 'all' | string[] {
    const scope = this.#grants.get(permission);
    if (!scope) return [];
    return scope === 'all' ? 'all' : [...scope].sort();
  }

  permissions(): Permission[] {
    return [...this.#grants.keys()].sort();
  }

  /**
   * At most `allowed` (an API token's list): the intersection with these rights. `null` keeps everything
   * (a token without a list acts with the owner's current rights).
   */
  restrictTo(allowed: readonly string[] | null): EffectivePermissions {
    if (allowed === null) return this;
    const keep = new Set(allowed);
    return new EffectivePermissions(
      new Map([...this.#grants].filter(([permission]) => keep.has(permission))),
    );
  }

  /** `{ "firewall.view": "all", "firewall.manage_rules": ["<site id>", …] }` for APIs and the audit log. */
  toJSON(): Record<string, 'all' | string[]> {
    return Object.fromEntries(this.permissions().map((p) => [p, this.sitesFor(p)]));
  }
}

/** One round trip: the bindings of a live, enabled user (direct and via groups) with their roles' codes. */
export async function resolvePermissions(
  db: Db,
  orgId: string,
  userId: string,
): Promise<EffectivePermissions> {
  const memberOf = db
    .select({ groupId: groupMembers.groupId })
    .from(groupMembers)
    .where(eq(groupMembers.userId, userId));
  const liveUser = db
    .select({ id: users.id })
    .from(users)
    .where(
      and(eq(users.id, userId), eq(users.orgId, orgId), isNull(users.deletedAt), eq(users.disabled, false)),
    );
  const rows = await db
    .select({ permissions: roles.permissions, siteIds: roleBindings.siteIds })
    .from(roleBindings)
    .innerJoin(roles, eq(roles.id, roleBindings.roleId))
    .where(
      and(
        eq(roleBindings.orgId, orgId),
        or(eq(roleBindings.userId, userId), inArray(roleBindings.groupId, memberOf)),
        exists(liveUser),
      ),
    );
  const grants = new Map<Permission, 'all' | Set<string>>();
  for (const row of rows) {
    for (const code of row.permissions) {
      if (!isPermission(code)) continue; // a code retired from the catalog grants nothing
      const current = grants.get(code);
      if (current === 'all') continue;
      if (row.siteIds === null) {
        grants.set(code, 'all');
        continue;
      }
      const merged = current ?? new Set<string>();
      for (const site of row.siteIds) merged.add(site);
      grants.set(code, merged);
    }
  }
  return new EffectivePermissions(grants);
}
