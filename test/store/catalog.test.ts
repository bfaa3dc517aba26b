/** @module The permission catalog, the built-in roles and the encrypted-column registry stay complete. */
import { getTableColumns, getTableName } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS, BUILTIN_ROLES, PERMISSIONS } from '../../src/identity/permissions.ts';
import { ENCRYPTED_COLUMNS } from '../../src/secrets/registry.ts';
import * as schema from '../../src/store/schema/index.ts';

// The seed's firewall codes that routes check (docs/reference/freesdn-firewall-module.md §20), the site codes,
// the access/users/audit codes of issue 2, and `cluster.view` of issue 13 (docs/scale-out.md). Codes no route checks are not in the catalog (issue 8;
// test/server/access.case.test.ts).
const REQUIRED = [
  'firewall.view',
  'firewall.manage_rules',
  'firewall.manage_nat',
  'firewall.manage_vpn',
  'firewall.manage_ids',
  'firewall.view_logs',
  'firewall.admin',
  'gateway.view',
  'gateway.manage_topology',
  'gateway.drift',
  'gateway.import',
  // Orchestration's canonical state (issue 14, docs/orchestration.md).
  'gateway.manage_vlans',
  'gateway.manage_dhcp',
  'gateway.manage_dns',
  'gateway.distribute',
  'access.view',
  'access.manage_knocs',
  'access.grant',
  'access.admin_grant',
  'users.manage',
  'audit.view',
  'cluster.view',
];

const role = (name: string) => new Set(BUILTIN_ROLES.find((r) => r.name === name)?.permissions ?? []);

describe('permission catalog', () => {
  it.each(REQUIRED)('has %s with a description', (code) => {
    expect(PERMISSIONS[code as keyof typeof PERMISSIONS]?.length).toBeGreaterThan(10);
  });

  it('has nothing beyond the required codes (new codes are added here deliberately)', () => {
    expect([...ALL_PERMISSIONS].sort()).toEqual([...REQUIRED].sort());
  });

  it('nests the built-in roles: viewer ⊂ operator ⊂ admin ⊂ owner = everything', () => {
    const chain = ['viewer', 'operator', 'admin', 'owner'].map(role);
    for (let i = 1; i < chain.length; i++) {
      const [smaller, larger] = [chain[i - 1] as Set<string>, chain[i] as Set<string>];
      expect([...smaller].filter((p) => !larger.has(p))).toEqual([]);
      expect(larger.size).toBeGreaterThan(smaller.size);
    }
    expect([...role('owner')].sort()).toEqual([...ALL_PERMISSIONS].sort());
  });

  it.each([
    { permission: 'users.manage', holders: ['owner'] },
    { permission: 'firewall.admin', holders: ['admin', 'owner'] },
    { permission: 'firewall.manage_rules', holders: ['operator', 'admin', 'owner'] },
    { permission: 'firewall.view', holders: ['viewer', 'operator', 'admin', 'owner'] },
  ])('$permission is held by $holders', ({ permission, holders }) => {
    expect(
      BUILTIN_ROLES.filter((r) => (r.permissions as string[]).includes(permission)).map((r) => r.name),
    ).toEqual(holders);
  });
});

describe('encrypted-column registry', () => {
  it('lists every *_enc column of the schema, so key rotation reaches every secret', () => {
    const inSchema = (Object.values(schema) as unknown[])
      .filter((value): value is PgTable => value instanceof PgTable)
      .flatMap((table) =>
        Object.values(getTableColumns(table))
          .filter((column) => column.name.endsWith('_enc'))
          .map((column) => `${getTableName(table)}.${column.name}`),
      );
    const registered = ENCRYPTED_COLUMNS.map((entry) => `${getTableName(entry.table)}.${entry.column.name}`);
    expect(inSchema.length).toBeGreaterThan(0);
    expect(registered.sort()).toEqual(inSchema.sort());
  });
});
