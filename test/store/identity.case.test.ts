/**
 * @module The store + identity + audit behaviour suite, written once and run on every store kind
 * (identity.pglite.test.ts, identity.postgres.test.ts). Each test gets a fresh store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { query as queryAudit } from '../../src/audit/query.ts';
import type { Actor } from '../../src/audit/record.ts';
import {
  AuthenticationError,
  ConflictError,
  type DomainError,
  NotFoundError,
  RateLimitedError,
  ValidationError,
} from '../../src/errors.ts';
import {
  addGroupMember,
  authenticateApiToken,
  beginTotpEnrollment,
  builtinRoleIds,
  changePassword,
  confirmTotpEnrollment,
  countActiveOwners,
  createApiToken,
  createGroup,
  createRole,
  createRoleBinding,
  createSession,
  createSite,
  createUser,
  deleteGroup,
  deleteRole,
  deleteRoleBinding,
  deleteUser,
  disableUser,
  ensureOwner,
  getUser,
  inTransaction,
  listGroupMembers,
  listRoleBindings,
  listSites,
  listUsers,
  login,
  removeGroupMember,
  resolvePermissions,
  revokeApiToken,
  revokeSession,
  type ServiceContext,
  setPassword,
  totpCode,
  updateRole,
  updateUser,
  validateSession,
  verifyCsrf,
} from '../../src/identity/index.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import { reencryptAll } from '../../src/secrets/reencrypt.ts';
import type { OpenedStore } from '../../src/store/open.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { testContext } from '../helpers/store.ts';

const PASSWORD = 'correct horse battery';

/** Runs `action` and returns the DomainError it throws (fails the test when it does not throw one). */
async function domainError(action: Promise<unknown>): Promise<DomainError> {
  try {
    await action;
  } catch (err) {
    if (err instanceof Error && 'status' in err && 'code' in err) return err as DomainError;
    throw err;
  }
  throw new Error('expected a DomainError, but the call succeeded');
}

/**
 * Tables allowed to lack `org_id`, each with the reason. Anything else without it fails the schema test
 * (issue 2: every table that holds tenant data carries `org_id`).
 */
const TABLES_WITHOUT_ORG_ID: Record<string, string> = {
  orgs: 'the tenant table itself',
  login_throttle: 'keys are per user name or IP before any org is known; no tenant data',
  cluster_nodes: 'the server processes on the store, shared by every org; no tenant data',
  cluster_leases: 'which process holds which piece of work; no tenant data (the cluster view filters by org)',
  audit_syslog_cursor: 'the syslog forwarder\'s position in the whole audit log, shared by every org (ADR 0237)',
};

export function runIdentitySuite(open: () => Promise<OpenedStore>): void {
  let store: OpenedStore;
  let ctx: ServiceContext;
  let clock: Date;

  beforeEach(async () => {
    store = await open();
    clock = new Date('2026-06-01T12:00:00Z');
    ctx = testContext(store, { now: () => clock });
  });
  afterEach(async () => {
    await store.close();
  });

  const count = async (table: string) =>
    ((await store.query<{ n: number }>(`select count(*)::int as n from ${table}`))[0] as { n: number }).n;
  const asUser = (userId: string, name: string): ServiceContext => ({
    ...ctx,
    actor: { type: 'user', id: userId, name, sourceIp: '192.0.2.10', requestId: 'req-1' } satisfies Actor,
  });

  describe('schema', () => {
    it('has the default org and built-in roles', async () => {
      expect(await store.query('select id, name from orgs')).toEqual([
        { id: DEFAULT_ORG_ID, name: 'default' },
      ]);
      expect([...(await builtinRoleIds(store.db, DEFAULT_ORG_ID)).keys()].sort()).toEqual([
        'admin',
        'operator',
        'owner',
        'viewer',
      ]);
    });

    it('carries org_id on every tenant table (exceptions listed with their reason)', async () => {
      const rows = await store.query<{ table_name: string }>(
        `select table_name from information_schema.tables t where table_schema = 'public'
           and not exists (select 1 from information_schema.columns c
                            where c.table_schema = 'public' and c.table_name = t.table_name and c.column_name = 'org_id')
         order by table_name`,
      );
      expect(rows.map((r) => r.table_name).filter((name) => !(name in TABLES_WITHOUT_ORG_ID))).toEqual([]);
    });
  });

  describe('users', () => {
    it('creates a user without exposing the password hash, and audits it', async () => {
      const user = await createUser(ctx, { username: 'Alice', password: PASSWORD, displayName: 'Alice A' });
      expect(user).toMatchObject({
        username: 'alice',
        displayName: 'Alice A',
        disabled: false,
        totpEnabled: false,
      });
      expect(Object.keys(user)).not.toContain('passwordHash');
      const [entry] = (await queryAudit(store.db, DEFAULT_ORG_ID, { action: 'user.create' })).items;
      expect(entry).toMatchObject({
        targetType: 'user',
        targetId: user.id,
        actorType: 'system',
        outcome: 'success',
      });
      expect(JSON.stringify(entry?.after)).not.toContain('scrypt$');
    });

    it.each([
      { name: 'short password', input: { username: 'bob', password: 'short' }, field: 'password' },
      { name: 'password not a string', input: { username: 'bob', password: 12 }, field: 'password' },
      { name: 'empty username', input: { username: '', password: PASSWORD }, field: 'username' },
      {
        name: 'username with space',
        input: { username: 'bob smith', password: PASSWORD },
        field: 'username',
      },
      {
        name: 'username too long',
        input: { username: 'b'.repeat(65), password: PASSWORD },
        field: 'username',
      },
      { name: 'bad email', input: { username: 'bob', password: PASSWORD, email: 'nope' }, field: 'email' },
      {
        name: 'disabled not boolean',
        input: { username: 'bob', password: PASSWORD, disabled: 'yes' },
        field: 'disabled',
      },
    ])('rejects $name naming field $field, writing nothing', async ({ input, field }) => {
      const err = await domainError(createUser(ctx, input as never));
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.field).toBe(field);
      expect(await count('users')).toBe(0);
      expect(await count('audit_log')).toBe(0);
    });

    it('refuses a duplicate username (any case) with a conflict on username', async () => {
      await createUser(ctx, { username: 'carol', password: PASSWORD });
      const err = await domainError(createUser(ctx, { username: 'CAROL', password: PASSWORD }));
      expect(err).toBeInstanceOf(ConflictError);
      expect(err.field).toBe('username');
    });

    it('soft-deletes: the user disappears, the username is reusable, the row stays', async () => {
      const first = await createUser(ctx, { username: 'dave', password: PASSWORD });
      await deleteUser(ctx, first.id);
      await expect(getUser(ctx, first.id)).rejects.toBeInstanceOf(NotFoundError);
      const second = await createUser(ctx, { username: 'dave', password: PASSWORD });
      expect(second.id).not.toBe(first.id);
      expect(await count('users')).toBe(2);
      expect((await listUsers(ctx)).map((u) => u.id)).toEqual([second.id]);
    });

    it('answers 404 for ids that are not UUIDs instead of a database error', async () => {
      await expect(getUser(ctx, 'not-a-uuid')).rejects.toBeInstanceOf(NotFoundError);
      await expect(updateUser(ctx, "1' or 1=1 --", { displayName: 'x' })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });

    it('lists with search and paging', async () => {
      for (const name of ['erin', 'frank', 'erik'])
        await createUser(ctx, { username: name, password: PASSWORD });
      expect((await listUsers(ctx, { search: 'eri' })).map((u) => u.username)).toEqual(['erik', 'erin']);
      expect((await listUsers(ctx, { limit: 1, offset: 1 })).map((u) => u.username)).toEqual(['erin']);
      expect((await domainError(listUsers(ctx, { limit: 0 }))).field).toBe('limit');
    });

    it('prevents a user from deleting their own account', async () => {
      const user = await createUser(ctx, { username: 'gina', password: PASSWORD });
      await expect(deleteUser(asUser(user.id, 'gina'), user.id)).rejects.toBeInstanceOf(ConflictError);
    });
  });

  describe('owner lock-out protection', () => {
    it('refuses to delete, disable or unbind the last active owner; allows it once another owner exists', async () => {
      const boot = await ensureOwner({
        db: store.db,
        keyring: ctx.keyring,
        env: { PORTCULLIS_BOOTSTRAP_ADMIN: 'boss:correct horse battery' },
      });
      if (!boot.created) throw new Error('expected an owner');
      const [binding] = await listRoleBindings(ctx, { userId: boot.userId });
      for (const attempt of [
        () => deleteUser(ctx, boot.userId),
        () => disableUser(ctx, boot.userId),
        () => deleteRoleBinding(ctx, binding?.id as string),
      ]) {
        const err = await domainError(attempt());
        expect(err).toBeInstanceOf(ConflictError);
        expect(err.message).toContain('without an active owner');
      }
      expect((await getUser(ctx, boot.userId)).disabled).toBe(false);
      expect(await countActiveOwners(store.db, DEFAULT_ORG_ID)).toBe(1);

      // An owner through a group counts.
      const second = await createUser(ctx, { username: 'deputy', password: PASSWORD });
      const owners = await createGroup(ctx, { name: 'owners' });
      await addGroupMember(ctx, owners.id, second.id);
      await createRoleBinding(ctx, {
        roleId: (await builtinRoleIds(store.db, DEFAULT_ORG_ID)).get('owner') as string,
        groupId: owners.id,
      });
      expect(await countActiveOwners(store.db, DEFAULT_ORG_ID)).toBe(2);
      await deleteUser(ctx, boot.userId);
      await expect(removeGroupMember(ctx, owners.id, second.id)).rejects.toBeInstanceOf(ConflictError);
      await expect(deleteGroup(ctx, owners.id)).rejects.toBeInstanceOf(ConflictError);
    });

    it('lets a user change their own password only with the current one', async () => {
      const user = await createUser(ctx, { username: 'zed', password: PASSWORD });
      expect(
        (await domainError(changePassword(ctx, user.id, 'not the password', 'a brand new password'))).field,
      ).toBe('current_password');
      await changePassword(ctx, user.id, PASSWORD, 'a brand new password');
      await login(ctx, { username: 'zed', password: 'a brand new password' });
    });
  });

  describe('transactions', () => {
    it('a failure mid-way leaves no rows, audit entries included', async () => {
      await expect(
        inTransaction(ctx, async (tx) => {
          await createUser(tx, { username: 'harry', password: PASSWORD });
          await createGroup(tx, { name: 'ops' });
          throw new Error('crash after two writes');
        }),
      ).rejects.toThrow('crash after two writes');
      expect(await count('users')).toBe(0);
      expect(await count('groups')).toBe(0);
      expect(await count('audit_log')).toBe(0);
    });

    it('a binding to an unknown site writes neither the binding nor its audit entry', async () => {
      const user = await createUser(ctx, { username: 'ivy', password: PASSWORD });
      const roles = await builtinRoleIds(store.db, DEFAULT_ORG_ID);
      const site = await createSite(ctx, { name: 'HQ' });
      const err = await domainError(
        createRoleBinding(ctx, {
          roleId: roles.get('viewer') as string,
          userId: user.id,
          siteIds: [site.id, '00000000-0000-4000-8000-00000000dead'],
        }),
      );
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.field).toBe('site_ids.1');
      expect(await count('role_bindings')).toBe(0);
      expect((await queryAudit(store.db, DEFAULT_ORG_ID, { action: 'role_binding.*' })).items).toEqual([]);
    });
  });

  describe('groups, roles and effective permissions', () => {
    it('resolves the union of direct and group bindings, with site limits', async () => {
      const user = await createUser(ctx, { username: 'jack', password: PASSWORD });
      const [siteA, siteB, siteC] = [
        await createSite(ctx, { name: 'A' }),
        await createSite(ctx, { name: 'B' }),
        await createSite(ctx, { name: 'C' }),
      ];
      const roles = await builtinRoleIds(store.db, DEFAULT_ORG_ID);
      const group = await createGroup(ctx, { name: 'net-ops' });
      await addGroupMember(ctx, group.id, user.id);
      await createRoleBinding(ctx, { roleId: roles.get('viewer') as string, userId: user.id });
      await createRoleBinding(ctx, {
        roleId: roles.get('operator') as string,
        groupId: group.id,
        siteIds: [siteA.id],
      });
      await createRoleBinding(ctx, {
        roleId: roles.get('operator') as string,
        userId: user.id,
        siteIds: [siteB.id],
      });

      const rights = await resolvePermissions(store.db, DEFAULT_ORG_ID, user.id);
      expect(rights.can('firewall.view')).toBe(true);
      expect(rights.can('firewall.view', siteC.id)).toBe(true);
      expect(rights.can('firewall.manage_rules', siteA.id)).toBe(true);
      expect(rights.can('firewall.manage_rules', siteB.id)).toBe(true);
      expect(rights.can('firewall.manage_rules', siteC.id)).toBe(false);
      expect(rights.can('firewall.manage_rules')).toBe(false);
      expect(rights.sitesFor('firewall.manage_rules')).toEqual([siteA.id, siteB.id].sort());
      expect(rights.can('users.manage')).toBe(false);

      await removeGroupMember(ctx, group.id, user.id);
      const after = await resolvePermissions(store.db, DEFAULT_ORG_ID, user.id);
      expect(after.sitesFor('firewall.manage_rules')).toEqual([siteB.id]);
      expect(await listGroupMembers(ctx, group.id)).toEqual([]);
    });

    it('gives nothing to a disabled user, and deleting a group drops its bindings', async () => {
      const user = await createUser(ctx, { username: 'kate', password: PASSWORD });
      const group = await createGroup(ctx, { name: 'admins' });
      const roles = await builtinRoleIds(store.db, DEFAULT_ORG_ID);
      await addGroupMember(ctx, group.id, user.id);
      await createRoleBinding(ctx, { roleId: roles.get('admin') as string, groupId: group.id });
      expect((await resolvePermissions(store.db, DEFAULT_ORG_ID, user.id)).can('firewall.admin')).toBe(true);
      await disableUser(ctx, user.id);
      expect((await resolvePermissions(store.db, DEFAULT_ORG_ID, user.id)).permissions()).toEqual([]);
      await updateUser(ctx, user.id, { disabled: false });
      await deleteGroup(ctx, group.id);
      expect(await listRoleBindings(ctx)).toEqual([]);
      expect((await resolvePermissions(store.db, DEFAULT_ORG_ID, user.id)).permissions()).toEqual([]);
    });

    it('validates custom roles against the catalog and keeps built-ins immutable', async () => {
      const err = await domainError(
        createRole(ctx, { name: 'auditor', permissions: ['audit.view', 'audit.delete'] }),
      );
      expect(err.field).toBe('permissions.1');
      const role = await createRole(ctx, { name: 'auditor', permissions: ['audit.view', 'audit.view'] });
      expect(role.permissions).toEqual(['audit.view']);
      const owner = (await builtinRoleIds(store.db, DEFAULT_ORG_ID)).get('owner') as string;
      await expect(updateRole(ctx, owner, { permissions: [] })).rejects.toBeInstanceOf(ConflictError);
      await expect(deleteRole(ctx, owner)).rejects.toBeInstanceOf(ConflictError);
      const user = await createUser(ctx, { username: 'liam', password: PASSWORD });
      const binding = await createRoleBinding(ctx, { roleId: role.id, userId: user.id });
      expect(binding).toMatchObject({ roleName: 'auditor', siteIds: null });
      await deleteRoleBinding(ctx, binding.id);
      await createRoleBinding(ctx, { roleId: role.id, userId: user.id });
      await deleteRole(ctx, role.id);
      expect(await listRoleBindings(ctx, { userId: user.id })).toEqual([]);
    });

    it('requires exactly one subject on a binding', async () => {
      const roles = await builtinRoleIds(store.db, DEFAULT_ORG_ID);
      const err = await domainError(createRoleBinding(ctx, { roleId: roles.get('viewer') as string }));
      expect(err.field).toBe('user_id');
    });

    it('filters site lists by scope', async () => {
      const a = await createSite(ctx, { name: 'Alpha' });
      await createSite(ctx, { name: 'Beta' });
      expect((await listSites(ctx, { scope: [a.id] })).map((s) => s.name)).toEqual(['Alpha']);
      expect(await listSites(ctx, { scope: [] })).toEqual([]);
      expect((await listSites(ctx)).length).toBe(2);
    });
  });

  describe('sessions', () => {
    it('validates a session and its CSRF token; ends it on logout', async () => {
      const user = await createUser(ctx, { username: 'mia', password: PASSWORD });
      const session = await createSession(ctx, user.id, { sourceIp: '192.0.2.1' });
      const valid = await validateSession(store.db, session.secret, clock);
      expect(valid).toMatchObject({ userId: user.id, username: 'mia' });
      expect(verifyCsrf(valid, session.csrfToken)).toBe(true);
      expect(verifyCsrf(valid, `${session.csrfToken}x`)).toBe(false);
      expect(verifyCsrf(valid, undefined)).toBe(false);
      const stored = await store.query('select token_hash, csrf_hash from sessions');
      expect(JSON.stringify(stored)).not.toContain(session.secret);
      await revokeSession(ctx, session.id);
      await expect(validateSession(store.db, session.secret, clock)).rejects.toMatchObject({
        code: 'session_invalid',
      });
    });

    it('expires at expiresAt', async () => {
      const user = await createUser(ctx, { username: 'noah', password: PASSWORD });
      const session = await createSession(ctx, user.id, { ttlSeconds: 60 });
      await validateSession(store.db, session.secret, new Date(clock.getTime() + 59_000));
      await expect(
        validateSession(store.db, session.secret, new Date(clock.getTime() + 60_000)),
      ).rejects.toBeInstanceOf(AuthenticationError);
    });

    it.each([
      {
        name: 'password change',
        end: (c: ServiceContext, id: string) => setPassword(c, id, 'another long password'),
      },
      { name: 'disable', end: (c: ServiceContext, id: string) => disableUser(c, id).then(() => {}) },
      { name: 'delete', end: (c: ServiceContext, id: string) => deleteUser(c, id) },
    ])('ends every session on $name', async ({ end }) => {
      const user = await createUser(ctx, { username: 'olga', password: PASSWORD });
      const one = await createSession(ctx, user.id);
      const two = await createSession(ctx, user.id);
      await end(ctx, user.id);
      for (const s of [one, two]) {
        await expect(validateSession(store.db, s.secret, clock)).rejects.toMatchObject({
          code: 'session_invalid',
        });
      }
    });
  });

  describe('API tokens', () => {
    async function operatorOn(siteName: string) {
      const user = await createUser(ctx, { username: `op-${siteName.toLowerCase()}`, password: PASSWORD });
      const site = await createSite(ctx, { name: siteName });
      const roles = await builtinRoleIds(store.db, DEFAULT_ORG_ID);
      const binding = await createRoleBinding(ctx, {
        roleId: roles.get('operator') as string,
        userId: user.id,
        siteIds: [site.id],
      });
      return { user, site, binding };
    }

    it('is shown once, stored hashed, and acts with at most its own list and the owner rights', async () => {
      const { user, site } = await operatorOn('Lab');
      const { token, record } = await createApiToken(ctx, {
        userId: user.id,
        name: 'ci',
        permissions: ['firewall.view', 'firewall.manage_rules'],
      });
      expect(token).toMatch(/^pc_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
      expect(JSON.stringify(await store.query('select * from api_tokens'))).not.toContain(
        // The 43-character secret (base64url, so it may itself contain `_`).
        token.slice(-43),
      );
      const auth = await authenticateApiToken(store.db, token, clock);
      expect(auth.user).toMatchObject({ id: user.id, username: user.username });
      expect(auth.token.id).toBe(record.id);
      expect(auth.permissions.permissions()).toEqual(['firewall.manage_rules', 'firewall.view']);
      expect(auth.permissions.can('firewall.manage_rules', site.id)).toBe(true);
      expect(auth.permissions.can('firewall.manage_nat', site.id)).toBe(false);
      const [row] = await store.query<{ last_used_at: Date | null }>('select last_used_at from api_tokens');
      expect(row?.last_used_at).not.toBeNull();
    });

    it('loses rights when the owner loses them', async () => {
      const { user, binding } = await operatorOn('Edge');
      const { token } = await createApiToken(ctx, { userId: user.id, name: 'full' });
      expect(
        (await authenticateApiToken(store.db, token, clock)).permissions.hasAny('firewall.manage_rules'),
      ).toBe(true);
      await deleteRoleBinding(ctx, binding.id);
      expect((await authenticateApiToken(store.db, token, clock)).permissions.permissions()).toEqual([]);
    });

    it('cannot be created with permissions the owner lacks', async () => {
      const { user } = await operatorOn('Core');
      const err = await domainError(
        createApiToken(ctx, {
          userId: user.id,
          name: 'greedy',
          permissions: ['firewall.view', 'users.manage'],
        }),
      );
      expect(err.field).toBe('permissions.1');
      expect(await count('api_tokens')).toBe(0);
    });

    it.each([
      { name: 'malformed', mutate: () => 'Bearer nope' },
      { name: 'wrong secret', mutate: (t: string) => `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}` },
      { name: 'unknown prefix', mutate: (t: string) => `pc_aaaaaaaaaaaa_${t.slice(-43)}` },
    ])('rejects a $name token as token_invalid', async ({ mutate }) => {
      const { user } = await operatorOn('Dmz');
      const { token } = await createApiToken(ctx, { userId: user.id, name: 't' });
      await expect(authenticateApiToken(store.db, mutate(token), clock)).rejects.toMatchObject({
        code: 'token_invalid',
      });
    });

    it('stops working once revoked, expired, or its owner is deleted', async () => {
      const { user } = await operatorOn('Branch');
      const revoked = await createApiToken(ctx, { userId: user.id, name: 'r' });
      await revokeApiToken(ctx, revoked.record.id);
      await expect(authenticateApiToken(store.db, revoked.token, clock)).rejects.toMatchObject({
        code: 'token_invalid',
      });
      const expiring = await createApiToken(ctx, {
        userId: user.id,
        name: 'e',
        expiresAt: new Date(clock.getTime() + 1000),
      });
      await authenticateApiToken(store.db, expiring.token, clock);
      await expect(
        authenticateApiToken(store.db, expiring.token, new Date(clock.getTime() + 1000)),
      ).rejects.toBeInstanceOf(AuthenticationError);
      const orphan = await createApiToken(ctx, { userId: user.id, name: 'o' });
      await deleteUser(ctx, user.id);
      await expect(authenticateApiToken(store.db, orphan.token, clock)).rejects.toMatchObject({
        code: 'token_invalid',
      });
      expect((await domainError(createApiToken(ctx, { userId: user.id, name: 'x' }))).status).toBe(404);
    });

    it('refuses an expiry in the past', async () => {
      const { user } = await operatorOn('Past');
      const err = await domainError(
        createApiToken(ctx, { userId: user.id, name: 'p', expiresAt: new Date(0) }),
      );
      expect(err.field).toBe('expires_at');
    });
  });

  describe('login', () => {
    const limits = { perUser: 3, perIp: 5, windowSeconds: 600 };

    it('signs in, creating a session and a success audit entry', async () => {
      const user = await createUser(ctx, { username: 'paula', password: PASSWORD });
      const result = await login(ctx, { username: 'Paula', password: PASSWORD, sourceIp: '198.51.100.7' });
      expect(result.user.id).toBe(user.id);
      await validateSession(store.db, result.session.secret, clock);
      const [entry] = (
        await queryAudit(store.db, DEFAULT_ORG_ID, { action: 'auth.login', outcome: 'success' })
      ).items;
      expect(entry).toMatchObject({ actorId: user.id, sourceIp: '198.51.100.7', outcome: 'success' });
    });

    it('answers identically for an unknown user, a wrong password and a disabled account', async () => {
      const user = await createUser(ctx, { username: 'quinn', password: PASSWORD });
      await createUser(ctx, { username: 'rita', password: PASSWORD, disabled: true });
      const errors = [
        await domainError(login(ctx, { username: 'nobody', password: PASSWORD })),
        await domainError(login(ctx, { username: 'quinn', password: 'wrong password!' })),
        await domainError(login(ctx, { username: 'rita', password: PASSWORD })),
      ];
      for (const err of errors) {
        expect(err).toBeInstanceOf(AuthenticationError);
        expect({ code: err.code, message: err.message }).toEqual({
          code: 'invalid_credentials',
          message: 'Invalid username or password',
        });
      }
      const failures = await queryAudit(store.db, DEFAULT_ORG_ID, {
        action: 'auth.login',
        outcome: 'failure',
      });
      expect(failures.items).toHaveLength(3);
      expect(failures.items.some((e) => e.actorId === user.id)).toBe(true);
    });

    it('throttles per user, even with the right password, until the window ends', async () => {
      await createUser(ctx, { username: 'sam', password: PASSWORD });
      for (let i = 0; i < limits.perUser; i++) {
        await expect(
          login(ctx, { username: 'sam', password: 'wrong password!' }, { throttle: limits }),
        ).rejects.toBeInstanceOf(AuthenticationError);
      }
      const limited = await domainError(
        login(ctx, { username: 'sam', password: PASSWORD }, { throttle: limits }),
      );
      expect(limited).toBeInstanceOf(RateLimitedError);
      expect((limited as RateLimitedError).retryAfterSeconds).toBe(600);
      clock = new Date(clock.getTime() + 600_000);
      await login(ctx, { username: 'sam', password: PASSWORD }, { throttle: limits });
    });

    it('throttles per source IP across usernames', async () => {
      for (let i = 0; i < limits.perIp; i++) {
        await expect(
          login(
            ctx,
            { username: `ghost${i}`, password: 'whatever pw', sourceIp: '203.0.113.9' },
            { throttle: limits },
          ),
        ).rejects.toBeInstanceOf(AuthenticationError);
      }
      await createUser(ctx, { username: 'tess', password: PASSWORD });
      await expect(
        login(ctx, { username: 'tess', password: PASSWORD, sourceIp: '203.0.113.9' }, { throttle: limits }),
      ).rejects.toBeInstanceOf(RateLimitedError);
      await login(
        ctx,
        { username: 'tess', password: PASSWORD, sourceIp: '203.0.113.10' },
        { throttle: limits },
      );
    });

    it('names the field for malformed input', async () => {
      expect((await domainError(login(ctx, { username: '', password: 'x' }))).field).toBe('username');
      expect((await domainError(login(ctx, { username: 'a', password: 7 as never }))).field).toBe('password');
    });

    it('requires a valid, unused TOTP code once TOTP is active', async () => {
      const user = await createUser(ctx, { username: 'uma', password: PASSWORD });
      const { secret, otpauthUri } = await beginTotpEnrollment(ctx, user.id);
      expect(otpauthUri).toContain(`secret=${secret}`);
      expect(JSON.stringify(await store.query('select totp_secret_enc from users'))).not.toContain(secret);
      expect((await domainError(confirmTotpEnrollment(ctx, user.id, '000000'))).field).toBe('code');
      await confirmTotpEnrollment(ctx, user.id, totpCode(secret, clock));
      expect((await getUser(ctx, user.id)).totpEnabled).toBe(true);

      // The code used to confirm cannot be replayed at sign-in.
      expect((await domainError(login(ctx, { username: 'uma', password: PASSWORD }))).code).toBe(
        'totp_required',
      );
      expect(
        (
          await domainError(
            login(ctx, { username: 'uma', password: PASSWORD, totpCode: totpCode(secret, clock) }),
          )
        ).code,
      ).toBe('invalid_totp');
      clock = new Date(clock.getTime() + 30_000);
      const code = totpCode(secret, clock);
      await login(ctx, { username: 'uma', password: PASSWORD, totpCode: code });
      expect(
        (await domainError(login(ctx, { username: 'uma', password: PASSWORD, totpCode: code }))).code,
      ).toBe('invalid_totp');
    });
  });

  describe('bootstrap', () => {
    it('creates the owner from PORTCULLIS_BOOTSTRAP_ADMIN once, then never again', async () => {
      const env = { PORTCULLIS_BOOTSTRAP_ADMIN: 'root:a:password with colons' };
      const first = await ensureOwner({ db: store.db, keyring: ctx.keyring, env });
      expect(first).toMatchObject({ created: true, username: 'root', generatedPassword: null });
      const { user } = await login(ctx, { username: 'root', password: 'a:password with colons' });
      const rights = await resolvePermissions(store.db, DEFAULT_ORG_ID, user.id);
      expect(rights.can('users.manage')).toBe(true);
      expect(rights.can('audit.view')).toBe(true);
      expect(await ensureOwner({ db: store.db, keyring: ctx.keyring, env })).toEqual({ created: false });
      expect(await ensureOwner({ db: store.db, keyring: ctx.keyring, env: {} })).toEqual({ created: false });
    });

    it('creates exactly one owner when several nodes start together', async () => {
      const env = { PORTCULLIS_BOOTSTRAP_ADMIN: 'root:correct horse battery' };
      const results = await Promise.all(
        [1, 2, 3].map(() => ensureOwner({ db: store.db, keyring: ctx.keyring, env })),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(await count('users')).toBe(1);
      expect(await count('role_bindings')).toBe(1);
    });

    it('generates a random password when no admin is configured, returned once', async () => {
      const result = await ensureOwner({ db: store.db, keyring: ctx.keyring, env: {} });
      if (!result.created || !result.generatedPassword) throw new Error('expected a generated owner');
      expect(result.username).toBe('admin');
      expect(result.generatedPassword.length).toBeGreaterThanOrEqual(20);
      await login(ctx, { username: 'admin', password: result.generatedPassword });
      expect(JSON.stringify(await store.query('select * from audit_log'))).not.toContain(
        result.generatedPassword,
      );
      expect(await ensureOwner({ db: store.db, keyring: ctx.keyring, env: {} })).toEqual({ created: false });
    });

    it('rejects a malformed or weak bootstrap admin clearly', async () => {
      await expect(
        ensureOwner({ db: store.db, keyring: ctx.keyring, env: { PORTCULLIS_BOOTSTRAP_ADMIN: 'nocolon' } }),
      ).rejects.toThrow('PORTCULLIS_BOOTSTRAP_ADMIN: must be "username:password"');
      await expect(
        ensureOwner({ db: store.db, keyring: ctx.keyring, env: { PORTCULLIS_BOOTSTRAP_ADMIN: 'x:short' } }),
      ).rejects.toThrow(/PORTCULLIS_BOOTSTRAP_ADMIN: password must be at least/);
      expect(await count('users')).toBe(0);
    });
  });

  describe('audit query', () => {
    it('filters by actor, target, outcome, time, and pages with a cursor', async () => {
      const actorUser = await createUser(ctx, { username: 'vera', password: PASSWORD });
      const as = asUser(actorUser.id, 'vera');
      const made = [];
      for (const name of ['s1', 's2', 's3', 's4', 's5']) made.push(await createSite(as, { name }));
      const byActor = await queryAudit(store.db, DEFAULT_ORG_ID, { actorId: actorUser.id, limit: 2 });
      expect(byActor.items.map((e) => e.targetId)).toEqual([made[4]?.id, made[3]?.id]);
      expect(byActor.items[0]).toMatchObject({
        actorName: 'vera',
        requestId: 'req-1',
        sourceIp: '192.0.2.10',
      });
      const next = await queryAudit(store.db, DEFAULT_ORG_ID, {
        actorId: actorUser.id,
        limit: 2,
        cursor: byActor.nextCursor as number,
      });
      expect(next.items.map((e) => e.targetId)).toEqual([made[2]?.id, made[1]?.id]);
      const last = await queryAudit(store.db, DEFAULT_ORG_ID, {
        actorId: actorUser.id,
        limit: 2,
        cursor: next.nextCursor as number,
      });
      expect(last).toMatchObject({ nextCursor: null });
      expect(last.items).toHaveLength(1);
      expect((await queryAudit(store.db, DEFAULT_ORG_ID, { siteId: made[0]?.id })).items).toHaveLength(1);
      expect(
        (
          await queryAudit(store.db, DEFAULT_ORG_ID, {
            siteIds: [made[0]?.id as string, made[1]?.id as string],
          })
        ).items,
      ).toHaveLength(2);
      expect((await queryAudit(store.db, DEFAULT_ORG_ID, { targetType: 'user' })).items).toHaveLength(1);
      expect(
        (await queryAudit(store.db, DEFAULT_ORG_ID, { from: new Date(Date.now() + 60_000) })).items,
      ).toEqual([]);
      expect((await domainError(queryAudit(store.db, DEFAULT_ORG_ID, { limit: 501 }))).field).toBe('limit');
      expect(
        (await domainError(queryAudit(store.db, DEFAULT_ORG_ID, { outcome: 'meh' as never }))).field,
      ).toBe('outcome');
    });

    it('redacts secrets in before/after', async () => {
      const user = await createUser(ctx, { username: 'walt', password: PASSWORD });
      await inTransaction(ctx, async (tx) => {
        const { record } = await import('../../src/audit/record.ts');
        await record(tx.db, {
          orgId: tx.orgId,
          actor: tx.actor,
          action: 'gateway.update',
          targetType: 'gateway',
          targetId: user.id,
          before: { host: 'fw1', apiKey: 'old-key-123' },
          after: { host: 'fw1', api_key: 'new-key-456', nested: { privateKey: 'pem' } },
        });
      });
      const [entry] = (await queryAudit(store.db, DEFAULT_ORG_ID, { action: 'gateway.update' })).items;
      expect(entry?.before).toEqual({ host: 'fw1', apiKey: '[redacted]' });
      expect(entry?.after).toEqual({
        host: 'fw1',
        api_key: '[redacted]',
        nested: { privateKey: '[redacted]' },
      });
    });
  });

  describe('key rotation', () => {
    it('re-encrypts TOTP secrets under the new key; sign-in with TOTP keeps working', async () => {
      const { mkdtempSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const path = await import('node:path');
      const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-keys-'));
      try {
        const keyring = Keyring.load(dir, {});
        const kctx = { ...ctx, keyring };
        const user = await createUser(kctx, { username: 'xena', password: PASSWORD });
        const { secret } = await beginTotpEnrollment(kctx, user.id);
        await confirmTotpEnrollment(kctx, user.id, totpCode(secret, clock));
        const oldKid = keyring.activeKid;
        const newKid = keyring.rotate();
        const report = await reencryptAll(store.db, keyring);
        expect(report.columns['users.totp_secret_enc']).toBe(1);
        expect(report.total).toBe(1);
        const [row] = await store.query<{ totp_secret_enc: string }>('select totp_secret_enc from users');
        expect(row?.totp_secret_enc.startsWith(`v1.${newKid}.`)).toBe(true);
        expect(newKid).not.toBe(oldKid);
        expect((await reencryptAll(store.db, keyring)).total).toBe(0);
        clock = new Date(clock.getTime() + 30_000);
        // A keyring re-read from disk (as after a restart) opens the re-encrypted secret.
        await login(
          { ...ctx, keyring: Keyring.load(dir, {}) },
          { username: 'xena', password: PASSWORD, totpCode: totpCode(secret, clock) },
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
