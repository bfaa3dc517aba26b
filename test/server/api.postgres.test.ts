/** @module The HTTP API suites on PostgreSQL (skipped, saying why, when no server is available). */
import { describe } from 'vitest';
import { storeKinds } from '../helpers/store.ts';
import { runAccessSuite } from './access.case.test.ts';
import { runAuditSuite } from './audit.case.test.ts';
import { runAuthSuite } from './auth.case.test.ts';
import { runConventionsSuite } from './conventions.case.test.ts';

const postgres = storeKinds().find((k) => k.kind === 'postgres');
const skipped = postgres?.skipReason ? ` — ${postgres.skipReason}` : '';

describe.skipIf(!postgres?.available)(`HTTP auth on PostgreSQL${skipped}`, () => runAuthSuite('postgres'));
describe.skipIf(!postgres?.available)(`HTTP access control on PostgreSQL${skipped}`, () =>
  runAccessSuite('postgres'),
);
describe.skipIf(!postgres?.available)(`HTTP conventions on PostgreSQL${skipped}`, () =>
  runConventionsSuite('postgres'),
);
describe.skipIf(!postgres?.available)(`HTTP audit on PostgreSQL${skipped}`, () => runAuditSuite('postgres'));
