/** @module The HTTP API suites on embedded PGlite. */
import { describe } from 'vitest';
import { runAuthSuite } from './auth.case.test.ts';

describe('HTTP auth on PGlite', () => runAuthSuite('pglite'));
