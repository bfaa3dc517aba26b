/** @module The HTTP API suites on embedded PGlite. */
import { describe } from 'vitest';
import { runAccessSuite } from './access.case.test.ts';
import { runAuditSuite } from './audit.case.test.ts';
import { runAuthSuite } from './auth.case.test.ts';
import { runConventionsSuite } from './conventions.case.test.ts';

describe('HTTP auth on PGlite', () => runAuthSuite('pglite'));
describe('HTTP access control on PGlite', () => runAccessSuite('pglite'));
describe('HTTP conventions on PGlite', () => runConventionsSuite('pglite'));
describe('HTTP audit on PGlite', () => runAuditSuite('pglite'));
