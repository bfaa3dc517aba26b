/** @module The access-request suite on embedded PGlite. */
import { runRequestsSuite } from './requests.case.test.ts';

runRequestsSuite('pglite');
